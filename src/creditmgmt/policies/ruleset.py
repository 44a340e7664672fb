"""Compiled rule sets: evaluate a block on inputs, with the matched rules and, on request, a trace.

Decision tables of up to 64 rows are compiled into generated Python functions (built from the
parsed cells: constants are referenced by index, inputs by position — no user text is ever
evaluated). Larger tables get an index: for each input, a bisect over all cell boundaries (or
a value map for enums) yields a bitset of candidate rows; the AND of those bitsets is the set
of matching rows, so cost grows with log(boundaries), not with rows.

Each block also gets an evaluator (`RuleSet.evaluator`), generated on first use: one Python
function that reads and type-checks the inputs inline, matches (returning a `Decision` built
once per table row) or computes (formula trees inlined, lookups as direct calls) and returns
the decision. It decides the ordinary cases; anything else goes to the reference path
(`RuleSet._evaluate`, also used for traces), which defines the results and the errors.
"""

from __future__ import annotations

import ast
import bisect
import copy
import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from creditmgmt.domain.money import Money
from creditmgmt.policies import model as m
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.errors import PolicyCheckError, PolicyEvaluationError, PolicyInputError
from creditmgmt.policies.formula import _FUNCS, Expr, _exact_context
from creditmgmt.policies.formula import _THREAD as _FORMULA_THREAD
from creditmgmt.policies.formula import evaluate as evaluate_expr

INDEX_THRESHOLD = 64


@attrs.frozen
class Trace:
    """What a decision saw and did: inputs, matched cells, intermediate values, lookups."""

    block: str
    inputs: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]


class Decision:
    """The result of evaluating one block: `block`, `outputs` (a read-only mapping),
    `matched` (the deciding rule ids), `ruleset_ref` and `trace` (None unless requested).

    Immutable: the attributes cannot be set and `outputs` cannot be changed (take
    `dict(decision.outputs)` for a copy to edit). Decisions of constant table rows are built
    once and shared, which is why nothing about them may change. `decision[name]` is
    `decision.outputs[name]` (raises KeyError for an unknown output).
    """

    __slots__ = ("_block", "_matched", "_outputs", "_ruleset_ref", "_trace")

    def __init__(
        self,
        block: str,
        outputs: Mapping[str, Any],
        matched: tuple[str, ...],
        ruleset_ref: str,
        trace: Trace | None = None,
    ) -> None:
        self._block = block
        self._outputs = _frozen(outputs)
        self._matched = matched
        self._ruleset_ref = ruleset_ref
        self._trace = trace

    # read-only views of the slots (a C-level getter: nearly as cheap as a plain slot)
    block: str = property(attrgetter("_block"))  # type: ignore[assignment]
    outputs: Mapping[str, Any] = property(attrgetter("_outputs"))  # type: ignore[assignment]
    matched: tuple[str, ...] = property(attrgetter("_matched"))  # type: ignore[assignment]
    ruleset_ref: str = property(attrgetter("_ruleset_ref"))  # type: ignore[assignment]
    trace: Trace | None = property(attrgetter("_trace"))  # type: ignore[assignment]

    def __getitem__(self, name: str) -> Any:
        return self._outputs[name]

    def _fields(self) -> tuple[Any, ...]:
        return (self._block, self._outputs, self._matched, self._ruleset_ref, self._trace)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Decision:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # outputs is a mapping, as before

    def __repr__(self) -> str:
        return (
            f"Decision(block={self._block!r}, outputs={dict(self._outputs)!r}, "
            f"matched={self._matched!r}, ruleset_ref={self._ruleset_ref!r}, "
            f"trace={self._trace!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy: the outputs travel as a plain dict and are frozen again
        return (
            Decision,
            (self._block, dict(self._outputs), self._matched, self._ruleset_ref, self._trace),
        )


def _frozen(outputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a private copy of `outputs`."""
    return MappingProxyType(dict(outputs))


# input coercion ----------------------------------------------------------------------------
def _coerce(spec: m.InputSpec, value: Any, block: str) -> Any:
    # fast paths: a value already of the declared type (numbers within their bounds) is used
    # as is — the same result the conversions below give, without their cost
    kind = type(value)
    t = spec.type
    if (kind is int and t == "int") or (
        kind is Decimal and t in ("decimal", "money") and value.is_finite()
    ):
        if (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max):
            return value
    elif (
        (kind is str and (t == "string" or (t == "enum" and value in spec.values)))
        or (kind is bool and t == "bool")
        or (kind is date and t == "date")
    ):
        return value
    where = f"block {block}: input {spec.name}"
    if value is None:
        if spec.nullable:
            return None
        raise PolicyInputError(f"{where} may not be missing (None)")
    t = spec.type
    if isinstance(value, float):
        raise PolicyInputError(f"{where}: {value!r} is a float; pass a str, int or Decimal")
    try:
        if t == "int":
            if isinstance(value, bool):
                raise TypeError
            result: Any = int(value) if isinstance(value, int) else int(str(value).strip())
        elif t in ("decimal", "money"):
            if isinstance(value, Money):
                result = value.amount
            elif isinstance(value, bool):
                raise TypeError
            else:
                result = (
                    Decimal(str(value).strip().replace(",", ""))
                    if not isinstance(value, Decimal)
                    else value
                )
                if not result.is_finite():
                    raise TypeError
        elif t == "bool":
            if isinstance(value, bool):
                result = value
            elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
                result = value.strip().lower() == "true"
            else:
                raise TypeError
        elif t == "date":
            if isinstance(value, datetime):  # a timestamp is not a business date
                raise TypeError
            result = value if isinstance(value, date) else date.fromisoformat(str(value))
        elif t == "enum":
            result = str(value.value) if hasattr(value, "value") else str(value)
            if result not in spec.values:
                raise PolicyInputError(
                    f"{where}: {result!r} is not one of {', '.join(spec.values)}"
                )
        else:
            if not isinstance(value, str):
                raise TypeError
            result = value
    except PolicyInputError:
        raise
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise PolicyInputError(f"{where}: {value!r} is not a valid {t}") from None
    if t in ("int", "decimal", "money"):
        if spec.min is not None and result < spec.min:
            raise PolicyInputError(f"{where}: {result} is below the minimum {spec.min}")
        if spec.max is not None and result > spec.max:
            raise PolicyInputError(f"{where}: {result} is above the maximum {spec.max}")
    return result


# decision tables ---------------------------------------------------------------------------
def _cell_source(
    cell: Cell,
    arg: str,
    consts: list[Any] | Callable[[Any], str],
    int_input: bool = False,
    nullable: bool = True,
) -> str | None:
    """Python source testing `arg` against `cell`, or None for `-`. Constants go into
    `consts` (referenced as `_c[i]`) or through a naming function; the only literals written
    are ints made from parsed integral bounds. `nullable=False` (the input is never None
    after its checks) drops the None guard of ranges."""

    def const(v: Any) -> str:
        if int_input and isinstance(v, Decimal) and v == v.to_integral_value():
            # an int literal (made from the parsed number, not from user text): int-to-int
            # comparisons are several times faster than int-to-Decimal ones
            return str(int(v))
        if callable(consts):
            return consts(v)
        consts.append(v)
        return f"_c[{len(consts) - 1}]"

    if cell.kind == "any":
        return None
    if cell.kind == "missing":
        return f"{arg} is None"
    if cell.kind == "set":
        return f"{arg} in {const(frozenset(cell.values))}"
    if cell.kind == "not":
        assert cell.inner is not None
        inner = _cell_source(cell.inner, arg, consts, int_input, nullable) or "True"
        return f"({arg} is not None and not ({inner}))"
    parts = [f"{arg} is not None"] if nullable else []
    chain = arg
    if cell.low is not None:
        chain = f"{const(cell.low)} {'<=' if cell.low_closed else '<'} {chain}"
    if cell.high is not None:
        chain = f"{chain} {'<=' if cell.high_closed else '<'} {const(cell.high)}"
    if chain != arg:
        parts.append(chain)
    return "(" + " and ".join(parts) + ")" if parts else "True"


def _cells_disjoint(a: Cell, b: Cell) -> bool:
    """True when no value can match both cells (False when unsure)."""
    if a.kind == "any" or b.kind == "any":
        return False
    if a.kind == "missing" or b.kind == "missing":
        other = b if a.kind == "missing" else a
        if other.kind in ("range", "not"):
            return True  # both test `is not None` first
        return other.kind == "set" and None not in other.values
    try:
        if a.kind == "set" and b.kind == "set":
            return not set(a.values) & set(b.values)
        if a.kind == "range" and b.kind == "range":
            return _below_range(a, b) or _below_range(b, a)
    except TypeError:
        return False
    return False


def _below_range(a: Cell, b: Cell) -> bool:
    """Every value of range `a` lies below every value of range `b`."""
    high: Any = a.high
    low: Any = b.low
    if high is None or low is None:
        return False
    return bool(high < low or (high == low and not (a.high_closed and b.low_closed)))


def _rules_disjoint(table: m.DecisionTable) -> bool:
    """No two rows of `table` can match one input (proved column by column; False when
    unsure): a UNIQUE table may then stop at the first matching row."""
    rows = [[r.cell(n) for n in table.inputs] for r in table.rules]
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if not any(_cells_disjoint(x, y) for x, y in zip(a, b, strict=True)):
                return False
    return True


def _generated_matcher(
    table: m.DecisionTable, spec_types: Sequence[str] = ()
) -> Callable[[Sequence[Any]], list[int]]:
    consts: list[Any] = []
    ints = [i < len(spec_types) and spec_types[i] == "int" for i in range(len(table.inputs))]
    args = [f"a{i}" for i in range(len(table.inputs))]
    lines = [f"def _match({', '.join(args) or '_unused=None'}):"]
    first = table.hit_policy == "FIRST"
    if not first:
        lines.append("    m = []")
    for r_index, rule in enumerate(table.rules):
        conds = [
            c
            for i, name in enumerate(table.inputs)
            if (c := _cell_source(rule.cell(name), args[i], consts, ints[i])) is not None
        ]
        test = " and ".join(conds) or "True"
        action = f"return [{r_index}]" if first else f"m.append({r_index})"
        lines.append(f"    if {test}:\n        {action}")
    lines.append("    return []" if first else "    return m")
    namespace: dict[str, Any] = {"_c": tuple(consts), "__builtins__": {}}
    exec(compile("\n".join(lines), f"<decision table {table.id}>", "exec"), namespace)
    fn = namespace["_match"]

    def match(values: Sequence[Any]) -> list[int]:
        try:
            return fn(*values)  # type: ignore[no-any-return]
        except TypeError as e:
            raise PolicyEvaluationError(f"block {table.id}: incomparable input: {e}") from e

    return match


class _ColumnIndex:
    """Per-input bitsets: which rows a value of this input can match."""

    def __init__(self, cells: list[Cell], input_type: str) -> None:
        self.all = (1 << len(cells)) - 1
        self.numeric = input_type in ("int", "decimal", "money", "date")
        self.missing_bits = self._bits(cells, None)
        if self.numeric:
            bounds = sorted({b for c in cells for b in _bounds(c) if b is not None})
            self.bounds = bounds
            reps: list[Any] = []
            for i, b in enumerate(bounds):
                reps.append(_below(b) if i == 0 else _between(bounds[i - 1], b))
                reps.append(b)
            reps.append(_above(bounds[-1]) if bounds else Decimal(0))
            self.pieces = self._sweep(cells, bounds, reps)
            if input_type == "int" and all(
                isinstance(b, Decimal) and b == b.to_integral_value() for b in bounds
            ):
                # int values bisect int bounds several times faster than Decimal ones
                self.bounds = [int(b) for b in bounds]
        else:
            values = {v for c in cells for v in _values(c)}
            self.by_value = {v: self._bits(cells, v) for v in values}
            self.other = self._bits(cells, _Unseen())

    @staticmethod
    def _sweep(cells: list[Cell], bounds: list[Any], reps: list[Any]) -> list[int]:
        """The bitset of every piece, in one pass: an interval covers a run of pieces
        (piece 2k+1 is bounds[k], piece 2k lies just below it), so each row is switched on
        where its run starts and off after it ends — O(rows + pieces) big-int operations
        instead of testing every cell against every piece."""
        starts: list[int] = [0] * len(reps)
        stops: list[int] = [0] * (len(reps) + 1)
        always = 0
        others: list[tuple[int, Cell]] = []
        for i, c in enumerate(cells):
            if c.kind == "any":
                always |= 1 << i
            elif c.kind == "range":
                lo = 0
                if c.low is not None:
                    k = bisect.bisect_left(bounds, c.low)
                    lo = 2 * k + 1 if c.low_closed else 2 * k + 2
                hi = len(reps) - 1
                if c.high is not None:
                    k = bisect.bisect_left(bounds, c.high)
                    hi = 2 * k + 1 if c.high_closed else 2 * k
                if lo <= hi:
                    starts[lo] |= 1 << i
                    stops[hi + 1] |= 1 << i
            elif c.kind != "missing":
                others.append((i, c))
        pieces = []
        current = 0
        for j, rep in enumerate(reps):
            current = (current & ~stops[j]) | starts[j]
            bits = current | always
            for i, c in others:
                try:
                    if c.matches(rep):
                        bits |= 1 << i
                except TypeError:
                    pass
            pieces.append(bits)
        return pieces

    @staticmethod
    def _bits(cells: list[Cell], value: Any) -> int:
        bits = 0
        for i, c in enumerate(cells):
            try:
                hit = c.matches(value)
            except TypeError:
                hit = False
            if hit:
                bits |= 1 << i
        return bits

    def lookup(self, value: Any) -> int:
        if value is None:
            return self.missing_bits
        if self.numeric:
            i = bisect.bisect_left(self.bounds, value)
            exact = i < len(self.bounds) and self.bounds[i] == value
            return self.pieces[2 * i + (1 if exact else 0)]
        return self.by_value.get(value, self.other)


class _Unseen:
    """A value equal to nothing a cell names."""

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


def _bounds(c: Cell) -> list[Any]:
    if c.kind == "not" and c.inner is not None:
        return _bounds(c.inner)
    return [c.low, c.high] if c.kind == "range" else []


def _values(c: Cell) -> list[Any]:
    if c.kind == "not" and c.inner is not None:
        return _values(c.inner)
    return list(c.values) if c.kind == "set" else []


def _below(b: Any) -> Any:
    return b - (Decimal(1) if not isinstance(b, date) else _day())


def _above(b: Any) -> Any:
    return b + (Decimal(1) if not isinstance(b, date) else _day())


def _between(a: Any, b: Any) -> Any:
    if isinstance(a, date):
        return a + _day() if a + _day() < b else a
    return (Decimal(a) + Decimal(b)) / 2


def _day() -> Any:
    from datetime import timedelta

    return timedelta(days=1)


def _indexed_matcher(
    table: m.DecisionTable, spec_types: list[str]
) -> Callable[[Sequence[Any]], list[int]]:
    columns = [
        _ColumnIndex([r.cell(name) for r in table.rules], spec_types[i])
        for i, name in enumerate(table.inputs)
    ]
    everything = (1 << len(table.rules)) - 1
    first = table.hit_policy == "FIRST"

    def match(values: Sequence[Any]) -> list[int]:
        bits = everything
        for col, v in zip(columns, values, strict=True):
            bits &= col.lookup(v)
            if not bits:
                return []
        if first:
            return [(bits & -bits).bit_length() - 1]
        if not bits & (bits - 1):  # exactly one row: the usual case of a UNIQUE table
            return [bits.bit_length() - 1]
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out

    return match


class RuleSet:
    """A loaded, compiled rule set. Load with `load_ruleset(...)` or `builtin_ruleset(name)`."""

    def __init__(self, document: m.RuleSetDocument) -> None:
        self.document = document
        self._ref = document.ref
        self._matchers: dict[str, Callable[[Sequence[Any]], list[int]]] = {}
        # per block: the set of its input names and (name, spec) pairs, for _inputs
        self._accepts = {b.id: frozenset(b.inputs) for b in document.blocks.values()}
        self._specs = {
            b.id: tuple((n, document.inputs[n]) for n in b.inputs) for b in document.blocks.values()
        }
        # formulas that call lookup(): the others skip building a lookup function
        self._with_lookups = {
            b.id
            for b in document.blocks.values()
            if isinstance(b, m.Formula) and any(e.lookups for _n, e in (*b.lets, *b.expressions))
        }
        # per block: its compiled evaluator (see `evaluator`), built on first use
        self._fast: dict[str, Callable[[Mapping[str, Any]], Decision]] = {}
        # per block that formulas look up: its evaluator taking the inputs positionally
        self._inner: dict[tuple[str, str, frozenset[int]], Callable[..., Any]] = {}
        # per table: each rule's outputs as a dict (copied per decision) and its id
        self._then: dict[str, list[tuple[dict[str, Any], str]]] = {}
        for block in document.blocks.values():
            if isinstance(block, m.DecisionTable):
                self._then[block.id] = [(dict(r.then), r.id) for r in block.rules]
                types = [document.inputs[n].type for n in block.inputs]
                self._matchers[block.id] = (
                    _indexed_matcher(block, types)
                    if len(block.rules) > INDEX_THRESHOLD
                    else _generated_matcher(block, types)
                )

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
        from creditmgmt.policies.checks import check_document

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
            block = self._block(block_id)
            fast = _BlockCompiler(self, block).fast()
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
        decimal.setcontext(_exact_context())
        try:
            return [fn(r) for r in batch]
        finally:
            decimal.setcontext(previous)

    def _block(self, block_id: str) -> m.Block:
        block = self.document.blocks.get(block_id)
        if block is None:
            raise PolicyInputError(
                f"rule set {self.ref} has no block {block_id!r} "
                f"(blocks: {', '.join(self.document.blocks)})"
            )
        return block

    def _inner_of(self, block: m.Block, output: str, trusted: frozenset[int]) -> Callable[..., Any]:
        key = (block.id, output, trusted)
        inner = self._inner.get(key)
        if inner is None:
            inner = _BlockCompiler(self, block, output, trusted).inner()
            self._inner[key] = inner
        return inner

    def _evaluate(self, block_id: str, inputs: Mapping[str, Any], trace: bool) -> Decision:
        """The reference path: every check in the open, a trace on request."""
        block = self._block(block_id)
        values = self._inputs(block, inputs)
        steps: list[Mapping[str, Any]] | None = [] if trace else None
        outputs, matched = self._run(block, values, steps)
        return Decision(
            block_id,
            outputs,
            tuple(matched),
            self._ref,
            Trace(block_id, dict(values), tuple(steps)) if steps is not None else None,
        )

    def _inputs(self, block: m.Block, given: Mapping[str, Any]) -> dict[str, Any]:
        if not self._accepts[block.id].issuperset(given):
            extra = [k for k in given if k not in block.inputs]
            raise PolicyInputError(
                f"block {block.id}: unexpected input(s) {', '.join(sorted(extra))}; "
                f"it takes {', '.join(block.inputs)}"
            )
        values: dict[str, Any] = {}
        for name, spec in self._specs[block.id]:
            if name in given:
                values[name] = _coerce(spec, given[name], block.id)
            elif spec.has_default:
                values[name] = _coerce(spec, spec.default, block.id)
            elif spec.nullable:
                values[name] = None
            else:
                raise PolicyInputError(f"block {block.id}: missing input {name}")
        return values

    def _run(
        self, block: m.Block, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        if type(block) is m.Formula:  # the common kinds first, without the isinstance chain
            return self._formula(block, v, steps)
        if isinstance(block, m.DecisionTable):
            return self._table(block, v, steps)
        if isinstance(block, m.Scorecard):
            return self._scorecard(block, v, steps)
        if isinstance(block, m.MasterScale):
            return self._scale(block, v, steps)
        if isinstance(block, m.ThresholdLadder):
            return self._ladder(block, v, steps)
        if isinstance(block, m.Matrix):
            return self._matrix(block, v, steps)
        if isinstance(block, m.Formula):
            return self._formula(block, v, steps)
        if isinstance(block, m.TriggerSet):
            return self._triggers(block, v, steps)
        raise PolicyEvaluationError(f"block {block.id}: kind {block.kind} cannot be evaluated")

    def _table(
        self, t: m.DecisionTable, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        hits = self._matchers[t.id]([v[n] for n in t.inputs])
        if steps is None and len(hits) == 1 and t.hit_policy != "COLLECT":
            then, rule_id = self._then[t.id][hits[0]]
            return then.copy(), [rule_id]
        rules = [t.rules[i] for i in hits]
        if steps is not None:
            for r in rules:
                steps.append(
                    {"rule": r.id, "cells": {n: c.text for n, c in r.when}, "line": r.loc.line}
                )
        ids = [r.id for r in rules]
        if t.hit_policy == "COLLECT":
            return self._collect(t, rules), ids
        if not rules:
            shown = ", ".join(f"{k}={v[k]!r}" for k in t.inputs)
            raise PolicyEvaluationError(f"block {t.id}: no rule matches {shown}")
        if t.hit_policy == "UNIQUE" and len(rules) > 1:
            raise PolicyEvaluationError(
                f"block {t.id}: rules {' and '.join(ids)} all match (hit policy UNIQUE)"
            )
        if t.hit_policy == "PRIORITY":

            def rank(r: m.Rule) -> tuple[int, ...]:
                then = dict(r.then)
                try:
                    return tuple(o.values.index(then[o.name]) for o in t.outputs)
                except ValueError:
                    raise PolicyEvaluationError(
                        f"block {t.id}: rule {r.id} gives a value that is not in the "
                        "declared order of its PRIORITY output"
                    ) from None

            winner = min(rules, key=rank)
            return dict(winner.then), ids
        return dict(rules[0].then), ids

    @staticmethod
    def _collect(t: m.DecisionTable, rules: list[m.Rule]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for o in t.outputs:
            values = [dict(r.then)[o.name] for r in rules]
            if t.aggregate is None:
                out[o.name] = tuple(values)
            elif t.aggregate == "COUNT":
                out[o.name] = len(values)
            elif not values and t.aggregate != "SUM":
                out[o.name] = None
            else:
                # check() reports non-numeric outputs; a draft evaluated anyway must still
                # fail with a policy error, not a raw decimal.InvalidOperation
                try:
                    numbers = [Decimal(x) for x in values]
                except (ArithmeticError, TypeError, ValueError):
                    raise PolicyEvaluationError(
                        f"block {t.id}: {t.aggregate} needs numeric outputs; "
                        f"{o.name} gave {values!r}"
                    ) from None
                if t.aggregate == "SUM":
                    out[o.name] = sum(numbers, Decimal(0))
                else:
                    out[o.name] = (min if t.aggregate == "MIN" else max)(numbers)
        return out

    def _scorecard(
        self, s: m.Scorecard, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        score = s.base_points
        matched: list[str] = []
        for ch in s.characteristics:
            value = v[ch.input]
            hit = next((b for b in ch.bins if b.cell.matches(value)), None)
            if hit is None:
                raise PolicyEvaluationError(f"block {s.id}: no bin of {ch.input} matches {value!r}")
            score += hit.points
            matched.append(f"{ch.input}={hit.cell.text}")
            if steps is not None:
                steps.append(
                    {"characteristic": ch.input, "bin": hit.cell.text, "points": hit.points}
                )
        out: dict[str, Any] = {"score": score}
        if s.scaling is not None:
            out["pd"] = scaled_pd(score, s.scaling)
            if steps is not None:
                steps.append({"score": score, "pd": out["pd"]})
        return out, matched

    def _scale(
        self, s: m.MasterScale, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        pd = v[s.input]
        if pd is None:
            raise PolicyEvaluationError(f"block {s.id}: no {s.input}")
        if s.floor is not None and pd < s.floor:
            pd = s.floor
        for g in s.grades:
            if (g.is_default and pd == g.lower) or (
                not g.is_default and g.upper is not None and g.lower <= pd < g.upper
            ):
                if steps is not None:
                    steps.append({"grade": g.grade, "pd_used": pd, "line": g.loc.line})
                return {s.output_name: g.grade}, [g.grade]
        raise PolicyEvaluationError(f"block {s.id}: {s.input} {pd} is on no band of the scale")

    def _ladder(
        self, ladder: m.ThresholdLadder, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        value = v[ladder.input]
        if value is None:
            raise PolicyEvaluationError(f"block {ladder.id}: {ladder.input} is missing")
        spec = self.document.inputs[ladder.input]
        key: Any = spec.values.index(value) if spec.type == "enum" else value
        starts = [
            spec.values.index(s.start) if spec.type == "enum" else s.start for s in ladder.steps
        ]
        i = bisect.bisect_right(starts, key) - 1
        if i < 0 or (
            ladder.domain_min is not None and spec.type != "enum" and value < ladder.domain_min
        ):
            raise PolicyEvaluationError(
                f"block {ladder.id}: {ladder.input} {value!r} is below the first step"
            )
        if ladder.domain_max is not None and spec.type != "enum" and value > ladder.domain_max:
            raise PolicyEvaluationError(
                f"block {ladder.id}: {ladder.input} {value!r} is above the domain "
                f"maximum {ladder.domain_max}"
            )
        step = ladder.steps[i]
        if steps is not None:
            steps.append({"step_from": step.start, "value": step.value, "line": step.loc.line})
        return {ladder.output_name: step.value}, [f"from {step.start}"]

    def _matrix(
        self, mx: m.Matrix, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        row = next((i for i, c in enumerate(mx.row_cells) if c.matches(v[mx.row_input])), None)
        col = next((j for j, c in enumerate(mx.col_cells) if c.matches(v[mx.col_input])), None)
        if row is None or col is None:
            raise PolicyEvaluationError(
                f"block {mx.id}: no {'row' if row is None else 'column'} matches "
                f"{mx.row_input}={v[mx.row_input]!r}, {mx.col_input}={v[mx.col_input]!r}"
            )
        if steps is not None:
            steps.append({"row": mx.row_cells[row].text, "column": mx.col_cells[col].text})
        return {mx.output_name: mx.values[row][col]}, [f"r{row + 1}c{col + 1}"]

    def _lookup_fn(
        self, steps: list[Mapping[str, Any]] | None
    ) -> Callable[[str, str, dict[str, Any]], Any]:
        def lookup(block: str, output: str, args: dict[str, Any]) -> Any:
            # the target exists and takes exactly these inputs (checked at load time)
            target = self.document.blocks[block]
            inner: list[Mapping[str, Any]] | None = [] if steps is not None else None
            outputs, matched = self._run(target, self._inputs(target, args), inner)
            if steps is not None:
                steps.append(
                    {
                        "lookup": block,
                        "output": output,
                        "value": outputs[output],
                        "matched": tuple(matched),
                        "steps": tuple(inner or ()),
                    }
                )
            return outputs[output]

        return lookup

    def _formula(
        self, f: m.Formula, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        env = dict(v) if f.lets else v  # lets must not leak into the caller's values
        lookup = self._lookup_fn(steps) if f.id in self._with_lookups else _no_lookup
        for name, expr in f.lets:
            env[name] = evaluate_expr(expr, env, lookup, where=f"block {f.id} let {name}")
            if steps is not None:
                steps.append({"let": name, "value": env[name]})
        out: dict[str, Any] = {}
        for o, (name, expr) in zip(f.outputs, f.expressions, strict=True):
            value = evaluate_expr(expr, env, lookup, where=f"block {f.id} output {name}")
            if o.type == "int" and value is not None and not isinstance(value, bool):
                value = int(value)
            out[name] = value
            if steps is not None:
                steps.append({"output": name, "value": value})
        return out, []

    def _triggers(
        self, ts: m.TriggerSet, v: dict[str, Any], steps: list[Mapping[str, Any]] | None
    ) -> tuple[dict[str, Any], list[str]]:
        lookup = self._lookup_fn(steps)
        fired = []
        for t in ts.triggers:
            if evaluate_expr(t.expr, v, lookup, where=f"block {ts.id} trigger {t.id}"):
                fired.append({"id": t.id, "severity": t.severity, "reason": t.reason})
                if steps is not None:
                    steps.append({"trigger": t.id, "when": t.expr.text, "line": t.loc.line})
        order = ("none", *m.SEVERITIES)
        worst = max((f["severity"] for f in fired), key=order.index, default="none")
        return {"fired": tuple(fired), "severity": worst, "count": len(fired)}, [
            f["id"] for f in fired
        ]


# compiled evaluators --------------------------------------------------------------------------
class _Fallback(Exception):
    """Raised inside a compiled evaluator: this call goes to the reference path."""


class _CannotInline(Exception):
    """A formula expression the block compiler does not inline (it is called instead)."""


_MISSING = object()


def _fallback() -> Any:
    """Ends an inlined lookup that found no row: the reference path decides."""
    raise _Fallback


_BUILTINS: dict[str, Any] = {
    "type": type,
    "len": len,
    "dict": dict,
    "int": int,
    "bool": bool,
    "str": str,
    "min": min,
    "tuple": tuple,
    "Exception": Exception,
    "AttributeError": AttributeError,
}


class _BlockCompiler:
    """Generates the evaluator of one block (see `RuleSet.evaluator`).

    The generated source is made of our own identifiers only: every value taken from the
    document — input names, bounds, cell constants, prebuilt decisions — is a closure variable
    `_kN` bound by reference, and formula expressions are spliced in as their validated,
    rewritten trees (never as text). `fast()` takes the input mapping and returns a
    `Decision`; `inner()` takes the inputs positionally and returns one output's value, for
    `lookup(...)` calls from formulas.
    """

    def __init__(
        self,
        ruleset: RuleSet,
        block: m.Block,
        output: str | None = None,
        trusted: frozenset[int] = frozenset(),
    ) -> None:
        self.rs = ruleset
        self.block = block
        self.output = output  # inner(): the output whose value is returned
        self.trusted = trusted  # inner(): arguments already valid for their input
        self.specs = [ruleset.document.inputs[n] for n in block.inputs]
        self.params: list[str] = []
        self.values: list[Any] = []
        self.splices: dict[str, ast.expr] = {}
        self.temps = 0
        self.inputs: dict[str, str] = {}  # formula(): input name -> its local variable
        # formula(): variables and rewritten nodes known to hold a Decimal
        self.decimal_vars: set[str] = set()
        self.decimal_nodes: set[int] = set()

    def const(self, value: Any) -> str:
        name = f"_k{len(self.values)}"
        self.params.append(name)
        self.values.append(value)
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    # the two entry points ------------------------------------------------------------------
    def fast(self) -> Callable[[Mapping[str, Any]], Decision]:
        rs, block_id = self.rs, self.block.id

        def slow(given: Mapping[str, Any]) -> Decision:
            return rs._evaluate(block_id, given, False)

        fetch: list[str] = []
        checks: list[str] = []
        required = 0
        optional = False
        for i, spec in enumerate(self.specs):
            var, key = f"a{i}", self.const(spec.name)
            absent = self._absent_value(spec)
            if absent is _MISSING:
                required += 1
                fetch.append(f"{var} = g[{key}]")
                checks += self.check(var, spec)
                continue
            optional = True
            marker = self.const(_MISSING)
            fetch += [
                f"{var} = g.get({key}, {marker})",
                f"if {var} is {marker}:",
                f"    {var} = {self.const(absent)}",
                "else:",
                "    n += 1",
                *("    " + line for line in self.check(var, spec)),
            ]
        count = "n" if optional else str(required)
        body = [
            *([f"n = {required}"] if optional else []),
            *fetch,
            f"if len(g) != {count}:",
            "    raise _Fallback",
            *checks,
            *self.tail(),
        ]
        lines = [
            "def _fast(g):",
            "    if type(g) is dict:",
            "        try:",
            *("            " + line for line in body),
            "        except Exception:",
            "            pass",
            f"    return {self.const(slow)}(g)",
        ]
        return self._build(lines, "_fast")  # type: ignore[no-any-return]

    def inner(self) -> Callable[..., Any]:
        args = [f"a{i}" for i in range(len(self.specs))]
        checks = [
            line
            for i, s in enumerate(self.specs)
            if i not in self.trusted
            for line in self.check(args[i], s)
        ]
        lines = [
            f"def _inner({', '.join(args)}):",
            *("    " + line for line in [*checks, *self.tail()]),
        ]
        return self._build(lines, "_inner")  # type: ignore[no-any-return]

    def _build(self, lines: list[str], name: str) -> Any:
        source = "\n".join(
            [f"def _make({', '.join(['_Fallback', *self.params])}):"]
            + ["    " + line for line in lines]
            + [f"    return {name}"]
        )
        filename = f"<evaluator of block {self.block.id}>"
        if self.splices:  # formula trees go in place of their placeholder names
            module = _Splicer(self.splices).visit(ast.parse(source))
            ast.fix_missing_locations(module)
            code = compile(module, filename, "exec")
        else:
            code = compile(source, filename, "exec")
        namespace: dict[str, Any] = {"__builtins__": _BUILTINS}
        exec(code, namespace)
        return namespace["_make"](_Fallback, *self.values)

    # inputs ---------------------------------------------------------------------------------
    def _absent_value(self, spec: m.InputSpec) -> Any:
        """The value an absent input takes, or _MISSING when its absence is an error (or a
        default that does not convert: the reference path reports it)."""
        if spec.has_default:
            try:
                return _coerce(spec, spec.default, self.block.id)
            except PolicyInputError:
                return _MISSING
        return None if spec.nullable else _MISSING

    def check(self, var: str, spec: m.InputSpec) -> list[str]:
        """Lines that leave `var` valid for `spec`: a value already of the declared type and
        within bounds passes a cheap test, anything else goes through `_coerce` (which
        converts or raises the input error)."""
        t = spec.type
        tests: list[str]
        if t == "int":
            tests = [f"type({var}) is not int"]
        elif t in ("decimal", "money"):
            tests = [f"type({var}) is not {self.const(Decimal)}", f"not {var}.is_finite()"]
        elif t == "bool":
            tests = [f"type({var}) is not bool"]
        elif t == "date":
            tests = [f"type({var}) is not {self.const(date)}"]
        elif t == "string":
            tests = [f"type({var}) is not str"]
        elif t == "enum":
            tests = [
                f"type({var}) is not str",
                f"{var} not in {self.const(frozenset(spec.values))}",
            ]
        else:
            tests = ["True"]
        if t in ("int", "decimal", "money"):
            for bound, op in ((spec.min, "<"), (spec.max, ">")):
                if bound is not None:
                    tests.append(f"{var} {op} {self.number(bound, t == 'int')}")
        coerce = f"{self.const(_coerce)}({self.const(spec)}, {var}, {self.const(self.block.id)})"
        return [f"if {' or '.join(tests)}:", f"    {var} = {coerce}"]

    def number(self, value: Any, int_input: bool) -> str:
        if int_input and isinstance(value, Decimal) and value == value.to_integral_value():
            return str(int(value))  # from the parsed number, not from user text
        return self.const(value)

    # what the block computes ----------------------------------------------------------------
    def tail(self) -> list[str]:
        """Lines that compute the decision from the valid inputs a0..an and return it (or,
        for inner(), the output's value), or raise so that the reference path decides."""
        block = self.block
        if isinstance(block, m.DecisionTable) and block.hit_policy != "COLLECT":
            return self.table(block)
        try:
            if type(block) is m.Formula:
                return self.formula(block)
            if type(block) is m.TriggerSet:
                return self.trigger_set(block)
        except _CannotInline:
            pass
        if type(block) is m.Matrix:
            return self.matrix(block)
        if type(block) is m.ThresholdLadder:
            return self.ladder(block)
        if type(block) is m.MasterScale:
            return self.master_scale(block)
        return self.generic()

    def decision(self, outputs: str, matched: str) -> list[str]:
        """Lines returning a new Decision (slots filled directly: no __init__ call)."""
        if self.output is not None:
            return [f"return {outputs}[{self.const(self.output)}]"]
        return [
            f"d = {self.const(object.__new__)}({self.const(Decision)})",
            f"d._block = {self.const(self.block.id)}",
            f"d._outputs = {outputs}",
            f"d._matched = {matched}",
            f"d._ruleset_ref = {self.const(self.rs.ref)}",
            "d._trace = None",
            "return d",
        ]

    def generic(self) -> list[str]:
        rs, block = self.rs, self.block

        def run(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            return rs._run(block, values, None)

        values = ", ".join(f"{self.const(s.name)}: a{i}" for i, s in enumerate(self.specs))
        return [
            f"o, ids = {self.const(run)}({{{values}}})",
            *self.decision(f"{self.const(MappingProxyType)}(o)", "tuple(ids)"),
        ]

    def table(self, t: m.DecisionTable) -> list[str]:
        ref = self.rs.ref
        outputs = [MappingProxyType(dict(r.then)) for r in t.rules]
        results: list[Any]
        if self.output is None:
            results = [
                Decision(t.id, o, (r.id,), ref) for o, r in zip(outputs, t.rules, strict=True)
            ]
        elif all(self.output in o for o in outputs):
            results = [o[self.output] for o in outputs]
        else:
            return self.generic()  # the reference path reports the missing output
        ranks: list[tuple[int, ...]] | None = None
        if t.hit_policy == "PRIORITY":
            try:
                ranks = [
                    tuple(o.values.index(dict(r.then)[o.name]) for o in t.outputs) for r in t.rules
                ]
            except (ValueError, KeyError):
                return self.generic()  # the reference path reports the bad PRIORITY value
        lines: list[str] = []
        if len(t.rules) > INDEX_THRESHOLD:
            matcher = self.rs._matchers[t.id]  # the index built at load
            args = ", ".join(f"a{i}" for i in range(len(self.specs)))
            lines.append(f"h = {self.const(matcher)}([{args}])")
        else:
            ints = [s.type == "int" for s in self.specs]
            conds = [
                " and ".join(
                    c
                    for i, (name, spec) in enumerate(zip(t.inputs, self.specs, strict=True))
                    if (
                        c := _cell_source(
                            r.cell(name), f"a{i}", self.const, ints[i], nullable=spec.nullable
                        )
                    )
                    is not None
                )
                or "True"
                for r in t.rules
            ]
            if t.hit_policy == "FIRST" or (t.hit_policy == "UNIQUE" and _rules_disjoint(t)):
                # at most one row can match (or the first one decides): stop there
                for cond, result in zip(conds, results, strict=True):
                    lines += [f"if {cond}:", f"    return {self.const(result)}"]
                return [*lines, "raise _Fallback"]
            lines.append("h = []")
            for r_index, cond in enumerate(conds):
                lines += [f"if {cond}:", f"    h.append({r_index})"]
        every = self.const(tuple(results))
        if t.hit_policy == "FIRST":
            return [*lines, "if h:", f"    return {every}[h[0]]", "raise _Fallback"]
        lines += ["if len(h) == 1:", f"    return {every}[h[0]]"]
        if ranks is not None:
            ids = self.const(tuple(r.id for r in t.rules))
            winner = (
                f"{self.const(tuple(outputs))}[min(h, key={self.const(tuple(ranks))}.__getitem__)]"
            )
            lines += [
                "if h:",
                *("    " + line for line in self.decision(winner, f"tuple([{ids}[i] for i in h])")),
            ]
        return [*lines, "raise _Fallback"]

    def formula(self, f: m.Formula) -> list[str]:
        self.inputs.update({s.name: f"a{i}" for i, s in enumerate(self.specs)})
        self.decimal_vars.update(
            f"a{i}"
            for i, s in enumerate(self.specs)
            if s.type in ("decimal", "money") and not s.nullable
        )
        names = dict(self.inputs)
        computed: list[str] = []
        for j, (name, expr) in enumerate(f.lets):
            placeholder = self.splice(expr, names)
            computed.append(f"v{j} = {placeholder}")
            if self.is_decimal(self.splices[placeholder]):
                self.decimal_vars.add(f"v{j}")
            names = {**names, name: f"v{j}"}
        results: list[str] = []
        for j, (o, (_name, expr)) in enumerate(zip(f.outputs, f.expressions, strict=True)):
            var = f"r{j}"
            computed.append(f"{var} = {self.splice(expr, names)}")
            if o.type == "int":
                results.append(f"if {var} is not None and type({var}) is not bool:")
                results.append(f"    {var} = int({var})")
        if self.output is not None:
            chosen = [j for j, (name, _e) in enumerate(f.expressions) if name == self.output]
            if not chosen:
                raise _CannotInline(self.output)
            ending = [f"return r{chosen[0]}"]
        else:
            outputs = ", ".join(
                f"{self.const(name)}: r{j}" for j, (name, _e) in enumerate(f.expressions)
            )
            ending = self.decision(f"{self.const(MappingProxyType)}({{{outputs}}})", "()")
        return [*self.exact(computed), *results, *ending]

    def exact(self, computed: list[str]) -> list[str]:
        """`computed` run in this thread's exact decimal context (see formula.evaluate),
        switched to and back only when the caller is not already in it."""
        set_context = self.const(decimal.setcontext)
        return [
            f"p = {self.const(decimal.getcontext)}()",
            # this thread's exact context: formula._exact_context without the call
            "try:",
            f"    c = {self.const(_FORMULA_THREAD)}.context",
            "except AttributeError:",
            f"    c = {self.const(_exact_context)}()",
            "if p is not c:",
            f"    {set_context}(c)",
            "try:",
            *("    " + line for line in computed),
            "finally:",
            "    if p is not c:",
            f"        {set_context}(p)",
        ]

    def trigger_set(self, ts: m.TriggerSet) -> list[str]:
        """Every trigger's condition inline; the fired ones in order, a fresh record each
        (callers may keep them), and the worst severity (RuleSet._triggers)."""
        order = ("none", *m.SEVERITIES)
        if any(t.severity not in order for t in ts.triggers):
            raise _CannotInline(ts.id)  # the reference path reports it
        self.inputs.update({s.name: f"a{i}" for i, s in enumerate(self.specs)})
        keys = [self.const(k) for k in ("id", "severity", "reason")]
        computed = ["f = []", "ids = []", "w = 0"]
        for t in ts.triggers:
            record = ", ".join(
                f"{k}: {self.const(v)}"
                for k, v in zip(keys, (t.id, t.severity, t.reason), strict=True)
            )
            rank = order.index(t.severity)
            computed += [
                f"if {self.splice(t.expr, dict(self.inputs))}:",
                f"    f.append({{{record}}})",
                f"    ids.append({self.const(t.id)})",
                *([f"    if w < {rank}:", f"        w = {rank}"] if rank else []),
            ]
        outputs = (
            f"{self.const(MappingProxyType)}({{{self.const('fired')}: tuple(f), "
            f"{self.const('severity')}: {self.const(order)}[w], {self.const('count')}: len(f)}})"
        )
        return [*self.exact(computed), *self.decision(outputs, "tuple(ids)")]

    def cells(self, cells: Sequence[Cell], var: str, spec: m.InputSpec, index: str) -> list[str]:
        """`index` = the position of the first of `cells` matching `var`, or raise."""
        lines: list[str] = []
        for i, cell in enumerate(cells):
            cond = _cell_source(cell, var, self.const, spec.type == "int", spec.nullable)
            lines += [f"{'if' if not lines else 'elif'} {cond or 'True'}:", f"    {index} = {i}"]
        return [*lines, "else:", "    raise _Fallback"] if lines else ["raise _Fallback"]

    def matrix(self, mx: m.Matrix) -> list[str]:
        """Row and column as if-chains (first match, as RuleSet._matrix), then the cell's
        decision (or value) built once per cell."""
        if self.output is not None and self.output != mx.output_name:
            return self.generic()
        specs = {s.name: (f"a{i}", s) for i, s in enumerate(self.specs)}
        results = tuple(
            tuple(
                value
                if self.output is not None
                else Decision(mx.id, {mx.output_name: value}, (f"r{i + 1}c{j + 1}",), self.rs.ref)
                for j, value in enumerate(row)
            )
            for i, row in enumerate(mx.values)
        )
        return [
            *self.cells(mx.row_cells, *specs[mx.row_input], "i"),
            *self.cells(mx.col_cells, *specs[mx.col_input], "j"),
            f"return {self.const(results)}[i][j]",
        ]

    def ladder(self, ladder: m.ThresholdLadder) -> list[str]:
        """The step by bisection over the starts (RuleSet._ladder), its decision built once."""
        if self.output is not None and self.output != ladder.output_name:
            return self.generic()
        spec = self.rs.document.inputs[ladder.input]
        var = f"a{self.block.inputs.index(ladder.input)}"
        lines = [f"if {var} is None:", "    raise _Fallback"]
        if spec.type == "enum":
            try:
                starts: list[Any] = [spec.values.index(s.start) for s in ladder.steps]
            except ValueError:
                return self.generic()  # the reference path reports it
            positions = {v: spec.values.index(v) for v in spec.values}
            lines.append(f"k = {self.const(positions)}[{var}]")
        else:
            starts = [s.start for s in ladder.steps]
            lines.append(f"k = {var}")
            for bound, op in ((ladder.domain_min, "<"), (ladder.domain_max, ">")):
                if bound is not None:
                    lines += [f"if {var} {op} {self.const(bound)}:", "    raise _Fallback"]
        results = tuple(
            s.value
            if self.output is not None
            else Decision(
                ladder.id, {ladder.output_name: s.value}, (f"from {s.start}",), self.rs.ref
            )
            for s in ladder.steps
        )
        return [
            *lines,
            f"i = {self.const(bisect.bisect_right)}({self.const(starts)}, k) - 1",
            "if i < 0:",
            "    raise _Fallback",
            f"return {self.const(results)}[i]",
        ]

    def master_scale(self, s: m.MasterScale) -> list[str]:
        """The grade bands in order (RuleSet._scale), each grade's decision built once."""
        if self.output is not None and self.output != s.output_name:
            return self.generic()
        var = f"a{self.block.inputs.index(s.input)}"
        lines = [f"x = {var}", "if x is None:", "    raise _Fallback"]
        if s.floor is not None:
            floor = self.const(s.floor)
            lines += [f"if x < {floor}:", f"    x = {floor}"]
        for g in s.grades:
            if g.is_default:
                cond = f"x == {self.const(g.lower)}"
            elif g.upper is not None:
                cond = f"{self.const(g.lower)} <= x < {self.const(g.upper)}"
            else:
                continue
            result = (
                g.grade
                if self.output is not None
                else Decision(s.id, {s.output_name: g.grade}, (g.grade,), self.rs.ref)
            )
            lines += [f"if {cond}:", f"    return {self.const(result)}"]
        return [*lines, "raise _Fallback"]

    def splice(self, expr: Expr, names: dict[str, str]) -> str:
        """A placeholder name standing for `expr`'s validated tree, rewritten to read the
        local variables in `names`, constants by reference and lookups as direct calls."""
        if expr.body is None:
            raise _CannotInline(expr.text)
        tree = _Rewriter(self, expr, names).visit(copy.deepcopy(expr.body))
        placeholder = f"_X{len(self.splices)}"
        self.splices[placeholder] = tree
        return placeholder

    def lookup(self, block_id: str, output: str, args: dict[str, ast.expr]) -> ast.expr:
        """`lookup(block, output, ...)` as a direct call of the target's inner evaluator
        returning that output; arguments that are this block's own (already checked) inputs
        of the same name are not checked again."""
        target = self.rs.document.blocks.get(block_id)
        if target is None or set(args) != set(target.inputs):
            raise _CannotInline(block_id)  # (load-time checks make this unreachable)
        trusted = frozenset(
            k
            for k, n in enumerate(target.inputs)
            if isinstance(arg := args[n], ast.Name) and arg.id == self.inputs.get(n)
        )
        if len(trusted) == len(target.inputs):
            inline = self.inline_table(target, output, [args[n] for n in target.inputs])
            if inline is not None:
                return inline
        inner = self.rs._inner_of(target, output, trusted)
        return ast.Call(
            ast.Name(self.const(inner), ast.Load()), [args[n] for n in target.inputs], []
        )

    def inline_table(self, t: m.Block, output: str, args: list[ast.expr]) -> ast.expr | None:
        """A lookup of a small table whose first matching row decides (FIRST, or UNIQUE
        with rows proved disjoint), on arguments already checked, as one conditional
        expression: `v1 if cond1 else v2 if cond2 else ... else <raise _Fallback>`. None
        when the table is not of that kind."""
        if (
            not isinstance(t, m.DecisionTable)
            or len(t.rules) > INDEX_THRESHOLD
            or not (t.hit_policy == "FIRST" or (t.hit_policy == "UNIQUE" and _rules_disjoint(t)))
            or not all(isinstance(a, ast.Name) for a in args)
            or not all(output in dict(r.then) for r in t.rules)
        ):
            return None
        names = [a.id for a in args if isinstance(a, ast.Name)]
        specs = [self.rs.document.inputs[n] for n in t.inputs]
        expr: ast.expr = ast.Call(ast.Name(self.const(_fallback), ast.Load()), [], [])
        for r in reversed(t.rules):
            conds = [
                c
                for name, var, spec in zip(t.inputs, names, specs, strict=True)
                if (
                    c := _cell_source(
                        r.cell(name), var, self.const, spec.type == "int", spec.nullable
                    )
                )
                is not None
            ]
            # the test is our own source (variable names, `_kN`, int literals) parsed back
            test = ast.parse(" and ".join(conds) or "True", mode="eval").body
            value = ast.Name(self.const(dict(r.then)[output]), ast.Load())
            expr = ast.IfExp(test, value, expr)
        return expr

    def round(self, x: ast.expr, places: Any) -> ast.expr:
        """`round(x, places)` with constant places: Decimal.quantize inline when `x` is a
        Decimal (what formula._round computes), formula._round otherwise."""
        n = int(places)
        quantum = Decimal(1).scaleb(-n)  # as formula._round builds it
        if self.is_decimal(x):  # (a wrong guess raises AttributeError: the reference path)
            direct = ast.Call(
                ast.Attribute(x, "quantize", ast.Load()),
                [
                    ast.Name(self.const(quantum), ast.Load()),
                    ast.Name(self.const(decimal.ROUND_HALF_EVEN), ast.Load()),
                ],
                [],
            )
            self.decimal_nodes.add(id(direct))
            return direct
        t = self.temp()
        fallback = ast.Call(
            ast.Name(self.const(_FUNCS["_round"]), ast.Load()),
            [ast.Name(t, ast.Load()), ast.Name(self.const(places), ast.Load())],
            [],
        )
        quantize = ast.Call(
            ast.Attribute(ast.Name(t, ast.Load()), "quantize", ast.Load()),
            [
                ast.Name(self.const(quantum), ast.Load()),
                ast.Name(self.const(decimal.ROUND_HALF_EVEN), ast.Load()),
            ],
            [],
        )
        is_decimal = ast.Compare(
            ast.Call(
                ast.Name("type", ast.Load()), [ast.NamedExpr(ast.Name(t, ast.Store()), x)], []
            ),
            [ast.Is()],
            [ast.Name(self.const(Decimal), ast.Load())],
        )
        rounded = ast.IfExp(is_decimal, quantize, fallback)
        self.decimal_nodes.add(id(rounded))
        return rounded

    def is_decimal(self, node: ast.expr) -> bool:
        """Whether a rewritten expression always gives a Decimal (False when unsure)."""
        if id(node) in self.decimal_nodes:
            return True
        if isinstance(node, ast.Name):
            if node.id in self.decimal_vars:
                return True
            value = self.values[int(node.id[2:])] if node.id.startswith("_k") else None
            return type(value) is Decimal
        if isinstance(node, ast.BinOp):
            return self.is_decimal(node.left) or self.is_decimal(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return self.is_decimal(node.operand)
        if isinstance(node, ast.IfExp):
            return self.is_decimal(node.body) and self.is_decimal(node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fn = self.values[int(node.func.id[2:])] if node.func.id.startswith("_k") else None
            if fn is min or fn is max:
                return all(self.is_decimal(a) for a in node.args)
            if fn is abs:
                return self.is_decimal(node.args[0])
            if fn is _FUNCS["_div"]:
                return True
        return False


class _Rewriter(ast.NodeTransformer):
    """Rewrites a validated formula tree (see formula.compile_expression) for inlining."""

    def __init__(self, compiler: _BlockCompiler, expr: Expr, names: dict[str, str]) -> None:
        self.compiler = compiler
        self.expr = expr
        self.names = names

    def constant(self, node: ast.expr) -> Any:
        """The value of a `_k[i]` constant node, or _MISSING."""
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "_k"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            return self.expr.constants[node.slice.value]
        return _MISSING

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        base, key = node.value, node.slice
        if isinstance(base, ast.Name) and isinstance(key, ast.Constant):
            if base.id == "_env" and key.value in self.names:
                return ast.Name(self.names[key.value], ast.Load())
            value = self.constant(node)
            if value is not _MISSING:
                return ast.Name(self.compiler.const(value), ast.Load())
        raise _CannotInline(self.expr.text)

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in _FUNCS:
            return ast.Name(self.compiler.const(_FUNCS[node.id]), ast.Load())
        raise _CannotInline(self.expr.text)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and func.id == "_lookup":
            if (
                len(args) == 3
                and isinstance(args[0], ast.Constant)
                and isinstance(args[0].value, str)
                and isinstance(args[1], ast.Constant)
                and isinstance(args[1].value, str)
                and isinstance(args[2], ast.Dict)
                and all(isinstance(k, ast.Constant) for k in args[2].keys)
            ):
                values = {
                    k.value: self.visit(v)  # type: ignore[union-attr]
                    for k, v in zip(args[2].keys, args[2].values, strict=True)
                }
                return self.compiler.lookup(args[0].value, args[1].value, values)
            raise _CannotInline(self.expr.text)
        if isinstance(func, ast.Name) and func.id == "_round" and not node.keywords:
            places: Any = Decimal(0) if len(args) == 1 else self.constant(args[1])
            if len(args) in (1, 2) and isinstance(places, Decimal) and places.is_finite():
                return self.compiler.round(self.visit(args[0]), places)
        return self.generic_visit(node)  # type: ignore[return-value]


class _Splicer(ast.NodeTransformer):
    """Puts the rewritten expression trees in place of their placeholder names."""

    def __init__(self, splices: dict[str, ast.expr]) -> None:
        self.splices = splices

    def visit_Name(self, node: ast.Name) -> ast.expr:
        tree = self.splices.get(node.id)
        if tree is None:
            return node
        for child in ast.walk(tree):
            if isinstance(child, ast.expr):
                ast.copy_location(child, node)
        return tree


def _no_lookup(block: str, output: str, args: dict[str, Any]) -> Any:
    raise PolicyEvaluationError(f"lookup of {block}.{output} from a formula that declares none")


def scaled_pd(score: Decimal, scaling: m.Scaling) -> Decimal:
    """PD from a scaled score: score = offset + factor·ln(odds), factor = PDO/ln 2.

    With odds good:bad (`good_to_bad`), PD = 1 / (1 + exp((score − offset)/factor)).
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 34
        factor = scaling.pdo / Decimal(2).ln()
        offset = scaling.points0 - factor * scaling.odds0.ln()
        z = (score - offset) / factor
        if scaling.direction == "bad_to_good":
            z = -z
        z = max(min(z, Decimal(700)), Decimal(-700))
        pd = Decimal(1) / (Decimal(1) + z.exp())
        return pd.quantize(Decimal("1e-12"))


def scaling_constants(scaling: m.Scaling) -> tuple[Decimal, Decimal]:
    """(factor, offset) of a scaling, for reports."""
    factor = scaling.pdo / Decimal(2).ln()
    return factor, scaling.points0 - factor * scaling.odds0.ln()


def load_ruleset(path_or_text: str | Path, *, source_name: str | None = None) -> RuleSet:
    """Load, check and compile a rule set from a YAML/JSON file path or from document text.

    A document with status `approved` must pass its own `check()` without error findings.

    Raises:
        PolicyLoadError: the text cannot be read or does not follow the schema; the message
            starts with file:line:column and says what was expected.
        PolicyCheckError: the document is `approved` but `check()` found errors
            (`.findings` lists every finding, each with its file:line).
    """
    from creditmgmt.policies.loader import read_document

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
