"""Shipped test support for people who build on creditmgmt.

- `builders`: tiny readable constructors (`M("1000.00 CNY")`, `a_customer()`, `a_facility()`,
  `a_facility_tree()`).
- `strategies`: Hypothesis strategies for every public domain type (valid objects, keyword
  bounds) and whole books; `st.from_type(T)` uses them through Hypothesis's entry point.
- `rulesets`: valid rule-set documents of every block kind, and single-edit defects with the
  finding code `check()` must report.
- `policies`: monotonicity and bound properties a policy team runs on its own rule set.
- `lifecycle`: a Hypothesis state machine of the facility limit tree.
- `conformance`: the storage conformance contracts every adapter passes.

Needs the `testing` extra (hypothesis, pytest). Importing this package imports none of them;
the submodules do.
"""
