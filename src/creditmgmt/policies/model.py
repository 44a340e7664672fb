"""The parsed form of a rule-set document: typed inputs, blocks, rules — each with its position."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.policies.base import Finding as Finding  # its home is base; named here as before
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.cells import ANY, Cell, Scalar
from creditmgmt.policies.errors import PolicyLoadError
from creditmgmt.policies.formula import Expr

INPUT_TYPES = ("int", "decimal", "money", "bool", "enum", "date", "string")
#: input types holding numbers, and those whose values are ordered (numbers and dates)
NUMERIC_TYPES = ("int", "decimal", "money")
ORDERED_TYPES = (*NUMERIC_TYPES, "date")
OUTPUT_TYPES = ("int", "decimal", "bool", "enum", "string")
BLOCK_KINDS = (
    "decision_table",
    "scorecard",
    "master_scale",
    "threshold_ladder",
    "matrix",
    "formula",
    "trigger_set",
)
HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "COLLECT")
AGGREGATES = ("SUM", "MIN", "MAX", "COUNT")


@attrs.frozen
class InputSpec:
    name: str
    type: str
    loc: SourceLocation
    nullable: bool = False
    values: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    default: Any = None
    has_default: bool = False


@attrs.frozen
class OutputSpec:
    name: str
    type: str
    loc: SourceLocation
    values: tuple[Any, ...] = ()


@attrs.frozen
class Rule:
    id: str
    when: tuple[tuple[str, Cell], ...]
    then: tuple[tuple[str, Any], ...]
    loc: SourceLocation

    def cell(self, name: str) -> Cell:
        for n, c in self.when:
            if n == name:
                return c
        return ANY


@attrs.frozen(kw_only=True)
class Block:
    id: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[OutputSpec, ...]
    loc: SourceLocation
    description: str = ""

    def output(self, name: str) -> OutputSpec | None:
        return next((o for o in self.outputs if o.name == name), None)


@attrs.frozen(kw_only=True)
class DecisionTable(Block):
    hit_policy: str
    aggregate: str | None
    rules: tuple[Rule, ...]


@attrs.frozen
class Bin:
    cell: Cell
    points: Decimal
    loc: SourceLocation


@attrs.frozen
class Characteristic:
    input: str
    bins: tuple[Bin, ...]
    loc: SourceLocation


@attrs.frozen
class Scaling:
    points0: Decimal
    odds0: Decimal
    pdo: Decimal
    direction: str  # good_to_bad | bad_to_good


@attrs.frozen(kw_only=True)
class Scorecard(Block):
    base_points: Decimal
    characteristics: tuple[Characteristic, ...]
    scaling: Scaling | None


@attrs.frozen
class Grade:
    grade: str
    lower: Decimal
    upper: Decimal | None  # None for the default grade (at 1)
    is_default: bool
    loc: SourceLocation


@attrs.frozen(kw_only=True)
class MasterScale(Block):
    input: str
    output_name: str
    floor: Decimal | None
    grades: tuple[Grade, ...]


@attrs.frozen
class Step:
    start: Scalar
    value: Any
    loc: SourceLocation


@attrs.frozen(kw_only=True)
class ThresholdLadder(Block):
    input: str
    output_name: str
    domain_min: Scalar | None
    domain_max: Scalar | None
    steps: tuple[Step, ...]


@attrs.frozen(kw_only=True)
class Matrix(Block):
    row_input: str
    row_cells: tuple[Cell, ...]
    col_input: str
    col_cells: tuple[Cell, ...]
    output_name: str
    values: tuple[tuple[Any, ...], ...]
    #: where each row cell, column cell and value is written (for findings); may be empty
    row_locs: tuple[SourceLocation, ...] = ()
    col_locs: tuple[SourceLocation, ...] = ()
    value_locs: tuple[tuple[SourceLocation, ...], ...] = ()


@attrs.frozen(kw_only=True)
class Formula(Block):
    lets: tuple[tuple[str, Expr], ...]
    expressions: tuple[tuple[str, Expr], ...]


@attrs.frozen
class Trigger:
    id: str
    severity: str
    reason: str
    expr: Expr
    loc: SourceLocation


@attrs.frozen(kw_only=True)
class TriggerSet(Block):
    triggers: tuple[Trigger, ...]


@attrs.frozen(kw_only=True)
class RuleSetDocument:
    id: str
    version: str
    effective_from: date
    effective_to: date | None
    status: str
    owner: str
    approved_by: str | None
    change_note: str
    title: str
    inputs: dict[str, InputSpec]
    blocks: dict[str, Block]
    source: str
    content_hash: str
    loc: SourceLocation
    #: per block, the formulas that did not compile (only a lenient load keeps such a block;
    #: it never evaluates, and `check()` reports each as a `formula-error` finding)
    formula_errors: dict[str, tuple[PolicyLoadError, ...]] = attrs.field(factory=dict, eq=False)

    @property
    def ref(self) -> str:
        """`id@version#sha256-prefix`: names the exact text a decision was made under."""
        return f"{self.id}@{self.version}#{self.content_hash[:12]}"
