"""The rule-set facade: `RuleSet` and `load_ruleset`, over the pipeline of POLICIES.md.

load (`loader`) -> check (`checks`) -> compile (`table_index` at load, `compiler` on first use)
-> evaluate (the generated evaluators; `reference` for traces and every unusual case) ->
explain (`decision`: the `Decision` and its `Trace`). Versions and impact (`registry`,
`impact`) build on this module.

Each block gets an evaluator (`RuleSet.evaluator`), generated on first use: one Python
function that reads and type-checks the inputs inline, matches (returning a `Decision` built
once per table row) or computes (formula trees inlined, lookups as direct calls) and returns
the decision. It decides the ordinary cases; anything else goes to the reference path
(`RuleSet._evaluate`, also used for traces), which defines the results and the errors.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.checks import check_document
from creditmgmt.policies.compiler import BlockCompiler
from creditmgmt.policies.decision import Decision, Trace
from creditmgmt.policies.errors import PolicyCheckError, PolicyEvaluationError
from creditmgmt.policies.formula import exact_context
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.reference import ReferenceEvaluator, scaled_pd, scaling_constants
from creditmgmt.policies.table_index import INDEX_THRESHOLD, Matcher

__all__ = [
    "INDEX_THRESHOLD",
    "Decision",
    "RuleSet",
    "Trace",
    "load_ruleset",
    "scaled_pd",
    "scaling_constants",
]


class RuleSet:
    """A loaded, compiled rule set. Load with `load_ruleset(...)` or `builtin_ruleset(name)`."""

    def __init__(self, document: m.RuleSetDocument) -> None:
        self.document = document
        self._ref = document.ref
        # the reference path, with each table's matcher (generated code or index), built now
        self._reference = ReferenceEvaluator(document)
        self._matchers: Mapping[str, Matcher] = self._reference.matchers
        # per block: its compiled evaluator (see `evaluator`), built on first use
        self._fast: dict[str, Callable[[Mapping[str, Any]], Decision]] = {}
        # per block that formulas look up: its evaluator taking the inputs positionally
        self._inner: dict[tuple[str, str, frozenset[int]], Callable[..., Any]] = {}

    # identity -----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.document.id

    @property
    def version(self) -> str:
        return self.document.version

    @property
    def ref(self) -> str:
        return self._ref

    @property
    def status(self) -> str:
        return self.document.status

    @property
    def blocks(self) -> Mapping[str, m.Block]:
        return self.document.blocks

    def __repr__(self) -> str:
        return f"RuleSet({self.ref!r})"

    def check(self) -> list[m.Finding]:
        """Every problem found in the document (see `creditmgmt.policies.checks`)."""
        return check_document(self.document)

    # evaluation ---------------------------------------------------------------------------
    def evaluate(
        self, block_id: str, inputs: Mapping[str, Any], *, trace: bool = False
    ) -> Decision:
        """Evaluate a block.

        Without a trace this runs the block's compiled evaluator (see `evaluator`); with
        `trace=True` the reference path, which also records inputs, matched cells and
        intermediate values. Both give the same outputs, matched ids and errors.

        Raises:
            PolicyInputError: unknown block; missing, extra or mistyped inputs (names them).
            PolicyEvaluationError: no or several matches under UNIQUE, division by zero ...
        """
        if not trace:
            fast = self._fast.get(block_id)
            if fast is not None:
                return fast(inputs)
            if block_id in self.document.blocks:
                return self.evaluator(block_id)(inputs)
        return self._evaluate(block_id, inputs, trace)

    def evaluator(self, block_id: str) -> Callable[[Mapping[str, Any]], Decision]:
        """The compiled evaluator of a block: `fn(inputs) -> Decision`, the same as
        `evaluate(block_id, inputs)` without a trace, minus the block look-up — for batch
        runs that evaluate one block over many records::

            classify = rules.evaluator("classification")
            categories = [classify({"dpd": loan.dpd})["category"] for loan in book]

        The evaluator is one Python function generated for the block from its parsed form
        (constants passed by reference, never user text): it reads and type-checks the
        inputs, matches or computes, and returns a `Decision` — for a table row whose outputs
        are constants, one built once for that row. Anything out of the ordinary (an input
        that needs conversion to its declared type is converted in place; a missing, extra
        or invalid input, no match, an arithmetic error, a mapping that is not a `dict`)
        is handed to the reference path, which makes the same decision or raises the exact
        error. Compiled on first use; thread-safe.

        Raises:
            PolicyInputError: the rule set has no such block. (The evaluator raises what
                `evaluate` raises.)
        """
        fast = self._fast.get(block_id)
        if fast is None:
            block = self._reference.block(block_id)
            if self.document.formula_errors:
                self._refuse_broken(block)

            def slow(given: Mapping[str, Any]) -> Decision:
                # looked up on each call: the reference path as this rule set has it now
                return self._evaluate(block_id, given, False)

            fast = BlockCompiler(self._reference, block, self._inner_of).fast(slow)
            self._fast[block_id] = fast
        return fast

    def evaluate_many(self, block_id: str, records: Iterable[Mapping[str, Any]]) -> list[Decision]:
        """`[evaluate(block_id, r) for r in records]`, for batch runs: the block's evaluator
        is looked up once, and for a formula or trigger set (whose expressions compute in
        the exact 34-digit decimal context) that context is entered once for the whole batch
        instead of once per record. `records` is read first, under the caller's context,
        which is back in place when this returns or raises.

        Raises:
            PolicyInputError, PolicyEvaluationError: as `evaluate`, for the first record
                that fails (no decisions are returned then).
        """
        fn = self.evaluator(block_id)
        batch = list(records)
        if not isinstance(self.document.blocks[block_id], m.Formula | m.TriggerSet):
            return [fn(r) for r in batch]  # (other kinds compute in the caller's context)
        previous = decimal.getcontext()
        decimal.setcontext(exact_context())
        try:
            return [fn(r) for r in batch]
        finally:
            decimal.setcontext(previous)

    def _refuse_broken(self, block: m.Block) -> None:
        """Raise if `block`, or a block it looks up, has a formula that did not compile (a
        lenient load only: see `loader.read_document`)."""
        seen: set[str] = set()
        todo = [block.id]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            errors = self.document.formula_errors.get(current)
            if errors:
                via = "" if current == block.id else f" (it looks up block {current})"
                raise PolicyEvaluationError(
                    f"block {block.id} cannot be evaluated{via}: {errors[0]}"
                )
            target = self.document.blocks.get(current)
            if isinstance(target, m.Formula):
                exprs = (*target.lets, *target.expressions)
                todo.extend(lk.block for _n, e in exprs for lk in e.lookups)
            elif isinstance(target, m.TriggerSet):
                todo.extend(lk.block for t in target.triggers for lk in t.expr.lookups)

    def _inner_of(self, block: m.Block, output: str, trusted: frozenset[int]) -> Callable[..., Any]:
        """The evaluator of `block` returning `output`, for lookups from generated formulas."""
        key = (block.id, output, trusted)
        inner = self._inner.get(key)
        if inner is None:
            inner = BlockCompiler(self._reference, block, self._inner_of, output, trusted).inner()
            self._inner[key] = inner
        return inner

    def _evaluate(self, block_id: str, inputs: Mapping[str, Any], trace: bool) -> Decision:
        """The reference path (see `creditmgmt.policies.reference`)."""
        if self.document.formula_errors:
            self._refuse_broken(self._reference.block(block_id))
        return self._reference.evaluate(block_id, inputs, trace)


def load_ruleset(path_or_text: str | Path, *, source_name: str | None = None) -> RuleSet:
    """Load, check and compile a rule set from a YAML/JSON file path or from document text.

    A document with status `approved` must pass its own `check()` without error findings.

    Raises:
        PolicyLoadError: the text cannot be read or does not follow the schema; the message
            starts with file:line:column and says what was expected.
        PolicyCheckError: the document is `approved` but `check()` found errors
            (`.findings` lists every finding, each with its file:line).
    """
    ruleset = RuleSet(read_document(path_or_text, source_name=source_name))
    if ruleset.status == "approved":
        errors = [f for f in ruleset.check() if f.severity == "error"]
        if errors:
            listing = "\n".join(f"  {f}" for f in errors)
            raise PolicyCheckError(
                f"approved rule set {ruleset.ref} has {len(errors)} error finding(s):\n{listing}",
                errors,
            )
    return ruleset
