"""What the checks share about one document: the blocks they can read, and each block's rows
cut along its inputs (`Geometry`), built once however many checks look at them.

A decision table, a scorecard characteristic or a matrix axis is surveyed the first time a
check asks for it: its axes, the atoms every row (bin, row or column cell) covers, the problems
of cells that do not fit their input, and — on demand — the walk over the product of the axes
and the table's duplicate rows. The type checks, the coverage checks and the shadowing checks
then read the same survey, so a table is walked once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.checks.geometry import Axis, FindingFactory, Runs, Walk
from creditmgmt.policies.messages import Text

B = TypeVar("B", bound=m.Block)


class Geometry:
    """Rows (table rows, bins, matrix row or column cells) over the axes of their inputs."""

    def __init__(
        self,
        axes: list[Axis],
        rows: Iterable[list[Cell]],
        *,
        overlaps_wanted: bool,
        ranks: list[tuple[int, ...]] | None = None,
        budget: int,
    ) -> None:
        self.axes = axes
        #: per row, per axis: the runs of atoms its cell covers
        self.covers: list[list[Runs]] = []
        #: (row, axis, problem) for every cell that does not fit its input, in row order
        #: (a `messages.Text` whose `{where}` the reporting check fills)
        self.problems: list[tuple[int, Axis, Text]] = []
        for i, cells in enumerate(rows):
            row: list[Runs] = []
            for axis, cell in zip(axes, cells, strict=True):
                runs, problem = axis.cover(cell)
                row.append(runs)
                if problem is not None:
                    self.problems.append((i, axis, problem))
            self.covers.append(row)
        self._overlaps_wanted = overlaps_wanted
        self._ranks = ranks
        self._budget = budget
        self._walk: Walk | None = None

    @property
    def walk(self) -> Walk:
        """The walk over the product of the axes (run on first use)."""
        if self._walk is None:
            self._walk = Walk(
                self.axes,
                self.covers,
                overlaps_wanted=self._overlaps_wanted,
                ranks=self._ranks,
                budget=self._budget,
            )
            self._walk.run()
        return self._walk


class Survey:
    """One document as the checks read it (see the module docstring).

    `finding` makes a finding with the severity of its code; `walk_budget` bounds every walk.
    """

    def __init__(self, doc: m.RuleSetDocument, finding: FindingFactory, walk_budget: int) -> None:
        self.doc = doc
        self.finding = finding
        self.walk_budget = walk_budget
        #: the blocks whose every input is declared (the others get only `unknown-input`)
        self.blocks: list[m.Block] = [
            b for b in doc.blocks.values() if doc.inputs.keys() >= set(referenced_inputs(b))
        ]
        self._tables: dict[str, Geometry] = {}
        self._duplicates: dict[str, list[list[int]]] = {}
        self._bins: dict[tuple[str, int], Geometry] = {}
        self._matrix_axes: dict[tuple[str, str], Geometry] = {}

    def per_block(
        self, checks: Mapping[type[m.Block], Callable[[Survey, Any], list[Finding]]]
    ) -> list[Finding]:
        """For every checkable block, in document order, the findings of the check given for
        its kind (`checks[kind](survey, block)`); blocks of other kinds are skipped."""
        out: list[Finding] = []
        for block in self.blocks:
            check = next((checks[k] for k in type(block).__mro__ if k in checks), None)
            if check is not None:
                out.extend(check(self, block))
        return out

    def of_kind(self, kind: type[B]) -> list[B]:
        """The checkable blocks of one kind, in document order."""
        return [b for b in self.blocks if isinstance(b, kind)]

    def table(self, t: m.DecisionTable) -> Geometry:
        """The rows of a decision table over its inputs (PRIORITY: with output ranks)."""
        geometry = self._tables.get(t.id)
        if geometry is None:
            specs = [self.doc.inputs[n] for n in t.inputs]
            axes = [Axis(s, (r.cell(s.name) for r in t.rules)) for s in specs]
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
            geometry = Geometry(
                axes,
                [[r.cell(a.name) for a in axes] for r in t.rules],
                overlaps_wanted=t.hit_policy == "UNIQUE",
                ranks=ranks,
                budget=self.walk_budget,
            )
            self._tables[t.id] = geometry
        return geometry

    def duplicates(self, t: m.DecisionTable) -> list[list[int]]:
        """Groups of rows with the same conditions (compared by what they match, not how they
        are written), each in row order: only under UNIQUE and FIRST."""
        groups = self._duplicates.get(t.id)
        if groups is None:
            by_cover: dict[tuple[Runs, ...], list[int]] = {}
            if t.hit_policy in ("UNIQUE", "FIRST"):
                for i, row in enumerate(self.table(t).covers):
                    if all(row):  # a row matching nothing is reported as a type error already
                        by_cover.setdefault(tuple(row), []).append(i)
            groups = [rows for rows in by_cover.values() if len(rows) > 1]
            self._duplicates[t.id] = groups
        return groups

    def duplicate_members(self, t: m.DecisionTable) -> dict[int, frozenset[int]]:
        """Row -> its duplicate group, for every row in one."""
        return {i: frozenset(rows) for rows in self.duplicates(t) for i in rows}

    def bins(self, s: m.Scorecard, index: int) -> Geometry:
        """The bins of the scorecard's `index`-th characteristic over its input."""
        key = (s.id, index)
        geometry = self._bins.get(key)
        if geometry is None:
            ch = s.characteristics[index]
            axis = Axis(self.doc.inputs[ch.input], (b.cell for b in ch.bins))
            geometry = Geometry(
                [axis], [[b.cell] for b in ch.bins], overlaps_wanted=True, budget=self.walk_budget
            )
            self._bins[key] = geometry
        return geometry

    def matrix_axis(self, mx: m.Matrix, label: str) -> Geometry:
        """The row (`label` "r") or column ("c") cells of a matrix over their input."""
        key = (mx.id, label)
        geometry = self._matrix_axes.get(key)
        if geometry is None:
            name, cells = (
                (mx.row_input, mx.row_cells) if label == "r" else (mx.col_input, mx.col_cells)
            )
            axis = Axis(self.doc.inputs[name], cells)
            geometry = Geometry(
                [axis], [[c] for c in cells], overlaps_wanted=True, budget=self.walk_budget
            )
            self._matrix_axes[key] = geometry
        return geometry


def referenced_inputs(block: m.Block) -> list[str]:
    """Every input name a block reads: its listed inputs and those its parts name."""
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
