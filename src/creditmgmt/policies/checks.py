"""Static checks of a rule-set document: `check_document(doc) -> list[Finding]`.

Nothing here evaluates a rule on data. The checks reason about the written cells, bands,
steps and expressions, and report every problem as a `Finding` with a severity, a stable code
(see `FINDING_CODES` and `FINDING_SEVERITIES`), the block and row it concerns and the source
location of that row (or of the block when the problem belongs to no single row).

Gaps and overlaps are found geometrically: each input of a table is cut at every boundary a
cell names (numbers and dates become elementary intervals, enum inputs their declared values,
booleans true/false, nullable inputs one more "missing" value), and the product of those
pieces is walked. The walk splits one input at a time and, at each step, only at the
boundaries of the rows still in play, so a row that survives alone is not cut further and a
region no row reaches is reported whole. A structured 3,000-row table checks in tens of
milliseconds; a table whose rows overlap everywhere stops at WALK_BUDGET regions with a
`check-incomplete` finding instead of running on.

Regions are reported in the policy's own terms, e.g. ``dpd in [91..120), grade = "BB"``:
integer and date inputs as half-open ranges of whole values (``[91..120)``, ``= 91``),
decimals with their written bounds (``(0.05..0.10]``), enums as ``= "A"`` or
``in {"A", "B"}``, nullable inputs as ``missing``. An input left out of a region may take any
value.

Triggers and formulas are read by interval reasoning: comparisons of one input with
constants, combined with and/or/not/if-else, narrow what each input may be (from its
declared min/max, whole numbers for int, declared values for enums). A trigger is reported
when no input can make it true; a division `x / d` by an input is reported unless `d`'s
domain, or the conditions on the way to the division (`... if d > 0 else ...`,
`d != 0 and ...`), exclude 0. Conditions the reasoning cannot read (a `let`, a lookup)
count as "may be true", so a trigger is never reported dead wrongly, while a guard written
that way is not seen (declare `min` or guard inline).

Severities: an `error` is a defect that makes some input fail or decide ambiguously, or that
breaks a rule of the language (an `approved` document with an error does not load); a
`warning` is dead or suspicious policy that still evaluates; `info` is advice.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.policies import model as m
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.coercion import coerce
from creditmgmt.policies.errors import PolicyInputError
from creditmgmt.policies.formula import INPUT_VALUE_TYPES

#: Every finding code with a one-line explanation (documentation and CLI help show these).
FINDING_CODES: dict[str, str] = {
    "type-error": "a cell, output value, default or expression has the wrong type for its input "
    "or output, or a block reads an input of a kind it cannot use",
    "unknown-input": "a block names an input the document does not declare",
    "unknown-value": "a cell, output, default or comparison in a formula names an enum value "
    "that is not declared",
    "bad-domain": "an input's min is above its max, or min/max is given for a non-numeric input",
    "gap": "some inputs match no row, band, step or bin: evaluating them fails "
    "(the region is named)",
    "overlap": "some inputs match several rows of a UNIQUE table, several matrix rows or "
    "columns, several bands of a scale or two steps from the same value (the region is named)",
    "shadowed-row": "a row or bin can never decide: under FIRST (and for scorecard bins) "
    "earlier rows cover its whole region, under PRIORITY rows with a better output do, or "
    "one of its cells holds for no allowed value",
    "bin-overlap": "a scorecard bin overlaps earlier bins in part; the first bin wins there",
    "conflicting-duplicate": "two rows have the same conditions but different outputs",
    "duplicate-row": "two rows have the same conditions and the same outputs",
    "trigger-never-fires": "a trigger's condition can never be true "
    "(contradictory comparisons, an undeclared enum value, constant false)",
    "scale-not-monotone": "master-scale bands are not in ascending order, a band is empty, "
    "or the default grade lies below the last band",
    "scale-not-contiguous": "a master-scale band does not start where the previous one ends",
    "scale-too-few-grades": "a master scale has fewer than 7 non-default grades or not exactly "
    "one default grade",
    "duplicate-grade": "a master scale names the same grade twice",
    "ladder-not-ordered": "threshold-ladder steps do not ascend",
    "unreachable-step": "a threshold-ladder step lies wholly outside the input's domain",
    "empty-cell": "a matrix cell has no value",
    "division-by-zero": "a formula divides by an input whose domain includes 0 and no enclosing "
    "condition excludes 0",
    "unused-input": "an input is declared but no block uses it",
    "unconstrained-input": "a block lists an input that none of its rows, bins or expressions "
    "reads",
    "check-incomplete": "a table is too large to walk completely; gap/overlap results are partial",
}

#: The severity of each code: error (blocks `approved`), warning or info.
FINDING_SEVERITIES: dict[str, str] = {
    "type-error": "error",
    "unknown-input": "error",
    "unknown-value": "error",
    "bad-domain": "error",
    "gap": "error",
    "overlap": "error",
    "shadowed-row": "warning",
    "bin-overlap": "warning",
    "conflicting-duplicate": "error",
    "duplicate-row": "warning",
    "trigger-never-fires": "warning",
    "scale-not-monotone": "error",
    "scale-not-contiguous": "error",
    "scale-too-few-grades": "error",
    "duplicate-grade": "error",
    "ladder-not-ordered": "error",
    "unreachable-step": "warning",
    "empty-cell": "error",
    "division-by-zero": "error",
    "unused-input": "warning",
    "unconstrained-input": "info",
    "check-incomplete": "info",
}

#: Basel/CRR minimum for a rating scale: 7 non-default grades and 1 default grade.
MIN_NON_DEFAULT_GRADES = 7
#: At most this many gap or overlap findings per block (the last one says how many more).
MAX_REGION_FINDINGS = 20
#: At most this many raw regions are merged per finding group (the rest are only counted).
MAX_MERGED_BOXES = 5_000
#: Walk budget (nodes) per table; beyond it a `check-incomplete` finding is given.
WALK_BUDGET = 150_000

_NUMERIC = ("int", "decimal", "money")
_ORDERED = ("int", "decimal", "money", "date")
_Cut = tuple[Any, int]  # (value, 0 = just before value | 1 = just after value)
_Runs = tuple[tuple[int, int], ...]


class _Other:
    """The atom of a string input standing for every value no cell names."""

    def __repr__(self) -> str:
        return "<other>"


_OTHER = _Other()


def _finding(
    code: str,
    message: str,
    block: str | None = None,
    rule: str | None = None,
    location: SourceLocation | None = None,
) -> m.Finding:
    return m.Finding(FINDING_SEVERITIES[code], code, message, block, rule, location)


def check_document(doc: m.RuleSetDocument) -> list[m.Finding]:
    """Every finding of the static checks, in document order (by line).

    Never raises for a document the loader accepted; a hand-built document that names
    undeclared inputs gets `unknown-input` findings instead of an exception.
    """
    findings: list[m.Finding] = []
    findings.extend(_check_inputs(doc))
    used: set[str] = set()
    for block in doc.blocks.values():
        used.update(block.inputs)
        unknown = [n for n in _referenced_inputs(block) if n not in doc.inputs]
        if unknown:
            findings.extend(
                _finding(
                    "unknown-input",
                    f"input {name!r} is not declared under the document's inputs",
                    block.id,
                    None,
                    block.loc,
                )
                for name in dict.fromkeys(unknown)
            )
            continue
        findings.extend(_check_block(doc, block))
    for name, spec in doc.inputs.items():
        if name not in used:
            findings.append(
                _finding(
                    "unused-input",
                    f"input {name!r} is declared but no block uses it",
                    None,
                    None,
                    spec.loc,
                )
            )
    order = {id(f): i for i, f in enumerate(findings)}

    def position(f: m.Finding) -> tuple[int, str, int, int, int]:
        loc = f.location
        if loc is None:
            return (2, "", 0, 0, order[id(f)])
        # the document first, then imported CSV tables, each by line
        return (0 if loc.file == doc.source else 1, loc.file, loc.line, loc.column, order[id(f)])

    return sorted(findings, key=position)


def _referenced_inputs(block: m.Block) -> list[str]:
    names = list(block.inputs)
    if isinstance(block, m.MasterScale | m.ThresholdLadder):
        names.append(block.input)
    elif isinstance(block, m.Matrix):
        names += [block.row_input, block.col_input]
    elif isinstance(block, m.Scorecard):
        names += [c.input for c in block.characteristics]
    elif isinstance(block, m.DecisionTable):
        names += [n for r in block.rules for n, _c in r.when]
    return names


def _check_block(doc: m.RuleSetDocument, block: m.Block) -> list[m.Finding]:
    if isinstance(block, m.DecisionTable):
        return _check_table(doc, block)
    if isinstance(block, m.MasterScale):
        return _check_scale(doc, block)
    if isinstance(block, m.ThresholdLadder):
        return _check_ladder(doc, block)
    if isinstance(block, m.Matrix):
        return _check_matrix(doc, block)
    if isinstance(block, m.Scorecard):
        return _check_scorecard(doc, block)
    if isinstance(block, m.Formula):
        return _check_formula(doc, block)
    if isinstance(block, m.TriggerSet):
        return _check_triggers(doc, block)
    return []


# inputs --------------------------------------------------------------------------------------
def _value_fits(spec_type: str, values: Sequence[Any], value: Any) -> str | None:
    """Why `value` does not fit an input/output of `spec_type` (None when it fits)."""
    if spec_type == "enum":
        return None if str(value) in {str(v) for v in values} else "unknown-value"
    if spec_type == "bool":
        return None if isinstance(value, bool) else "type-error"
    if isinstance(value, bool):
        return "type-error"
    if spec_type == "int":
        ok = isinstance(value, int) or (
            isinstance(value, Decimal) and value == value.to_integral_value()
        )
        return None if ok else "type-error"
    if spec_type in ("decimal", "money"):
        return None if isinstance(value, int | Decimal) else "type-error"
    if spec_type == "date":
        return None if isinstance(value, date) else "type-error"
    return None if isinstance(value, str) else "type-error"


def _check_inputs(doc: m.RuleSetDocument) -> list[m.Finding]:
    out: list[m.Finding] = []
    for name, spec in doc.inputs.items():
        if spec.type not in _NUMERIC and (spec.min is not None or spec.max is not None):
            out.append(
                _finding(
                    "bad-domain",
                    f"input {name}: min/max apply to int, decimal and money inputs, "
                    f"not to {spec.type}",
                    location=spec.loc,
                )
            )
        elif spec.min is not None and spec.max is not None and spec.min > spec.max:
            out.append(
                _finding(
                    "bad-domain",
                    f"input {name}: min {spec.min} is above max {spec.max}; no value is allowed",
                    location=spec.loc,
                )
            )
        elif (
            spec.type == "int"
            and spec.min is not None
            and spec.max is not None
            and math.ceil(spec.min) > math.floor(spec.max)
        ):
            out.append(
                _finding(
                    "bad-domain",
                    f"input {name}: no whole number lies in [{spec.min}..{spec.max}]",
                    location=spec.loc,
                )
            )
        if spec.has_default and spec.default is not None:
            problem = _default_problem(spec)
            if problem is not None:
                out.append(_finding(problem[0], f"input {name}: {problem[1]}", location=spec.loc))
        elif spec.has_default and spec.default is None and not spec.nullable:
            out.append(
                _finding(
                    "type-error",
                    f"input {name}: default is null but the input is not nullable",
                    location=spec.loc,
                )
            )
    return out


def _default_problem(spec: m.InputSpec) -> tuple[str, str] | None:
    """(code, message) when evaluation would refuse the input's default."""
    try:
        coerce(spec, spec.default, "-")
    except PolicyInputError as e:
        reason = str(e).split(": ", 1)[-1].removeprefix(f"input {spec.name}: ")
        if spec.type == "enum":
            code = "unknown-value"
        elif "minimum" in reason or "maximum" in reason:
            code = "bad-domain"
        else:
            code = "type-error"
        return code, f"default {spec.default!r} is refused: {reason}"
    return None


# axes: one input of a table, cut into atoms ---------------------------------------------------
class _Axis:
    """One input of a table cut into atoms: elementary intervals or values, then `missing`."""

    def __init__(
        self,
        spec: m.InputSpec,
        cells: Iterable[Cell],
        *,
        domain: tuple[Any, Any] | None = None,
    ) -> None:
        """`domain` (min, max) overrides the input's declared min/max (None: unbounded)."""
        self.spec = spec
        self.name = spec.name
        self.ordered = spec.type in _ORDERED
        self.whole = spec.type in ("int", "date")
        self.cuts: list[_Cut] = []
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}
        self.dom_lo: _Cut | None = None
        self.dom_hi: _Cut | None = None
        if self.ordered:
            low, high = domain if domain is not None else (spec.min, spec.max)
            if spec.type == "date" and domain is None:
                low = high = None
            if low is not None:
                self.dom_lo = self._cut(low, before=True)
            if high is not None:
                self.dom_hi = self._cut(high, before=False)
            cuts: set[_Cut] = set()
            for cell in cells:
                for bound in self._cell_cuts(cell) or ():
                    if bound is not None and self._inside(bound):
                        cuts.add(bound)
            cuts.update(c for c in (self.dom_lo, self.dom_hi) if c is not None)
            self.cuts = sorted(cuts)
            pieces = len(self.cuts) - 1 + (self.dom_lo is None) + (self.dom_hi is None)
            empty = (
                self.dom_lo is not None and self.dom_hi is not None and self.dom_lo >= self.dom_hi
            )
            self.n_values = 0 if empty else max(pieces, 0)
        else:
            if spec.type == "enum":
                self.values = list(spec.values)
            elif spec.type == "bool":
                self.values = [True, False]
            else:
                named: set[Any] = set()
                for cell in cells:
                    inner = cell.inner if cell.kind == "not" and cell.inner else cell
                    named.update(inner.values)
                self.values = [*sorted(named, key=str), _OTHER]
            self.index = {_key(v): i for i, v in enumerate(self.values)}
            self.n_values = len(self.values)
        self.missing = self.n_values if spec.nullable else None
        self.n = self.n_values + (1 if spec.nullable else 0)
        self.full_mask = (1 << self.n) - 1
        self.values_mask = (1 << self.n_values) - 1

    # ordered axes
    def _inside(self, cut: _Cut) -> bool:
        return (self.dom_lo is None or cut > self.dom_lo) and (
            self.dom_hi is None or cut < self.dom_hi
        )

    def _cell_cuts(self, cell: Cell) -> tuple[_Cut | None, _Cut | None] | None:
        """The cuts of a range cell on an ordered axis; None when its bounds have the wrong
        type."""
        if cell.kind == "not" and cell.inner is not None:
            return self._cell_cuts(cell.inner)
        if cell.kind != "range":
            return (None, None)
        want_date = self.spec.type == "date"
        for bound in (cell.low, cell.high):
            if bound is None:
                continue
            if isinstance(bound, bool) or isinstance(bound, date) != want_date:
                return None
            if not want_date and not isinstance(bound, int | Decimal):
                return None
        lo = hi = None
        if cell.low is not None:
            lo = self._cut(cell.low, before=cell.low_closed)
        if cell.high is not None:
            hi = self._cut(cell.high, before=not cell.high_closed)
        return lo, hi

    def _cut(self, value: Any, *, before: bool) -> _Cut:
        if isinstance(value, date):
            value = value.toordinal()
        if not self.whole:
            return (value, 0 if before else 1)
        number = Decimal(value)
        if before:  # [v.. or ..v)
            return (math.ceil(number), 0)
        return (math.floor(number) + 1, 0)  # (v.. or ..v]

    def _start(self, cut: _Cut | None) -> int:
        """The index of the atom that starts at `cut` (clipped to the domain)."""
        if cut is None:
            return 0
        if self.dom_lo is not None and cut <= self.dom_lo:
            return 0
        if self.dom_hi is not None and cut >= self.dom_hi:
            return self.n_values
        offset = 1 if self.dom_lo is None else 0
        return min(bisect.bisect_left(self.cuts, cut) + offset, self.n_values)

    def atom_bounds(self, i: int) -> tuple[_Cut | None, _Cut | None]:
        offset = 1 if self.dom_lo is None else 0
        j = i - offset
        lo = self.cuts[j] if 0 <= j < len(self.cuts) else None
        hi = self.cuts[j + 1] if 0 <= j + 1 < len(self.cuts) else None
        return lo, hi

    # all axes
    def cover(self, cell: Cell) -> tuple[_Runs, str | None]:
        """The atoms `cell` matches, as runs [start, end), and a problem with the cell."""
        if cell.kind == "any":
            return ((0, self.n),), None
        if cell.kind == "missing":
            if self.missing is None:
                return (), None
            return ((self.missing, self.missing + 1),), None
        if cell.kind == "not" and cell.inner is not None:
            inner, problem = self.cover(cell.inner)
            mask = _mask(inner)
            runs = _runs_of(~mask & self.values_mask)
            return runs, problem
        if self.ordered:
            cuts = self._cell_cuts(cell)
            if cuts is None or cell.kind != "range":
                return (), f"{cell.text!r} is not a {self.spec.type} test"
            start, end = self._start(cuts[0]), self._start(cuts[1])
            if cuts[1] is None:
                end = self.n_values
            return (((start, end),) if start < end else ()), None
        if cell.kind != "set":
            return (), f"{cell.text!r} is a range but {self.name} is {self.spec.type}"
        hits: list[int] = []
        bad: list[Any] = []
        for value in cell.values:
            if self.spec.type == "bool" and not isinstance(value, bool):
                return (), f"{cell.text!r} is not true or false"
            if self.spec.type != "bool" and isinstance(value, bool):
                return (), f"{cell.text!r} is a boolean but {self.name} is {self.spec.type}"
            i = self.index.get(_key(value))
            if i is None:
                bad.append(value)
            else:
                hits.append(i)
        mask = 0
        for i in hits:
            mask |= 1 << i
        problem = None
        if bad:
            problem = (
                f"unknown value {', '.join(repr(str(b)) for b in bad)} of {self.name} "
                f"(declared: {', '.join(map(str, self.values))})"
            )
        return _runs_of(mask), problem

    # rendering
    def render(self, mask: int) -> str | None:
        """Text for one contiguous piece (or a value set) of this axis; None for 'any'."""
        if mask == self.full_mask:
            return None
        if self.missing is not None and mask == 1 << self.missing:
            return f"{self.name} missing"
        if mask == self.values_mask:
            return f"{self.name} not missing"
        if self.ordered:
            runs = _runs_of(mask)
            start, end = runs[0][0], runs[-1][1]
            return self._interval(self.atom_bounds(start)[0], self.atom_bounds(end - 1)[1])
        chosen = [v for i, v in enumerate(self.values) if mask >> i & 1]
        if _OTHER in chosen:
            left = [v for v in self.values if v not in chosen and v is not _OTHER]
            if len(left) == 1:
                return f"{self.name} != {_show(left[0])}"
            return f"{self.name} not in {{{', '.join(_show(v) for v in left)}}}"
        if len(chosen) == 1:
            return f"{self.name} = {_show(chosen[0])}"
        return f"{self.name} in {{{', '.join(_show(v) for v in chosen)}}}"

    def _interval(self, lo: _Cut | None, hi: _Cut | None) -> str:
        name = self.name
        closed_top = self.whole and hi is not None and hi == self.dom_hi
        if (
            lo is not None
            and hi is not None
            and ((self.whole and hi[0] == lo[0] + 1) or (lo[0] == hi[0] and lo[1] < hi[1]))
        ):
            return f"{name} = {self._value(lo[0])}"
        if closed_top and hi is not None:
            top = self._value(hi[0] - 1)
            if lo is None:
                return f"{name} <= {top}"
            return f"{name} in {'[' if lo[1] == 0 else '('}{self._value(lo[0])}..{top}]"
        if lo is None and hi is None:
            return f"{name} not missing"
        if lo is None:
            assert hi is not None
            return f"{name} {'<' if hi[1] == 0 else '<='} {self._value(hi[0])}"
        if hi is None:
            return f"{name} {'>=' if lo[1] == 0 else '>'} {self._value(lo[0])}"
        return (
            f"{name} in {'[' if lo[1] == 0 else '('}{self._value(lo[0])}.."
            f"{self._value(hi[0])}{')' if hi[1] == 0 else ']'}"
        )

    def _value(self, v: Any) -> str:
        if self.spec.type == "date":
            return date.fromordinal(int(v)).isoformat()
        return str(v)


def _key(v: Any) -> Any:
    # enum values are text; True must not collide with 1
    return (type(v) is bool, str(v)) if not isinstance(v, _Other) else ("other",)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    return str(v)


def _mask(runs: _Runs) -> int:
    mask = 0
    for s, e in runs:
        mask |= (1 << e) - (1 << s)
    return mask


def _runs_of(mask: int) -> _Runs:
    runs: list[tuple[int, int]] = []
    while mask:
        start = (mask & -mask).bit_length() - 1
        filled = mask + (1 << start)  # carries through the run
        end = (filled & -filled).bit_length() - 1
        runs.append((start, end))
        mask &= ~((1 << end) - 1)
    return tuple(runs)


def _is_run(mask: int) -> bool:
    return mask != 0 and ((mask + (mask & -mask)) & mask) == 0


def _bits(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


# the geometric walk -----------------------------------------------------------------------------
Box = tuple[int, ...]  # one atom mask per axis


@attrs.define
class _Walk:
    """Walks the product of the axes' atoms for a list of rows (each a run list per axis)."""

    axes: list[_Axis]
    covers: list[list[_Runs]]
    overlaps_wanted: bool
    #: PRIORITY: each row's output rank (lower wins; ties go to the earlier row)
    ranks: list[tuple[int, ...]] | None = None
    gaps: list[Box] = attrs.field(factory=list)
    overlaps: dict[int, list[Box]] = attrs.field(factory=dict)
    winners: int = 0
    nodes: int = 0
    truncated: bool = False
    order: list[int] = attrs.field(factory=list)
    full: list[int] = attrs.field(factory=list)
    remaining: list[int] = attrs.field(factory=list)

    def run(self) -> None:
        n_rows = len(self.covers)
        if not self.axes:
            return
        signatures = [len({tuple(c[a]) for c in self.covers}) for a in range(len(self.axes))]
        self.order = sorted(range(len(self.axes)), key=lambda a: signatures[a])
        self.full = [
            sum(1 << a for a in range(len(self.axes)) if c[a] == ((0, self.axes[a].n),))
            for c in self.covers
        ]
        # for the shortcut: which axes remain after the k-th
        self.remaining = [sum(1 << a for a in self.order[k + 1 :]) for k in range(len(self.order))]
        box = [ax.full_mask for ax in self.axes]
        self._walk(0, (1 << n_rows) - 1, box)

    def _walk(self, k: int, rows: int, box: list[int]) -> None:
        a = self.order[k]
        axis = self.axes[a]
        events: dict[int, int] = {0: 0, axis.n: 0}
        for r in _bits(rows):
            bit = 1 << r
            for s, e in self.covers[r][a]:
                events[s] = events.get(s, 0) ^ bit
                events[e] = events.get(e, 0) ^ bit
        points = sorted(events)
        groups: dict[int, int] = {}
        current = 0
        for i in range(len(points) - 1):
            current ^= events[points[i]]
            span = (1 << points[i + 1]) - (1 << points[i])
            groups[current] = groups.get(current, 0) | span
        last = k == len(self.order) - 1
        for hit, atoms in groups.items():
            self.nodes += 1
            if self.nodes > WALK_BUDGET:
                self.truncated = True
                return
            saved = box[a]
            box[a] = atoms
            if hit == 0:
                self.gaps.append(tuple(box))
            elif last:
                self._leaf(hit, box)
            else:
                lowest = hit & -hit
                r0 = lowest.bit_length() - 1
                alone = hit == lowest
                if (alone or not (self.overlaps_wanted or self.ranks)) and (
                    self.full[r0] & self.remaining[k]
                ) == self.remaining[k]:
                    self.winners |= lowest
                else:
                    self._walk(k + 1, hit, box)
            box[a] = saved
            if self.truncated:
                return

    def _leaf(self, hit: int, box: list[int]) -> None:
        if self.ranks is None:
            self.winners |= hit & -hit
        else:
            ranks = self.ranks
            self.winners |= 1 << min(_bits(hit), key=lambda r: (ranks[r], r))
        if self.overlaps_wanted and hit & (hit - 1):
            self.overlaps.setdefault(hit, []).append(tuple(box))


def _split_pieces(axes: Sequence[_Axis], box: Box) -> list[Box]:
    """A box as boxes whose every coordinate is one contiguous run or one value set, with
    `missing` apart."""
    per_axis: list[list[int]] = []
    for axis, mask in zip(axes, box, strict=True):
        if mask == axis.full_mask:
            per_axis.append([mask])
            continue
        pieces: list[int] = []
        values = mask & axis.values_mask
        if values:
            if axis.ordered:
                pieces.extend(_mask((run,)) for run in _runs_of(values))
            else:
                pieces.append(values)
        if values != mask:
            pieces.append(mask & ~axis.values_mask)
        per_axis.append(pieces)
    out: list[Box] = [()]
    for pieces in per_axis:
        out = [(*b, p) for b in out for p in pieces]
    return out


def _merge_boxes(axes: Sequence[_Axis], boxes: list[Box]) -> list[Box]:
    """Merge boxes that differ in one coordinate into fewer, larger ones."""
    boxes = [p for b in boxes for p in _split_pieces(axes, b)]
    for _round in range(3):
        changed = False
        for a, axis in enumerate(axes):
            groups: dict[Box, list[int]] = {}
            for b in boxes:
                groups.setdefault(b[:a] + b[a + 1 :], []).append(b[a])
            merged: list[Box] = []
            for rest, masks in groups.items():
                masks = sorted(set(masks), key=lambda x: (x & -x).bit_length())
                out: list[int] = []
                for mask in masks:
                    prev = out[-1] if out else None
                    if prev is not None and _mergeable(axis, prev, mask):
                        out[-1] = prev | mask
                        changed = True
                    else:
                        out.append(mask)
                merged.extend((*rest[:a], mask, *rest[a:]) for mask in out)
            boxes = merged
        if not changed:
            break
    return sorted(boxes, key=lambda b: tuple((x & -x).bit_length() for x in b))


def _mergeable(axis: _Axis, a: int, b: int) -> bool:
    if a == axis.full_mask or b == axis.full_mask:
        return False
    missing = ~axis.values_mask & axis.full_mask
    if bool(a & missing) != bool(b & missing):
        return (a | b) == axis.full_mask
    if a & missing:
        return False
    return _is_run(a | b) if axis.ordered else True


def _region(axes: Sequence[_Axis], box: Box) -> str:
    parts = [t for axis, mask in zip(axes, box, strict=True) if (t := axis.render(mask))]
    return ", ".join(parts) if parts else "any input"


def _region_findings(
    code: str,
    axes: Sequence[_Axis],
    items: Sequence[tuple[list[Box], str, str | None, SourceLocation]],
    block: str,
) -> list[m.Finding]:
    """Findings for regions: each item is (boxes, message prefix, rule, location).

    At most MAX_REGION_FINDINGS are made; the last one says that more exist (and how many,
    when they were all merged)."""
    out: list[m.Finding] = []
    hidden = 0
    exact = True
    for boxes, prefix, rule, loc in items:
        if len(out) >= MAX_REGION_FINDINGS:
            exact = False  # not merged: counting them would cost what showing them does
            break
        if len(boxes) > MAX_MERGED_BOXES:
            exact = False
            boxes = boxes[:MAX_MERGED_BOXES]
        for box in _merge_boxes(axes, boxes):
            if len(out) < MAX_REGION_FINDINGS:
                out.append(_finding(code, f"{prefix} {_region(axes, box)}", block, rule, loc))
            else:
                hidden += 1
    if out and (hidden or not exact):
        more = f"{hidden} more" if exact else "more"
        last = out[-1]
        out[-1] = attrs.evolve(last, message=f"{last.message} (and {more} {code} regions)")
    return out


def _ids(ids: Sequence[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"


# decision tables ---------------------------------------------------------------------------------
def _check_table(doc: m.RuleSetDocument, t: m.DecisionTable) -> list[m.Finding]:
    out: list[m.Finding] = []
    specs = [doc.inputs[n] for n in t.inputs]
    axes = [_Axis(s, (r.cell(s.name) for r in t.rules)) for s in specs]
    covers: list[list[_Runs]] = []
    for rule in t.rules:
        row: list[_Runs] = []
        for axis in axes:
            runs, problem = axis.cover(rule.cell(axis.name))
            row.append(runs)
            if problem is not None:
                code = "unknown-value" if problem.startswith("unknown value") else "type-error"
                out.append(_finding(code, f"{axis.name}: {problem}", t.id, rule.id, rule.loc))
        covers.append(row)
        for name, value in rule.then:
            spec = t.output(name)
            if spec is None:
                continue
            problem = _value_fits(spec.type, spec.values, value)
            if problem is not None:
                expected = (
                    f"one of {', '.join(map(str, spec.values))}"
                    if problem == "unknown-value"
                    else f"a {spec.type}"
                )
                out.append(
                    _finding(
                        problem,
                        f"output {name}: {value!r} is not {expected}",
                        t.id,
                        rule.id,
                        rule.loc,
                    )
                )
    if t.hit_policy == "COLLECT" and t.aggregate in ("SUM", "MIN", "MAX"):
        for o in t.outputs:
            if o.type not in ("int", "decimal"):
                out.append(
                    _finding(
                        "type-error",
                        f"{t.aggregate} needs numeric outputs; {o.name} is {o.type}",
                        t.id,
                        None,
                        o.loc,
                    )
                )
    for axis in axes:
        if all(r.cell(axis.name).kind == "any" for r in t.rules):
            out.append(
                _finding(
                    "unconstrained-input",
                    f"input {axis.name} is listed but every row accepts any value",
                    t.id,
                    None,
                    t.loc,
                )
            )
    if t.hit_policy == "COLLECT" or not t.rules:
        if not t.rules and t.hit_policy != "COLLECT":
            out.append(_finding("gap", "no rule matches any input", t.id, None, t.loc))
        return out
    duplicates = _duplicates(t, covers)
    out.extend(duplicates[0])
    ranks = None
    if t.hit_policy == "PRIORITY":
        ranks = [
            tuple(
                o.values.index(v) if v in o.values else len(o.values)
                for o in t.outputs
                for v in [dict(r.then).get(o.name)]
            )
            for r in t.rules
        ]
    walk = _Walk(axes, covers, overlaps_wanted=t.hit_policy == "UNIQUE", ranks=ranks)
    walk.run()
    if walk.truncated:
        out.append(
            _finding(
                "check-incomplete",
                f"the table has too many regions to walk (> {WALK_BUDGET}); "
                "gap, overlap and shadowing results are partial",
                t.id,
                None,
                t.loc,
            )
        )
    out.extend(_region_findings("gap", axes, [(walk.gaps, "no rule matches", None, t.loc)], t.id))
    if t.hit_policy == "UNIQUE":
        items = []
        for hit, boxes in walk.overlaps.items():
            rows = list(_bits(hit))
            if frozenset(rows) <= duplicates[1].get(rows[0], frozenset()):
                continue  # already reported as a duplicate
            ids = [t.rules[i].id for i in rows]
            verb = "both match" if len(ids) == 2 else "all match"
            last = t.rules[rows[-1]]
            items.append((boxes, f"rules {_ids(ids)} {verb}", last.id, last.loc))
        items.sort(key=lambda item: item[3].line)
        out.extend(_region_findings("overlap", axes, items, t.id))
    dead = [i for i, row in enumerate(covers) if not all(row)]
    for i in dead:
        rule = t.rules[i]
        never = next(a for a, runs in enumerate(covers[i]) if not runs)
        axis = axes[never]
        cell = rule.cell(axis.name)
        if cell.kind in ("range", "missing", "not") and not _cell_problem(axis, cell):
            out.append(
                _finding(
                    "shadowed-row",
                    f"rule {rule.id} can never match: {axis.name} {cell.text} holds for no "
                    "allowed value"
                    + (" (the input is not nullable)" if cell.kind == "missing" else ""),
                    t.id,
                    rule.id,
                    rule.loc,
                )
            )
    if t.hit_policy == "FIRST" and not walk.truncated:
        named = 0
        for i, rule in enumerate(t.rules):
            if walk.winners >> i & 1 or i in dead:
                continue
            if i in duplicates[1] and i != min(duplicates[1][i]):
                continue  # reported as a duplicate of an earlier row
            named += 1
            earlier = _covering_rows(covers, i) if named <= MAX_REGION_FINDINGS else []
            out.append(
                _finding(
                    "shadowed-row",
                    f"rule {rule.id} can never be reached: "
                    + (
                        f"earlier rule(s) {_ids([t.rules[j].id for j in earlier])} "
                        "cover all it matches"
                        if earlier
                        else "earlier rules cover all it matches"
                    ),
                    t.id,
                    rule.id,
                    rule.loc,
                )
            )
    if t.hit_policy == "PRIORITY" and not walk.truncated:
        for i, rule in enumerate(t.rules):
            if walk.winners >> i & 1 or i in dead:
                continue
            out.append(
                _finding(
                    "shadowed-row",
                    f"rule {rule.id} never decides: wherever it matches, a row with an "
                    f"output of higher priority (or the same, written earlier) matches too",
                    t.id,
                    rule.id,
                    rule.loc,
                )
            )
    return out


def _cell_problem(axis: _Axis, cell: Cell) -> bool:
    return axis.cover(cell)[1] is not None


def _covering_rows(covers: list[list[_Runs]], i: int) -> list[int]:
    """Earlier rows that meet row i (to name the culprits of a shadowed row)."""
    mine = [_mask(r) for r in covers[i]]
    return [
        j for j in range(i) if all(_mask(r) & mk for r, mk in zip(covers[j], mine, strict=True))
    ][:5]


def _duplicates(
    t: m.DecisionTable, covers: list[list[_Runs]]
) -> tuple[list[m.Finding], dict[int, frozenset[int]]]:
    """Rows with the same conditions (compared by what they match, not how they are written)."""
    if t.hit_policy not in ("UNIQUE", "FIRST"):
        return [], {}
    groups: dict[tuple[_Runs, ...], list[int]] = {}
    for i, row in enumerate(covers):
        if all(row):  # a row matching nothing is reported as a type error already
            groups.setdefault(tuple(row), []).append(i)
    out: list[m.Finding] = []
    members: dict[int, frozenset[int]] = {}
    for rows in groups.values():
        if len(rows) < 2:
            continue
        group = frozenset(rows)
        first = t.rules[rows[0]]
        for i in rows[1:]:
            members[i] = group
            rule = t.rules[i]
            same = dict(rule.then) == dict(first.then)
            out.append(
                _finding(
                    "duplicate-row" if same else "conflicting-duplicate",
                    f"rule {rule.id} has the same conditions as rule {first.id}"
                    + (
                        " and the same outputs"
                        if same
                        else f" but different outputs ({_outputs(rule)} vs {_outputs(first)})"
                    ),
                    t.id,
                    rule.id,
                    rule.loc,
                )
            )
        members[rows[0]] = group
    return out, members


def _outputs(rule: m.Rule) -> str:
    return ", ".join(f"{k}={v}" for k, v in rule.then)


# scorecards -------------------------------------------------------------------------------------
def _check_scorecard(doc: m.RuleSetDocument, s: m.Scorecard) -> list[m.Finding]:
    out: list[m.Finding] = []
    for ch in s.characteristics:
        spec = doc.inputs[ch.input]
        axis = _Axis(spec, (b.cell for b in ch.bins))
        covers: list[list[_Runs]] = []
        for i, b in enumerate(ch.bins):
            runs, problem = axis.cover(b.cell)
            covers.append([runs])
            if problem is not None:
                code = "unknown-value" if problem.startswith("unknown value") else "type-error"
                out.append(_finding(code, problem, s.id, _bin_id(ch, i), b.loc))
        walk = _Walk([axis], covers, overlaps_wanted=True)
        walk.run()
        out.extend(
            _region_findings(
                "gap", [axis], [(walk.gaps, f"no bin of {ch.input} matches", None, ch.loc)], s.id
            )
        )
        partial: dict[int, list[Box]] = {}
        for hit, boxes in walk.overlaps.items():
            for i in list(_bits(hit))[1:]:
                if walk.winners >> i & 1:
                    partial.setdefault(i, []).extend(boxes)
        for i, b in enumerate(ch.bins):
            if not covers[i][0] and axis.cover(b.cell)[1] is not None:
                continue  # reported as a type error
            if not walk.winners >> i & 1:
                why = (
                    "earlier bins cover all it matches"
                    if covers[i][0]
                    else "it holds for no allowed value"
                )
                out.append(
                    _finding(
                        "shadowed-row",
                        f"bin {b.cell.text!r} of {ch.input} can never be reached: {why}",
                        s.id,
                        _bin_id(ch, i),
                        b.loc,
                    )
                )
            elif i in partial:
                out.extend(
                    _region_findings(
                        "bin-overlap",
                        [axis],
                        [
                            (
                                partial[i],
                                f"bin {b.cell.text!r} overlaps earlier bins (they win) at",
                                _bin_id(ch, i),
                                b.loc,
                            )
                        ],
                        s.id,
                    )
                )
    listed = set(s.inputs) - {c.input for c in s.characteristics}
    for name in sorted(listed):
        out.append(
            _finding(
                "unconstrained-input",
                f"input {name} is listed but no characteristic reads it",
                s.id,
                None,
                s.loc,
            )
        )
    return out


def _bin_id(ch: m.Characteristic, i: int) -> str:
    return f"{ch.input} bin {i + 1}"


# master scales ----------------------------------------------------------------------------------
def _check_scale(doc: m.RuleSetDocument, s: m.MasterScale) -> list[m.Finding]:
    out: list[m.Finding] = []
    spec = doc.inputs[s.input]
    if spec.type not in _NUMERIC:
        return [
            _finding(
                "type-error",
                f"a master scale reads a number; {s.input} is {spec.type}",
                s.id,
                None,
                s.loc,
            )
        ]
    bands = [g for g in s.grades if not g.is_default]
    defaults = [g for g in s.grades if g.is_default]
    if len(bands) < MIN_NON_DEFAULT_GRADES or len(defaults) != 1:
        out.append(
            _finding(
                "scale-too-few-grades",
                f"the scale has {len(bands)} non-default and {len(defaults)} default grade(s); "
                f"at least {MIN_NON_DEFAULT_GRADES} non-default and exactly 1 default are "
                "required",
                s.id,
                None,
                s.loc,
            )
        )
    seen: dict[str, m.Grade] = {}
    for g in s.grades:
        if g.grade in seen:
            out.append(
                _finding(
                    "duplicate-grade",
                    f"grade {g.grade} is named twice (first at line {seen[g.grade].loc.line})",
                    s.id,
                    g.grade,
                    g.loc,
                )
            )
        seen.setdefault(g.grade, g)
    ordered = True
    for prev, g in zip([None, *bands], bands, strict=False):
        assert g.upper is not None
        if g.lower >= g.upper:
            ordered = False
            out.append(
                _finding(
                    "scale-not-monotone",
                    f"band {g.grade} [{g.lower}..{g.upper}) is empty: from must be below to",
                    s.id,
                    g.grade,
                    g.loc,
                )
            )
        elif prev is not None and g.lower < prev.lower:
            ordered = False
            out.append(
                _finding(
                    "scale-not-monotone",
                    f"band {g.grade} starts at {g.lower}, below band {prev.grade} "
                    f"({prev.lower}); bands must ascend from the best grade to the worst",
                    s.id,
                    g.grade,
                    g.loc,
                )
            )
    top = max((g.upper for g in bands if g.upper is not None), default=None)
    for d in defaults:
        if top is not None and d.lower < top:
            out.append(
                _finding(
                    "scale-not-monotone",
                    f"default grade {d.grade} at {d.lower} lies below the end of the bands ({top})",
                    s.id,
                    d.grade,
                    d.loc,
                )
            )
    # cells of a virtual one-input table: bands [from..to), defaults = at
    low = spec.min
    if s.floor is not None and (low is None or s.floor > low):
        low = s.floor  # values below the floor are graded as the floor
    cells = [
        Cell("range", f"= {g.lower}", low=g.lower, high=g.lower)
        if g.is_default
        else Cell("range", f"[{g.lower}..{g.upper})", low=g.lower, high=g.upper, high_closed=False)
        for g in s.grades
    ]
    axis = _Axis(spec, cells, domain=(low, spec.max))
    covers = [[axis.cover(c)[0]] for c in cells]
    walk = _Walk([axis], covers, overlaps_wanted=True)
    walk.run()
    interior: tuple[_Cut, _Cut] | None = None
    if ordered and bands:
        interior = (axis._cut(bands[0].lower, before=True), axis._cut(top, before=True))
        for prev, g in itertools.pairwise(bands):
            if prev.upper != g.lower:
                assert prev.upper is not None
                lo, hi = sorted((prev.upper, g.lower))
                region = axis._interval(axis._cut(lo, before=True), axis._cut(hi, before=True))
                what = (
                    f"{region} has no grade" if prev.upper < g.lower else f"{region} falls in both"
                )
                out.append(
                    _finding(
                        "scale-not-contiguous",
                        f"band {prev.grade} ends at {prev.upper} but band {g.grade} starts at "
                        f"{g.lower}: {what}",
                        s.id,
                        g.grade,
                        g.loc,
                    )
                )

    def outside(box: Box) -> bool:
        if interior is None:
            return True
        lo_atom = axis._start(interior[0])
        hi_atom = axis._start(interior[1])
        inside = ((1 << hi_atom) - 1) & ~((1 << lo_atom) - 1)
        return (box[0] & ~inside) != 0

    gaps = [b for b in walk.gaps if outside(b)]
    out.extend(_region_findings("gap", [axis], [(gaps, "no grade for", None, s.loc)], s.id))
    items = []
    for hit, boxes in walk.overlaps.items():
        boxes = [b for b in boxes if outside(b)]
        if boxes:
            rows = list(_bits(hit))
            names = [s.grades[i].grade for i in rows]
            last = s.grades[rows[-1]]
            items.append((boxes, f"grades {_ids(names)} all cover", last.grade, last.loc))
    out.extend(_region_findings("overlap", [axis], items, s.id))
    return out


# threshold ladders ------------------------------------------------------------------------------
def _check_ladder(doc: m.RuleSetDocument, ladder: m.ThresholdLadder) -> list[m.Finding]:
    out: list[m.Finding] = []
    spec = doc.inputs[ladder.input]
    if spec.type not in (*_ORDERED, "enum"):
        return [
            _finding(
                "type-error",
                f"a threshold ladder needs an ordered input; {ladder.input} is {spec.type}",
                ladder.id,
                None,
                ladder.loc,
            )
        ]
    enum = spec.type == "enum"

    def key(v: Any) -> Any:
        return spec.values.index(v) if enum else v

    def show(v: Any) -> str:
        return _show(v) if enum else (v.isoformat() if isinstance(v, date) else str(v))

    steps = ladder.steps
    ordered = True
    for prev, step in itertools.pairwise(steps):
        if key(step.start) == key(prev.start):
            ordered = False
            out.append(
                _finding(
                    "overlap",
                    f"steps from {show(prev.start)} (value {prev.value}) and from "
                    f"{show(step.start)} (value {step.value}) start at the same value; "
                    f"the earlier one is never used",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                )
            )
        elif key(step.start) < key(prev.start):
            ordered = False
            out.append(
                _finding(
                    "ladder-not-ordered",
                    f"step from {show(step.start)} comes after the step from "
                    f"{show(prev.start)}; steps must ascend",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                )
            )
    if spec.nullable:
        out.append(
            _finding("gap", f"no step matches {ladder.input} missing", ladder.id, None, ladder.loc)
        )
    if not steps or not ordered:
        return out
    first = steps[0]
    if enum:
        below = spec.values[: spec.values.index(first.start)]
        if below:
            region = (
                f"{ladder.input} = {_show(below[0])}"
                if len(below) == 1
                else f"{ladder.input} in {{{', '.join(_show(v) for v in below)}}}"
            )
            out.append(_finding("gap", f"no step matches {region}", ladder.id, None, ladder.loc))
        return out
    cells = [
        Cell("range", f">= {show(st.start)}", low=st.start)
        if i == len(steps) - 1
        else Cell(
            "range",
            f"[{show(st.start)}..{show(steps[i + 1].start)})",
            low=st.start,
            high=steps[i + 1].start,
            high_closed=False,
        )
        for i, st in enumerate(steps)
    ]
    axis = _Axis(spec, cells, domain=(ladder.domain_min, ladder.domain_max))
    first_cut = axis._cut(first.start, before=True)
    if axis.dom_lo is None or first_cut > axis.dom_lo:
        region = axis._interval(axis.dom_lo, first_cut)
        out.append(_finding("gap", f"no step matches {region}", ladder.id, None, ladder.loc))
    for step, cell in zip(steps, cells, strict=True):
        if not axis.cover(cell)[0]:
            start = axis._cut(step.start, before=True)
            above = axis.dom_hi is not None and start >= axis.dom_hi
            where = "above the domain's max" if above else "below the domain's min"
            out.append(
                _finding(
                    "unreachable-step",
                    f"step from {show(step.start)} (value {step.value}) lies wholly {where}",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                )
            )
    return out


# matrices ---------------------------------------------------------------------------------------
def _check_matrix(doc: m.RuleSetDocument, mx: m.Matrix) -> list[m.Finding]:
    out: list[m.Finding] = []
    for label, name, cells, locs in (
        ("r", mx.row_input, mx.row_cells, mx.row_locs),
        ("c", mx.col_input, mx.col_cells, mx.col_locs),
    ):

        def where(i: int, locs: tuple[SourceLocation, ...] = locs) -> SourceLocation:
            return locs[i] if i < len(locs) else mx.loc

        axis = _Axis(doc.inputs[name], cells)
        what = "row" if label == "r" else "column"
        covers: list[list[_Runs]] = []
        for i, cell in enumerate(cells):
            runs, problem = axis.cover(cell)
            covers.append([runs])
            if problem is not None:
                code = "unknown-value" if problem.startswith("unknown value") else "type-error"
                out.append(
                    _finding(code, f"{what} {i + 1}: {problem}", mx.id, f"{label}{i + 1}", where(i))
                )
        walk = _Walk([axis], covers, overlaps_wanted=True)
        walk.run()
        out.extend(
            _region_findings(
                "gap", [axis], [(walk.gaps, f"no {what} matches", None, mx.loc)], mx.id
            )
        )
        items = []
        for hit, boxes in walk.overlaps.items():
            rows = list(_bits(hit))
            ids = [f"{label}{i + 1}" for i in rows]
            items.append(
                (
                    boxes,
                    f"{what}s {_ids(ids)} ({', '.join(cells[i].text for i in rows)}) all match",
                    ids[-1],
                    where(rows[-1]),
                )
            )
        out.extend(_region_findings("overlap", [axis], items, mx.id))
    for i, row in enumerate(mx.values):
        for j, value in enumerate(row):
            if value is None or (isinstance(value, str) and not value.strip()):
                out.append(
                    _finding(
                        "empty-cell",
                        f"cell r{i + 1}c{j + 1} ({mx.row_cells[i].text} x "
                        f"{mx.col_cells[j].text}) has no value",
                        mx.id,
                        f"r{i + 1}c{j + 1}",
                        mx.value_locs[i][j] if i < len(mx.value_locs) else mx.loc,
                    )
                )
    return out


# formulas and triggers: interval reasoning over comparisons with constants ---------------------
@attrs.frozen
class _Range:
    """What a numeric name may still be: an interval (whole numbers if `whole`) minus points."""

    lo: Decimal | None = None
    lo_closed: bool = True
    hi: Decimal | None = None
    hi_closed: bool = True
    whole: bool = False
    excluded: frozenset[Decimal] = frozenset()

    def meet(self, op: str, c: Decimal) -> _Range:
        if op == "!=":
            return attrs.evolve(self, excluded=self.excluded | {c})
        r = self
        if op in ("<", "<=", "=="):
            closed = op != "<"
            if r.hi is None or c < r.hi or (c == r.hi and not closed):
                r = attrs.evolve(r, hi=c, hi_closed=closed)
        if op in (">", ">=", "=="):
            closed = op != ">"
            if r.lo is None or c > r.lo or (c == r.lo and not closed):
                r = attrs.evolve(r, lo=c, lo_closed=closed)
        return r

    def _whole_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        lo = hi = None
        if self.lo is not None:
            lo = Decimal(math.ceil(self.lo) if self.lo_closed else math.floor(self.lo) + 1)
        if self.hi is not None:
            hi = Decimal(math.floor(self.hi) if self.hi_closed else math.ceil(self.hi) - 1)
        return lo, hi

    @property
    def empty(self) -> bool:
        if self.whole:
            lo, hi = self._whole_bounds()
            if lo is not None and hi is not None:
                if hi - lo + 1 > len(self.excluded):
                    return False
                return all(Decimal(v) in self.excluded for v in range(int(lo), int(hi) + 1))
            return False
        if self.lo is None or self.hi is None:
            return False
        if self.lo > self.hi:
            return True
        if self.lo == self.hi:
            return not (self.lo_closed and self.hi_closed) or self.lo in self.excluded
        return False

    def allows(self, value: Decimal) -> bool:
        if value in self.excluded:
            return False
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_closed)):
            return False
        return not (
            self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_closed))
        )


@attrs.frozen
class _Values:
    """What a text/enum/bool name may still be: `allowed` (None = anything) minus `excluded`."""

    allowed: frozenset[Any] | None = None
    excluded: frozenset[Any] = frozenset()

    def meet(self, op: str, values: frozenset[Any]) -> _Values:
        if op in ("==", "in"):
            allowed = values if self.allowed is None else self.allowed & values
            return attrs.evolve(self, allowed=allowed)
        return attrs.evolve(self, excluded=self.excluded | values)

    @property
    def empty(self) -> bool:
        return self.allowed is not None and not (self.allowed - self.excluded)


_Fact = _Range | _Values
_Facts = Mapping[str, _Fact]
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==", "in": "not in"}
_NEGATE["not in"] = "in"
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_UNKNOWN = object()


def _domain_facts(doc: m.RuleSetDocument, names: Iterable[str]) -> dict[str, _Fact]:
    facts: dict[str, _Fact] = {}
    for name in names:
        spec = doc.inputs.get(name)
        if spec is None:
            continue
        if spec.type in _NUMERIC:
            facts[name] = _Range(lo=spec.min, hi=spec.max, whole=spec.type == "int")
        elif spec.type in ("enum", "bool"):
            values: set[Any] = set(spec.values) if spec.type == "enum" else {True, False}
            if spec.nullable:
                values.add(None)
            facts[name] = _Values(allowed=frozenset(values))
        elif spec.type == "string":
            facts[name] = _Values()
    return facts


class _Reasoner:
    """Abstract evaluation of a formula tree over the facts known about its names."""

    def __init__(self, text: str) -> None:
        self.text = text

    def constant(self, node: ast.AST) -> Any:
        """The value of a constant expression (numbers as Decimal), or _UNKNOWN."""
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None or isinstance(v, str):
                return v
            if isinstance(v, int | float):
                segment = ast.get_source_segment(self.text, node) or str(v)
                try:
                    return Decimal(segment.replace("_", ""))
                except ArithmeticError:
                    return _UNKNOWN
            return _UNKNOWN
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.constant(node.operand)
            if isinstance(inner, Decimal):
                return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Tuple | ast.List):
            items = [self.constant(e) for e in node.elts]
            return _UNKNOWN if any(i is _UNKNOWN for i in items) else tuple(items)
        return _UNKNOWN

    def assume(self, node: ast.AST, truth: bool, facts: _Facts | None) -> _Facts | None:
        """`facts` refined by `node` having the value `truth`; None when it cannot."""
        if facts is None:
            return None
        if isinstance(node, ast.BoolOp):
            conj = isinstance(node.op, ast.And) == truth  # every operand takes `truth`
            if conj:
                current: _Facts | None = facts
                for v in node.values:
                    current = self.assume(v, truth, current)
                return current
            return self._either([self.assume(v, truth, facts) for v in node.values], facts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.assume(node.operand, not truth, facts)
        if isinstance(node, ast.IfExp):
            yes = self.assume(node.body, truth, self.assume(node.test, True, facts))
            no = self.assume(node.orelse, truth, self.assume(node.test, False, facts))
            return self._either([yes, no], facts)
        if isinstance(node, ast.Name):
            fact = facts.get(node.id)
            if (
                isinstance(fact, _Values)
                and fact.allowed is not None
                and (fact.allowed <= {True, False, None})
            ):
                # a missing (None) flag reads as false
                holds = frozenset({True}) if truth else frozenset({False, None})
                return self._refine(facts, node.id, fact.meet("==", holds))
            return facts
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1 and not truth:
                return facts  # not (a < b < c) is a disjunction; stay conservative
            left = node.left
            current = facts
            for op_node, right in zip(node.ops, node.comparators, strict=True):
                op = _OPS.get(type(op_node))
                if op is None:
                    return facts
                current = self._compare(left, op if truth else _NEGATE[op], right, current)
                if current is None:
                    return None
                left = right
            return current
        value = self.constant(node)
        if value is not _UNKNOWN and isinstance(value, bool):
            return facts if value == truth else None
        return facts

    @staticmethod
    def _either(options: list[_Facts | None], facts: _Facts) -> _Facts | None:
        possible = [o for o in options if o is not None]
        if not possible:
            return None
        return possible[0] if len(possible) == 1 else facts

    def _compare(self, left: ast.AST, op: str, right: ast.AST, facts: _Facts) -> _Facts | None:
        lc, rc = self.constant(left), self.constant(right)
        if lc is not _UNKNOWN and rc is not _UNKNOWN:
            result = _compare_constants(lc, op, rc)
            if result is None:
                return facts
            return facts if result else None
        if isinstance(left, ast.Name) and rc is not _UNKNOWN:
            name, c = left.id, rc
        elif isinstance(right, ast.Name) and lc is not _UNKNOWN and op in _FLIP:
            name, c, op = right.id, lc, _FLIP[op]
        else:
            return facts
        fact = facts.get(name)
        if fact is None:
            return facts
        if isinstance(fact, _Range):
            if op in ("in", "not in"):
                points = [x for x in c if isinstance(x, Decimal)] if isinstance(c, tuple) else []
                if op == "in" and not any(fact.allows(p) for p in points):
                    return None
                return facts
            if not isinstance(c, Decimal):
                return facts
            return self._refine(facts, name, fact.meet(op, c))
        if op in ("in", "not in"):
            values = frozenset(c) if isinstance(c, tuple) else frozenset()
            return self._refine(facts, name, fact.meet(op, values))
        if op in ("==", "!="):
            return self._refine(facts, name, fact.meet(op, frozenset({c})))
        return facts

    @staticmethod
    def _refine(facts: _Facts, name: str, fact: _Fact) -> _Facts | None:
        if fact.empty:
            return None
        refined = dict(facts)
        refined[name] = fact
        return refined

    def divisions(self, node: ast.AST, facts: _Facts | None, report: Callable[[str], None]) -> None:
        """Report every `x / name` where `name` is tracked and may be 0 under `facts`."""
        if facts is None:
            return  # this branch is never taken
        if isinstance(node, ast.IfExp):
            self.divisions(node.test, facts, report)
            self.divisions(node.body, self.assume(node.test, True, facts), report)
            self.divisions(node.orelse, self.assume(node.test, False, facts), report)
            return
        if isinstance(node, ast.BoolOp):
            current: _Facts | None = facts
            for v in node.values:
                self.divisions(v, current, report)
                current = self.assume(v, isinstance(node.op, ast.And), current)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            divisor = node.right
            if isinstance(divisor, ast.Name):
                fact = facts.get(divisor.id)
                if isinstance(fact, _Range) and fact.allows(Decimal(0)):
                    report(divisor.id)
        for child in ast.iter_child_nodes(node):
            self.divisions(child, facts, report)


def _compare_constants(a: Any, op: str, b: Any) -> bool | None:
    try:
        if op == "in":
            return bool(a in b)
        if op == "not in":
            return bool(a not in b)
        return bool(
            {
                "<": lambda: a < b,
                "<=": lambda: a <= b,
                ">": lambda: a > b,
                ">=": lambda: a >= b,
                "==": lambda: a == b,
                "!=": lambda: a != b,
            }[op]()
        )
    except TypeError:
        return None


def _check_division(
    doc: m.RuleSetDocument,
    block: m.Block,
    where: str,
    expr: Any,
    loc: SourceLocation,
    out: list[m.Finding],
) -> None:
    if expr.tree is None:
        return
    facts = _domain_facts(doc, block.inputs)
    reported: set[str] = set()

    def report(name: str) -> None:
        if name in reported:
            return
        reported.add(name)
        spec = doc.inputs[name]
        domain = f"[{spec.min if spec.min is not None else ''}..{spec.max if spec.max is not None else ''}]"
        out.append(
            _finding(
                "division-by-zero",
                f"{expr.text!r} divides by {name}, which may be 0 (domain {domain}); "
                f"declare min > 0 or guard it, e.g. `... if {name} != 0 else ...`",
                block.id,
                where,
                loc,
            )
        )

    _Reasoner(expr.text).divisions(expr.tree.body, facts, report)


def _check_lookup_types(
    doc: m.RuleSetDocument,
    block: m.Block,
    where: str,
    expr: Any,
    loc: SourceLocation,
    types: Mapping[str, str],
    out: list[m.Finding],
) -> None:
    """Arguments passed to `lookup(...)` must fit the target block's inputs."""
    if expr.tree is None:
        return
    reasoner = _Reasoner(expr.text)
    for node in ast.walk(expr.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id != "lookup" or len(node.args) != 2:
            continue
        target_id = reasoner.constant(node.args[0])
        target = doc.blocks.get(target_id) if isinstance(target_id, str) else None
        if target is None:
            continue
        for kw in node.keywords:
            spec = doc.inputs.get(kw.arg or "")
            if spec is None:
                continue
            want = INPUT_VALUE_TYPES[spec.type]
            got: str | None = None
            value = reasoner.constant(kw.value)
            if isinstance(kw.value, ast.Name):
                got = types.get(kw.value.id)
            elif value is not _UNKNOWN and value is not None:
                got = (
                    "bool"
                    if isinstance(value, bool)
                    else "num"
                    if isinstance(value, Decimal)
                    else "str"
                )
            if got is not None and got not in (want, "any"):
                out.append(
                    _finding(
                        "type-error",
                        f"lookup of {target.id} passes a {got} as {kw.arg}, which is {spec.type}",
                        block.id,
                        where,
                        loc,
                    )
                )
            elif spec.type == "enum" and isinstance(value, str) and value not in spec.values:
                out.append(
                    _finding(
                        "unknown-value",
                        f"lookup of {target.id} passes {value!r} as {kw.arg}, not one of "
                        f"{', '.join(spec.values)}",
                        block.id,
                        where,
                        loc,
                    )
                )


def _check_enum_constants(
    doc: m.RuleSetDocument,
    block: m.Block,
    where: str,
    expr: Any,
    loc: SourceLocation,
    out: list[m.Finding],
) -> None:
    """`rating == "AAB"`: a comparison of an enum input with a value it does not declare."""
    if expr.tree is None:
        return
    reasoner = _Reasoner(expr.text)
    for node in ast.walk(expr.tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, right in itertools.pairwise(operands):
            for name_node, other in ((left, right), (right, left)):
                if not isinstance(name_node, ast.Name):
                    continue
                spec = doc.inputs.get(name_node.id)
                if spec is None or spec.type != "enum" or name_node.id not in block.inputs:
                    continue
                value = reasoner.constant(other)
                values = value if isinstance(value, tuple) else (value,)
                bad = [v for v in values if isinstance(v, str) and v not in spec.values]
                if bad:
                    out.append(
                        _finding(
                            "unknown-value",
                            f"{expr.text!r} compares {spec.name} with "
                            f"{', '.join(repr(b) for b in bad)}, not one of "
                            f"{', '.join(spec.values)}",
                            block.id,
                            where,
                            loc,
                        )
                    )


def _check_formula(doc: m.RuleSetDocument, f: m.Formula) -> list[m.Finding]:
    out: list[m.Finding] = []
    types: dict[str, str] = {n: INPUT_VALUE_TYPES[doc.inputs[n].type] for n in f.inputs}
    used: set[str] = set()
    for name, expr in f.lets:
        used |= expr.names
        loc = expr.loc or f.loc
        _check_division(doc, f, f"let {name}", expr, loc, out)
        _check_lookup_types(doc, f, f"let {name}", expr, loc, types, out)
        _check_enum_constants(doc, f, f"let {name}", expr, loc, out)
        types[name] = expr.type
    for name, expr in f.expressions:
        used |= expr.names
        loc = expr.loc or f.loc
        _check_division(doc, f, name, expr, loc, out)
        _check_lookup_types(doc, f, name, expr, loc, types, out)
        _check_enum_constants(doc, f, name, expr, loc, out)
        spec = f.output(name)
        declared = INPUT_VALUE_TYPES.get(spec.type) if spec is not None else None
        if declared is not None and expr.type not in ("any", declared):
            out.append(
                _finding(
                    "type-error",
                    f"output {name} is declared {spec.type if spec else '?'} but "
                    f"{expr.text!r} gives a {expr.type}",
                    f.id,
                    name,
                    loc,
                )
            )
    for name in f.inputs:
        if name not in used:
            out.append(
                _finding(
                    "unconstrained-input",
                    f"input {name} is listed but no expression reads it",
                    f.id,
                    None,
                    f.loc,
                )
            )
    return out


def _check_triggers(doc: m.RuleSetDocument, ts: m.TriggerSet) -> list[m.Finding]:
    out: list[m.Finding] = []
    types = {n: INPUT_VALUE_TYPES[doc.inputs[n].type] for n in ts.inputs}
    used: set[str] = set()
    for t in ts.triggers:
        used |= t.expr.names
        loc = t.expr.loc or t.loc
        _check_division(doc, ts, t.id, t.expr, loc, out)
        _check_lookup_types(doc, ts, t.id, t.expr, loc, types, out)
        _check_enum_constants(doc, ts, t.id, t.expr, loc, out)
        if t.expr.tree is None:
            continue
        facts = _domain_facts(doc, ts.inputs)
        if _Reasoner(t.expr.text).assume(t.expr.tree.body, True, facts) is None:
            out.append(
                _finding(
                    "trigger-never-fires",
                    f"trigger {t.id} can never fire: {t.expr.text!r} is false for every "
                    "allowed input",
                    ts.id,
                    t.id,
                    t.loc,
                )
            )
    for name in ts.inputs:
        if name not in used:
            out.append(
                _finding(
                    "unconstrained-input",
                    f"input {name} is listed but no trigger reads it",
                    ts.id,
                    None,
                    ts.loc,
                )
            )
    return out
