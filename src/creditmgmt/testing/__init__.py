"""Shipped test support for people who build on creditmgmt.

- `builders`: tiny readable constructors (`M("1000.00 CNY")`, `a_customer()`, `a_facility_tree()`).
- `book`: a deterministic synthetic credit book of any size, streamed in chunks (`BookSpec`,
  `generate`, `load`).
- `strategies`: Hypothesis strategies for every public domain type (valid objects).
- `lifecycle`: a Hypothesis state machine of the facility limit tree.
- `conformance`: the storage conformance contracts every adapter passes.

Needs the `testing` extra (hypothesis, pytest). Importing this package imports none of them;
the submodules do.
"""
