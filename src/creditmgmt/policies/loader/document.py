"""Load a rule-set document: text → nodes → JSON Schema → typed model, with positions."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from creditmgmt.domain.numbers import excerpt
from creditmgmt.policies import model as m
from creditmgmt.policies.base import TRIGGER_SEVERITIES, SourceLocation
from creditmgmt.policies.cells import Cell, parse_cell
from creditmgmt.policies.errors import PolicyLoadError
from creditmgmt.policies.formula import INPUT_VALUE_TYPES, Expr, compile_expression
from creditmgmt.policies.loader import nodes
from creditmgmt.policies.loader.attachments import read_attachment
from creditmgmt.policies.loader.lookups import check_lookups
from creditmgmt.policies.loader.schema import canonical_hash, schema_check
from creditmgmt.policies.yaml_source import Node, parse

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


class Loader:
    """Reads one parsed document into the typed model (`load()`), block by block."""

    def __init__(
        self, root: Node, source: str, base_dir: Path | None, *, lenient: bool = False
    ) -> None:
        self.root = root
        self.source = source
        self.base_dir = base_dir
        #: keep going past a formula that does not compile (see `read_document`)
        self.lenient = lenient
        self.formula_errors: dict[str, list[PolicyLoadError]] = {}
        self.inputs: dict[str, m.InputSpec] = {}
        self.attachments: dict[str, Any] = {}

    def load(self) -> m.RuleSetDocument:
        root, g, t = self.root, nodes.get, nodes.text
        schema_check(root)
        doc_id = t(g(root, "id"), "id")
        if not _ID.fullmatch(doc_id):
            raise PolicyLoadError(f"id {doc_id!r}: use a-z, 0-9, '-' and '_'", root.loc)
        version = str(g(root, "version").value)  # type: ignore[union-attr]
        if not _SEMVER.fullmatch(version):
            raise PolicyLoadError(f"version {version!r} is not semantic (1.2.3)", root.loc)
        eff_from_node = g(root, "effective_from")
        eff_from = nodes.date_value(eff_from_node, "effective_from")
        if eff_from is None:
            raise PolicyLoadError("effective_from must be a date YYYY-MM-DD", root.loc)
        eff_to_node = g(root, "effective_to", required=False)
        eff_to = nodes.date_value(eff_to_node, "effective_to")
        if eff_to_node is not None and eff_to is not None and eff_to <= eff_from:
            raise PolicyLoadError(
                f"effective_to {eff_to} must be after effective_from {eff_from} "
                "(the range is half-open: from <= day < to)",
                eff_to_node.loc,
            )
        status = t(g(root, "status"), "status")
        approved_by = g(root, "approved_by", required=False)
        if status == "approved" and (approved_by is None or not approved_by.value):
            raise PolicyLoadError(
                "an approved rule set names who approved it (approved_by)", root.loc
            )
        inputs_node = g(root, "inputs")
        assert inputs_node is not None
        for name, node in inputs_node.value.items():
            self.inputs[name] = nodes.input_spec(name, node)
        blocks: dict[str, m.Block] = {}
        for block_node in nodes.items(g(root, "blocks"), "blocks"):
            block = self.block(block_node)
            if block.id in blocks:
                raise PolicyLoadError(f"block id {block.id!r} is used twice", block_node.loc)
            blocks[block.id] = block
        check_lookups(blocks)
        owner = g(root, "owner", required=False)
        note = g(root, "change_note", required=False)
        title = g(root, "title", required=False)
        return m.RuleSetDocument(
            id=doc_id,
            version=version,
            effective_from=eff_from,
            effective_to=eff_to,
            status=status,
            owner=str(owner.value) if owner else "",
            approved_by=None if approved_by is None else str(approved_by.value),
            change_note=str(note.value) if note else "",
            title=str(title.value) if title else "",
            inputs=self.inputs,
            blocks=blocks,
            source=self.source,
            content_hash=canonical_hash(root, self.attachments),
            loc=root.loc,
            formula_errors={b: tuple(e) for b, e in self.formula_errors.items()},
        )

    # blocks -----------------------------------------------------------------------------
    def _input(self, name: str, node: Node) -> m.InputSpec:
        try:
            return self.inputs[name]
        except KeyError:
            raise PolicyLoadError(
                f"unknown input {name!r}: declare it under the document's inputs", node.loc
            ) from None

    def _block_inputs(self, node: Node) -> tuple[str, ...]:
        names = tuple(str(n.value) for n in nodes.items(nodes.get(node, "inputs"), "inputs"))
        for n, item in zip(names, node.value["inputs"].value, strict=True):
            self._input(n, item)
        if len(set(names)) != len(names):
            raise PolicyLoadError("a block lists an input twice", node.loc)
        return names

    def _cell(self, raw: Node, input_name: str) -> Cell:
        spec = self._input(input_name, raw)
        return parse_cell(raw.value, spec.type, raw.loc)

    def block(self, node: Node) -> m.Block:
        g, t = nodes.get, nodes.text
        block_id = t(g(node, "id"), "block id")
        kind = t(g(node, "kind"), "block kind")
        builders: dict[str, Callable[[Node, str], m.Block]] = {
            "decision_table": self.decision_table,
            "scorecard": self.scorecard,
            "master_scale": self.master_scale,
            "threshold_ladder": self.ladder,
            "matrix": self.matrix,
            "formula": self.formula,
            "trigger_set": self.trigger_set,
        }
        if kind not in builders:
            raise PolicyLoadError(f"unknown block kind {kind!r}", node.loc)
        block = builders[kind](node, block_id)
        # a block's description documents its contract; keep it (it was dropped before)
        described = g(node, "description", required=False)
        if described is not None:
            block = attrs.evolve(block, description=t(described, f"block {block_id} description"))
        return block

    def decision_table(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        inputs = self._block_inputs(node)
        outputs = nodes.output_specs(g(node, "outputs"))
        hit_node = g(node, "hit_policy", required=False)
        hit = "UNIQUE" if hit_node is None else str(hit_node.value)
        if hit not in m.HIT_POLICIES:
            raise PolicyLoadError(f"hit policy {hit!r} is not one of {m.HIT_POLICIES}", node.loc)
        agg_node = g(node, "aggregate", required=False)
        aggregate = str(agg_node.value) if agg_node else None
        if aggregate is not None and (hit != "COLLECT" or aggregate not in m.AGGREGATES):
            raise PolicyLoadError(
                "aggregate SUM|MIN|MAX|COUNT goes with hit_policy COLLECT", node.loc
            )
        if hit == "PRIORITY" and not all(o.type == "enum" for o in outputs):
            raise PolicyLoadError(
                "PRIORITY needs enum outputs: their order is the priority", node.loc
            )
        csv_node = g(node, "rules_csv", required=False)
        rules_node = g(node, "rules", required=csv_node is None)
        raw_rules: list[tuple[str, dict[str, Node], dict[str, Node], SourceLocation]] = []
        if csv_node is not None:
            raw_rules = self._csv_rules(csv_node, inputs, outputs)
        else:
            for r in nodes.items(rules_node, "rules"):
                rid = str(g(r, "id").value)  # type: ignore[union-attr]
                when = g(r, "when").value  # type: ignore[union-attr]
                then = g(r, "then").value  # type: ignore[union-attr]
                raw_rules.append((rid, when, then, r.loc))
        rules = []
        seen: set[str] = set()
        for rid, when, then, loc in raw_rules:
            if rid in seen:
                raise PolicyLoadError(f"rule id {rid!r} is used twice in block {block_id}", loc)
            seen.add(rid)
            for name in when:
                if name not in inputs:
                    raise PolicyLoadError(
                        f"rule {rid}: {name!r} is not an input of block {block_id}", when[name].loc
                    )
            missing_out = [o.name for o in outputs if o.name not in then]
            extra_out = [k for k in then if all(o.name != k for o in outputs)]
            if missing_out or extra_out:
                raise PolicyLoadError(
                    f"rule {rid}: outputs must be exactly {[o.name for o in outputs]}", loc
                )
            rules.append(
                m.Rule(
                    rid,
                    tuple((n, self._cell(when[n], n)) for n in inputs if n in when),
                    tuple((o.name, then[o.name].value) for o in outputs),
                    loc,
                )
            )
        return m.DecisionTable(
            id=block_id,
            kind="decision_table",
            inputs=inputs,
            outputs=outputs,
            loc=node.loc,
            hit_policy=hit,
            aggregate=aggregate,
            rules=tuple(rules),
        )

    def _csv_rules(
        self, node: Node, inputs: tuple[str, ...], outputs: tuple[m.OutputSpec, ...]
    ) -> list[tuple[str, dict[str, Node], dict[str, Node], SourceLocation]]:
        if self.base_dir is None:
            raise PolicyLoadError("rules_csv needs a document loaded from a file", node.loc)
        name = nodes.text(node, "rules_csv")
        path, text = read_attachment(self.base_dir, name, node.loc)
        reader = csv.DictReader(io.StringIO(text))
        expected = {"id", *inputs, *(o.name for o in outputs)}
        try:
            header = reader.fieldnames or []
        except csv.Error as e:
            raise PolicyLoadError(f"{name}: not a CSV table: {e}", node.loc) from None
        if set(header) != expected or len(header) != len(expected):
            got = ", ".join(excerpt(h) for h in header[:12]) + (", …" if len(header) > 12 else "")
            raise PolicyLoadError(
                f"{name}:1: header must be id, inputs and outputs: {sorted(expected)}, got {got}",
                node.loc,
            )
        rules = []
        rows: list[dict[str, str]] = []
        for row in _rows(reader, name, path):
            loc = SourceLocation(str(path), reader.line_num, 1)
            if None in row or any(v is None for v in row.values()):
                raise PolicyLoadError(
                    f"{name}: a row needs exactly {len(header)} fields ({', '.join(header)})",
                    loc,
                )
            when = {k: Node(nodes.csv_value(row[k]), loc) for k in inputs}
            then = {o.name: Node(nodes.csv_output(row[o.name], o, loc), loc) for o in outputs}
            rules.append((row["id"].strip(), when, then, loc))
            rows.append({k: v.strip() for k, v in row.items()})
        # the table's rows are part of the rule set's content hash (and so of its ref)
        self.attachments[name] = rows
        return rules

    def scorecard(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        inputs = self._block_inputs(node)
        chars = []
        for c in nodes.items(g(node, "characteristics"), "characteristics"):
            name = nodes.text(g(c, "input"), "characteristic input")
            if name not in inputs:
                raise PolicyLoadError(f"{name!r} is not an input of block {block_id}", c.loc)
            bins = tuple(
                m.Bin(self._cell(g(b, "when"), name), nodes.number(g(b, "points"), "points"), b.loc)  # type: ignore[arg-type]
                for b in nodes.items(g(c, "bins"), "bins")
            )
            chars.append(m.Characteristic(name, bins, c.loc))
        scaling_node = g(node, "scaling", required=False)
        scaling = None
        outputs = [m.OutputSpec("score", "decimal", node.loc)]
        if scaling_node is not None:
            direction = str(g(scaling_node, "odds").value)  # type: ignore[union-attr]
            if direction not in ("good_to_bad", "bad_to_good"):
                raise PolicyLoadError(
                    "scaling.odds is good_to_bad or bad_to_good", scaling_node.loc
                )
            scaling = m.Scaling(
                nodes.number(g(scaling_node, "points0"), "points0"),
                nodes.number(g(scaling_node, "odds0"), "odds0"),
                nodes.number(g(scaling_node, "pdo"), "pdo"),
                direction,
            )
            if scaling.odds0 <= 0 or scaling.pdo <= 0:
                raise PolicyLoadError("odds0 and pdo must be positive", scaling_node.loc)
            outputs.append(m.OutputSpec("pd", "decimal", node.loc))
        return m.Scorecard(
            id=block_id,
            kind="scorecard",
            inputs=inputs,
            outputs=tuple(outputs),
            loc=node.loc,
            base_points=nodes.number(g(node, "base_points"), "base_points"),
            characteristics=tuple(chars),
            scaling=scaling,
        )

    def master_scale(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        input_name = nodes.text(g(node, "input"), "input")
        self._input(input_name, node)
        output = nodes.text(g(node, "output"), "output")
        floor_node = g(node, "floor", required=False)
        grades = []
        for gr in nodes.items(g(node, "grades"), "grades"):
            name = str(g(gr, "grade").value)  # type: ignore[union-attr]
            default_node = g(gr, "default", required=False)
            default = bool(default_node.value) if default_node is not None else False
            if default:
                at = nodes.number(g(gr, "at"), "at")
                grades.append(m.Grade(name, at, None, True, gr.loc))
            else:
                lo = nodes.number(g(gr, "from"), "from")
                hi = nodes.number(g(gr, "to"), "to")
                grades.append(m.Grade(name, lo, hi, False, gr.loc))
        return m.MasterScale(
            id=block_id,
            kind="master_scale",
            inputs=(input_name,),
            outputs=(m.OutputSpec(output, "enum", node.loc, tuple(x.grade for x in grades)),),
            loc=node.loc,
            input=input_name,
            output_name=output,
            floor=nodes.number(floor_node, "floor") if floor_node else None,
            grades=tuple(grades),
        )

    def ladder(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        input_name = nodes.text(g(node, "input"), "input")
        spec = self._input(input_name, node)
        output = nodes.text(g(node, "output"), "output")
        steps = []
        for s in nodes.items(g(node, "steps"), "steps"):
            start = g(s, "from")
            assert start is not None
            value = g(s, "value")
            assert value is not None
            steps.append(m.Step(nodes.step_value(start, spec), value.value, s.loc))
        domain = g(node, "domain", required=False)
        dmin = g(domain, "min", required=False) if domain else None
        dmax = g(domain, "max", required=False) if domain else None
        values = tuple(dict.fromkeys(s.value for s in steps))
        return m.ThresholdLadder(
            id=block_id,
            kind="threshold_ladder",
            inputs=(input_name,),
            outputs=(m.OutputSpec(output, "enum", node.loc, values),),
            loc=node.loc,
            input=input_name,
            output_name=output,
            domain_min=nodes.step_value(dmin, spec)
            if dmin
            else (spec.min if spec.type != "enum" else None),
            domain_max=nodes.step_value(dmax, spec)
            if dmax
            else (spec.max if spec.type != "enum" else None),
            steps=tuple(steps),
        )

    def matrix(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        rows, cols = g(node, "rows"), g(node, "columns")
        assert rows is not None and cols is not None
        row_input = nodes.text(g(rows, "input"), "rows.input")
        col_input = nodes.text(g(cols, "input"), "columns.input")
        row_nodes = nodes.items(g(rows, "cells"), "cells")
        col_nodes = nodes.items(g(cols, "cells"), "cells")
        row_cells = tuple(self._cell(c, row_input) for c in row_nodes)
        col_cells = tuple(self._cell(c, col_input) for c in col_nodes)
        output = nodes.text(g(node, "output"), "output")
        values = []
        value_locs = []
        value_rows = nodes.items(g(node, "values"), "values")
        if len(value_rows) != len(row_cells):
            raise PolicyLoadError(
                f"matrix {block_id}: {len(value_rows)} value rows for {len(row_cells)} row cells",
                node.loc,
            )
        for vr in value_rows:
            cells = nodes.items(vr, "a row of values")
            if len(cells) != len(col_cells):
                raise PolicyLoadError(
                    f"matrix {block_id}: every row needs {len(col_cells)} values", vr.loc
                )
            values.append(tuple(c.value for c in cells))
            value_locs.append(tuple(c.loc for c in cells))
        outs = tuple(dict.fromkeys(v for row in values for v in row))
        return m.Matrix(
            id=block_id,
            kind="matrix",
            inputs=(row_input, col_input),
            outputs=(m.OutputSpec(output, "enum", node.loc, outs),),
            loc=node.loc,
            row_input=row_input,
            row_cells=row_cells,
            col_input=col_input,
            col_cells=col_cells,
            output_name=output,
            values=tuple(values),
            row_locs=tuple(n.loc for n in row_nodes),
            col_locs=tuple(n.loc for n in col_nodes),
            value_locs=tuple(value_locs),
        )

    def _expression(self, node: Node, what: str, types: dict[str, str], block_id: str) -> Expr:
        """`compile_expression`; when lenient, a formula that does not compile is recorded
        against its block and stands in as `None` (the block then never evaluates)."""
        try:
            return compile_expression(nodes.text(node, what), types, node.loc)
        except PolicyLoadError as e:
            if not self.lenient:
                raise
            self.formula_errors.setdefault(block_id, []).append(e)
            return compile_expression("None", {}, node.loc)

    def _types(self, inputs: tuple[str, ...]) -> dict[str, str]:
        return {n: INPUT_VALUE_TYPES[self.inputs[n].type] for n in inputs}

    def formula(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        inputs = self._block_inputs(node)
        types = self._types(inputs)
        lets: list[tuple[str, Expr]] = []
        let_node = g(node, "let", required=False)
        for name, expr_node in let_node.value.items() if let_node else []:
            if name in types:
                raise PolicyLoadError(
                    f"let {name!r} hides an input or an earlier let", expr_node.loc
                )
            expr = self._expression(expr_node, f"let {name}", types, block_id)
            types[name] = expr.type if expr.type != "any" else "any"
            lets.append((name, expr))
        exprs: list[tuple[str, Expr]] = []
        out_specs = []
        outputs_node = g(node, "outputs")
        assert outputs_node is not None
        for name, expr_node in outputs_node.value.items():
            expr = self._expression(expr_node, f"output {name}", types, block_id)
            exprs.append((name, expr))
            out_type = {"num": "decimal", "bool": "bool", "str": "string"}.get(expr.type, "decimal")
            out_specs.append(m.OutputSpec(name, out_type, expr_node.loc))
        types_node = g(node, "output_types", required=False)
        if types_node is not None:
            for name, tnode in types_node.value.items():
                if all(o.name != name for o in out_specs):
                    raise PolicyLoadError(
                        f"output_types names {name!r}, which is not an output of {block_id}",
                        tnode.loc,
                    )
                out_specs = [
                    attrs.evolve(o, type=str(tnode.value)) if o.name == name else o
                    for o in out_specs
                ]
        return m.Formula(
            id=block_id,
            kind="formula",
            inputs=inputs,
            outputs=tuple(out_specs),
            loc=node.loc,
            lets=tuple(lets),
            expressions=tuple(exprs),
        )

    def trigger_set(self, node: Node, block_id: str) -> m.Block:
        g = nodes.get
        inputs = self._block_inputs(node)
        types = self._types(inputs)
        triggers = []
        seen: set[str] = set()
        for tr in nodes.items(g(node, "triggers"), "triggers"):
            tid = str(g(tr, "id").value)  # type: ignore[union-attr]
            if tid in seen:
                raise PolicyLoadError(f"trigger id {tid!r} is used twice", tr.loc)
            seen.add(tid)
            severity = str(g(tr, "severity").value)  # type: ignore[union-attr]
            if severity not in TRIGGER_SEVERITIES:
                raise PolicyLoadError(
                    f"severity {severity!r} is not one of {TRIGGER_SEVERITIES}", tr.loc
                )
            when = g(tr, "when")
            assert when is not None
            expr = self._expression(when, "when", types, block_id)
            if expr.type not in ("bool", "any"):
                raise PolicyLoadError(f"trigger {tid}: 'when' must be a condition", when.loc)
            reason = str(g(tr, "reason").value)  # type: ignore[union-attr]
            triggers.append(m.Trigger(tid, severity, reason, expr, tr.loc))
        outputs = (
            m.OutputSpec("fired", "string", node.loc),
            m.OutputSpec("severity", "enum", node.loc, ("none", *TRIGGER_SEVERITIES)),
            m.OutputSpec("count", "int", node.loc),
        )
        return m.TriggerSet(
            id=block_id,
            kind="trigger_set",
            inputs=inputs,
            outputs=outputs,
            loc=node.loc,
            triggers=tuple(triggers),
        )


def _rows(reader: csv.DictReader[str], name: str, path: Path) -> Iterator[dict[str, str]]:
    """The reader's rows; a malformed line (a NUL byte, an overlong field) is a load error
    at that line, quoting nothing of it."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            # (the DictReader's own line_num is that of the last good row)
            loc = SourceLocation(str(path), reader.reader.line_num, 1)
            raise PolicyLoadError(f"{name}: not a CSV row: {e}", loc) from None
        yield row


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # one-line JSON longer than a file name, NUL bytes
        return False


def read_document(
    path_or_text: str | Path, *, source_name: str | None = None, lenient: bool = False
) -> m.RuleSetDocument:
    """Parse and validate a document from a path or from text.

    With `lenient=True` (what `creditmgmt policy check` uses) a formula, `let` or trigger
    condition that does not compile — a type error, an unknown name, a syntax error — does
    not stop the load: it is kept in `document.formula_errors` (by block, with its
    file:line:column), `check()` reports it as a `formula-error` finding and checks the
    other blocks, and the block refuses to evaluate (`PolicyEvaluationError`).

    Raises:
        PolicyLoadError: with file:line:column and what was expected (with `lenient`, for
            anything but a formula that does not compile).
    """
    base_dir: Path | None = None
    if isinstance(path_or_text, Path) or (
        "\n" not in path_or_text and len(path_or_text) < 4096 and _is_file(path_or_text)
    ):
        path = Path(path_or_text)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise PolicyLoadError(f"{path}: cannot read: {e.strerror}") from None
        name = source_name or str(path)
        base_dir = path.parent
    elif "\n" not in path_or_text and path_or_text.strip().lower().endswith(
        (".yaml", ".yml", ".json")
    ):
        # a file name that does not exist, not a one-line document
        raise PolicyLoadError(f"{path_or_text}: cannot read: no such file")
    else:
        text = str(path_or_text)
        name = source_name or "<text>"
    root = parse(text, name)
    if not isinstance(root.value, dict):
        raise PolicyLoadError("a rule set is a mapping with id, version, inputs, blocks", root.loc)
    return Loader(root, name, base_dir, lenient=lenient).load()
