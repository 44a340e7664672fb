"""The geometry of the checks: inputs cut into atoms, and the walk over their product.

An `Axis` is one input of a table cut at every boundary a cell names (numbers and dates become
elementary intervals, enum inputs their declared values, booleans true/false, nullable inputs
one more "missing" atom); a row's cell covers runs of atoms. `Walk` walks the product of the
axes for a list of rows: it splits one input at a time and, at each step, only at the
boundaries of the rows still in play, so a row that survives alone is not cut further and a
region no row reaches is reported whole. It collects gaps (regions no row covers), overlaps
(regions several rows cover) and the rows that decide somewhere (`winners`).
`region_findings` turns regions into findings in the policy's own terms, e.g.
``dpd in [91..120), grade = "BB"``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import attrs

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.messages import Text, Value

#: At most this many gap or overlap findings per block (the last one says how many more).
MAX_REGION_FINDINGS = 20
#: At most this many raw regions are merged per finding group (the rest are only counted).
MAX_MERGED_BOXES = 5_000


class FindingFactory(Protocol):
    """Makes a finding: (message key, block, rule, location, **values) -> Finding with the
    severity of the key's code (see `messages`)."""

    def __call__(
        self,
        key: str,
        block: str | None = None,
        rule: str | None = None,
        location: SourceLocation | None = None,
        /,
        **values: Value,
    ) -> Finding: ...


Cut = tuple[Any, int]  # (value, 0 = just before value | 1 = just after value)
Runs = tuple[tuple[int, int], ...]


class Other:
    """The atom of a string input standing for every value no cell names."""

    def __repr__(self) -> str:
        return "<other>"


OTHER = Other()


# axes: one input cut into atoms -----------------------------------------------------------------
class Axis:
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
        self.ordered = spec.type in m.ORDERED_TYPES
        self.whole = spec.type in ("int", "date")
        self.cuts: list[Cut] = []
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}
        self.dom_lo: Cut | None = None
        self.dom_hi: Cut | None = None
        if self.ordered:
            low, high = domain if domain is not None else (spec.min, spec.max)
            if spec.type == "date" and domain is None:
                low = high = None
            if low is not None:
                self.dom_lo = self.cut(low, before=True)
            if high is not None:
                self.dom_hi = self.cut(high, before=False)
            cuts: set[Cut] = set()
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
                self.values = [*sorted(named, key=str), OTHER]
            self.index = {value_key(v): i for i, v in enumerate(self.values)}
            self.n_values = len(self.values)
        self.missing = self.n_values if spec.nullable else None
        self.n = self.n_values + (1 if spec.nullable else 0)
        self.full_mask = (1 << self.n) - 1
        self.values_mask = (1 << self.n_values) - 1

    # ordered axes
    def _inside(self, cut: Cut) -> bool:
        return (self.dom_lo is None or cut > self.dom_lo) and (
            self.dom_hi is None or cut < self.dom_hi
        )

    def _cell_cuts(self, cell: Cell) -> tuple[Cut | None, Cut | None] | None:
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
            lo = self.cut(cell.low, before=cell.low_closed)
        if cell.high is not None:
            hi = self.cut(cell.high, before=not cell.high_closed)
        return lo, hi

    def cut(self, value: Any, *, before: bool) -> Cut:
        """The cut just before (`before`) or just after `value` on this axis (whole-number
        and date axes cut between whole values)."""
        if isinstance(value, date):
            value = value.toordinal()
        if not self.whole:
            return (value, 0 if before else 1)
        number = Decimal(value)
        if before:  # [v.. or ..v)
            return (math.ceil(number), 0)
        return (math.floor(number) + 1, 0)  # (v.. or ..v]

    def start(self, cut: Cut | None) -> int:
        """The index of the atom that starts at `cut` (clipped to the domain)."""
        if cut is None:
            return 0
        if self.dom_lo is not None and cut <= self.dom_lo:
            return 0
        if self.dom_hi is not None and cut >= self.dom_hi:
            return self.n_values
        offset = 1 if self.dom_lo is None else 0
        return min(bisect.bisect_left(self.cuts, cut) + offset, self.n_values)

    def atom_bounds(self, i: int) -> tuple[Cut | None, Cut | None]:
        offset = 1 if self.dom_lo is None else 0
        j = i - offset
        lo = self.cuts[j] if 0 <= j < len(self.cuts) else None
        hi = self.cuts[j + 1] if 0 <= j + 1 < len(self.cuts) else None
        return lo, hi

    # all axes
    def cover(self, cell: Cell) -> tuple[Runs, Text | None]:
        """The atoms `cell` matches, as runs [start, end), and a problem with the cell (a
        `type-error.*` or `unknown-value.*` message whose `{where}` the caller fills)."""
        if cell.kind == "any":
            return ((0, self.n),), None
        if cell.kind == "missing":
            if self.missing is None:
                return (), None
            return ((self.missing, self.missing + 1),), None
        if cell.kind == "not" and cell.inner is not None:
            inner, problem = self.cover(cell.inner)
            mask = mask_of(inner)
            runs = runs_of(~mask & self.values_mask)
            return runs, problem
        if self.ordered:
            cuts = self._cell_cuts(cell)
            if cuts is None or cell.kind != "range":
                return (), self._problem("type-error.not-a-test", cell, type=self.spec.type)
            start, end = self.start(cuts[0]), self.start(cuts[1])
            if cuts[1] is None:
                end = self.n_values
            return (((start, end),) if start < end else ()), None
        if cell.kind != "set":
            return (), self._problem(
                "type-error.range-on-unordered", cell, input=self.name, type=self.spec.type
            )
        hits: list[int] = []
        bad: list[Any] = []
        for value in cell.values:
            if self.spec.type == "bool" and not isinstance(value, bool):
                return (), self._problem("type-error.not-bool", cell)
            if self.spec.type != "bool" and isinstance(value, bool):
                return (), self._problem(
                    "type-error.bool-on-other", cell, input=self.name, type=self.spec.type
                )
            i = self.index.get(value_key(value))
            if i is None:
                bad.append(value)
            else:
                hits.append(i)
        mask = 0
        for i in hits:
            mask |= 1 << i
        problem = None
        if bad:
            problem = Text.of(
                "unknown-value.cell",
                input=self.name,
                values=", ".join(repr(str(b)) for b in bad),
                declared=", ".join(map(str, self.values)),
            )
        return runs_of(mask), problem

    def _problem(self, key: str, cell: Cell, **values: Value) -> Text:
        return Text.of(key, cell=repr(cell.text), **values)

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
            runs = runs_of(mask)
            start, end = runs[0][0], runs[-1][1]
            return self.interval(self.atom_bounds(start)[0], self.atom_bounds(end - 1)[1])
        chosen = [v for i, v in enumerate(self.values) if mask >> i & 1]
        if OTHER in chosen:
            left = [v for v in self.values if v not in chosen and v is not OTHER]
            if len(left) == 1:
                return f"{self.name} != {show(left[0])}"
            return f"{self.name} not in {{{', '.join(show(v) for v in left)}}}"
        if len(chosen) == 1:
            return f"{self.name} = {show(chosen[0])}"
        return f"{self.name} in {{{', '.join(show(v) for v in chosen)}}}"

    def interval(self, lo: Cut | None, hi: Cut | None) -> str:
        """The region between two cuts, in the policy's terms (`dpd in [91..120)`)."""
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


def value_key(v: Any) -> Any:
    # enum values are text; True must not collide with 1
    return (type(v) is bool, str(v)) if not isinstance(v, Other) else ("other",)


def show(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    return str(v)


def mask_of(runs: Runs) -> int:
    mask = 0
    for s, e in runs:
        mask |= (1 << e) - (1 << s)
    return mask


def runs_of(mask: int) -> Runs:
    runs: list[tuple[int, int]] = []
    while mask:
        start = (mask & -mask).bit_length() - 1
        filled = mask + (1 << start)  # carries through the run
        end = (filled & -filled).bit_length() - 1
        runs.append((start, end))
        mask &= ~((1 << end) - 1)
    return tuple(runs)


def is_run(mask: int) -> bool:
    return mask != 0 and ((mask + (mask & -mask)) & mask) == 0


def bits_of(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


# the geometric walk -----------------------------------------------------------------------------
Box = tuple[int, ...]  # one atom mask per axis


@attrs.define
class Walk:
    """Walks the product of the axes' atoms for a list of rows (each a run list per axis)."""

    axes: list[Axis]
    covers: list[list[Runs]]
    overlaps_wanted: bool
    #: PRIORITY: each row's output rank (lower wins; ties go to the earlier row)
    ranks: list[tuple[int, ...]] | None = None
    #: at most this many nodes are walked; beyond, `truncated` is set and the walk stops
    budget: int = attrs.field(default=150_000, kw_only=True)
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
        for r in bits_of(rows):
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
            if self.nodes > self.budget:
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
            self.winners |= 1 << min(bits_of(hit), key=lambda r: (ranks[r], r))
        if self.overlaps_wanted and hit & (hit - 1):
            self.overlaps.setdefault(hit, []).append(tuple(box))


def split_pieces(axes: Sequence[Axis], box: Box) -> list[Box]:
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
                pieces.extend(mask_of((run,)) for run in runs_of(values))
            else:
                pieces.append(values)
        if values != mask:
            pieces.append(mask & ~axis.values_mask)
        per_axis.append(pieces)
    out: list[Box] = [()]
    for pieces in per_axis:
        out = [(*b, p) for b in out for p in pieces]
    return out


def merge_boxes(axes: Sequence[Axis], boxes: list[Box]) -> list[Box]:
    """Merge boxes that differ in one coordinate into fewer, larger ones."""
    boxes = [p for b in boxes for p in split_pieces(axes, b)]
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
                    if prev is not None and mergeable(axis, prev, mask):
                        out[-1] = prev | mask
                        changed = True
                    else:
                        out.append(mask)
                merged.extend((*rest[:a], mask, *rest[a:]) for mask in out)
            boxes = merged
        if not changed:
            break
    return sorted(boxes, key=lambda b: tuple((x & -x).bit_length() for x in b))


def mergeable(axis: Axis, a: int, b: int) -> bool:
    if a == axis.full_mask or b == axis.full_mask:
        return False
    missing = ~axis.values_mask & axis.full_mask
    if bool(a & missing) != bool(b & missing):
        return (a | b) == axis.full_mask
    if a & missing:
        return False
    return is_run(a | b) if axis.ordered else True


def region(axes: Sequence[Axis], box: Box) -> str | Text:
    parts = [t for axis, mask in zip(axes, box, strict=True) if (t := axis.render(mask))]
    return ", ".join(parts) if parts else Text.of("note.any-input")


def region_findings(
    finding: FindingFactory,
    axes: Sequence[Axis],
    items: Sequence[tuple[list[Box], Text, str | None, SourceLocation]],
    block: str,
) -> list[Finding]:
    """Findings for regions: each item is (boxes, message, rule, location); the message's
    `{region}` is filled with each region in the policy's terms.

    At most MAX_REGION_FINDINGS are made; the last one says that more exist (and how many,
    when they were all merged)."""
    out: list[Finding] = []
    hidden = 0
    exact = True
    for boxes, text, rule, loc in items:
        if len(out) >= MAX_REGION_FINDINGS:
            exact = False  # not merged: counting them would cost what showing them does
            break
        if len(boxes) > MAX_MERGED_BOXES:
            exact = False
            boxes = boxes[:MAX_MERGED_BOXES]
        for box in merge_boxes(axes, boxes):
            if len(out) < MAX_REGION_FINDINGS:
                region_text = region(axes, box)
                out.append(finding(text.key, block, rule, loc, **text.values, region=region_text))
            else:
                hidden += 1
    if out and (hidden or not exact):
        last = out[-1]
        more = (
            Text.of("note.more-regions", n=hidden, code=last.code)
            if exact
            else Text.of("note.more-regions-uncounted", code=last.code)
        )
        out[-1] = attrs.evolve(last, notes=(*last.notes, more))
    return out
