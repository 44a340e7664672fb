"""Decision-table matchers, built once per table when a rule set is compiled.

A table of up to `INDEX_THRESHOLD` rows becomes one generated Python function testing the rows
in order (built from the parsed cells: constants are referenced by index, inputs by position —
no user text is ever evaluated). A larger table gets an index: for each input, a bisect over
all cell boundaries (or a value map for enums) yields a bitset of candidate rows; the AND of
those bitsets is the set of matching rows, so cost grows with log(boundaries), not with rows.
A matcher takes the inputs' values in the table's order and returns the matching row indexes.

`cell_source` and `rules_disjoint` are shared with the generated block evaluators.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.errors import PolicyEvaluationError

#: Tables with more rows than this are matched through the index instead of generated code.
INDEX_THRESHOLD = 64

#: A table's matcher: the inputs' values in the table's order -> the matching row indexes.
Matcher = Callable[[Sequence[Any]], list[int]]


def table_matcher(table: m.DecisionTable, input_types: list[str]) -> Matcher:
    """The matcher of `table` (its inputs of the declared `input_types`): generated code for a
    small table, the bisect + bitset index for one of more than `INDEX_THRESHOLD` rows."""
    if len(table.rules) > INDEX_THRESHOLD:
        return _indexed_matcher(table, input_types)
    return _generated_matcher(table, input_types)


def cell_source(
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
        inner = cell_source(cell.inner, arg, consts, int_input, nullable) or "True"
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


def rules_disjoint(table: m.DecisionTable) -> bool:
    """No two rows of `table` can match one input (proved column by column; False when
    unsure): a UNIQUE table may then stop at the first matching row."""
    rows = [[r.cell(n) for n in table.inputs] for r in table.rules]
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if not any(_cells_disjoint(x, y) for x, y in zip(a, b, strict=True)):
                return False
    return True


def _generated_matcher(table: m.DecisionTable, spec_types: Sequence[str] = ()) -> Matcher:
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
            if (c := cell_source(rule.cell(name), args[i], consts, ints[i])) is not None
        ]
        test = " and ".join(conds) or "True"
        action = f"return [{r_index}]" if first else f"m.append({r_index})"
        lines.append(f"    if {test}:\n        {action}")
    lines.append("    return []" if first else "    return m")
    namespace: dict[str, Any] = {"_c": tuple(consts), "__builtins__": {}}
    # safe: cell_source writes operators and argument names; cell values go in as constants
    # (_c[i]), the table id only names the code object; no builtins
    exec(compile("\n".join(lines), f"<decision table {table.id}>", "exec"), namespace)  # noqa: S102
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
    return timedelta(days=1)


def _indexed_matcher(table: m.DecisionTable, spec_types: list[str]) -> Matcher:
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
