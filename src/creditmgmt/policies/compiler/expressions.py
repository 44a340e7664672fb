"""Formula and trigger expressions inlined into a generated evaluator.

`ExpressionCompiler` holds what a generated evaluator is made of — our own source lines, the
constants it takes by reference (`_kN`), and the validated formula trees spliced in for
placeholder names — and inlines formulas and trigger sets: their trees rewritten to read local
variables, constants by reference and `lookup(...)` as direct calls of the target's evaluator
(a small table's rows as one conditional expression), under one switch to the exact decimal
context. `creditmgmt.policies.compiler.blocks.BlockCompiler` builds on it for every block kind.
"""

from __future__ import annotations

import ast
import copy
import decimal
from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.base import TRIGGER_SEVERITIES
from creditmgmt.policies.decision import Decision
from creditmgmt.policies.formula import FUNCS, THREAD, Expr, exact_context
from creditmgmt.policies.reference import ReferenceEvaluator
from creditmgmt.policies.table_index import INDEX_THRESHOLD, cell_source, rules_disjoint

#: How a compiler gets the evaluator of a looked-up block: (block, output, trusted argument
#: positions) -> a function of the block's inputs, positionally, returning that output.
InnerOf = Callable[[m.Block, str, frozenset[int]], Callable[..., Any]]


class Fallback(Exception):
    """Raised inside a compiled evaluator: this call goes to the reference path."""


class CannotInline(Exception):
    """A formula expression the block compiler does not inline (it is called instead)."""


MISSING = object()


def fallback() -> Any:
    """Ends an inlined lookup that found no row: the reference path decides."""
    raise Fallback


class ExpressionCompiler:
    """The parts of a generated evaluator, and the inlining of formulas and trigger sets.

    The generated source is made of our own identifiers only: every value taken from the
    document — input names, bounds, cell constants, prebuilt decisions — is a closure variable
    `_kN` bound by reference, and formula expressions are spliced in as their validated,
    rewritten trees (never as text).
    """

    def __init__(
        self,
        reference: ReferenceEvaluator,
        block: m.Block,
        inner_of: InnerOf,
        output: str | None = None,
        trusted: frozenset[int] = frozenset(),
    ) -> None:
        self.reference = reference
        self.block = block
        self.inner_of = inner_of
        self.output = output  # inner(): the output whose value is returned
        self.trusted = trusted  # inner(): arguments already valid for their input
        self.specs = [reference.document.inputs[n] for n in block.inputs]
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

    def decision(self, outputs: str, matched: str) -> list[str]:
        """Lines returning a new Decision (slots filled directly: no __init__ call)."""
        if self.output is not None:
            return [f"return {outputs}[{self.const(self.output)}]"]
        return [
            f"d = {self.const(object.__new__)}({self.const(Decision)})",
            f"d._block = {self.const(self.block.id)}",
            f"d._outputs = {outputs}",
            f"d._matched = {matched}",
            f"d._ruleset_ref = {self.const(self.reference.ref)}",
            "d._trace = None",
            "return d",
        ]

    # formulas and trigger sets ---------------------------------------------------------------
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
                raise CannotInline(self.output)
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
            # this thread's exact context: formula.exact_context without the call
            "try:",
            f"    c = {self.const(THREAD)}.context",
            "except AttributeError:",
            f"    c = {self.const(exact_context)}()",
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
        (callers may keep them), and the worst severity (ReferenceEvaluator._triggers)."""
        order = ("none", *TRIGGER_SEVERITIES)
        if any(t.severity not in order for t in ts.triggers):
            raise CannotInline(ts.id)  # the reference path reports it
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

    def splice(self, expr: Expr, names: dict[str, str]) -> str:
        """A placeholder name standing for `expr`'s validated tree, rewritten to read the
        local variables in `names`, constants by reference and lookups as direct calls."""
        if expr.body is None:
            raise CannotInline(expr.text)
        tree = Rewriter(self, expr, names).visit(copy.deepcopy(expr.body))
        placeholder = f"_X{len(self.splices)}"
        self.splices[placeholder] = tree
        return placeholder

    def lookup(self, block_id: str, output: str, args: dict[str, ast.expr]) -> ast.expr:
        """`lookup(block, output, ...)` as a direct call of the target's inner evaluator
        returning that output; arguments that are this block's own (already checked) inputs
        of the same name are not checked again."""
        target = self.reference.document.blocks.get(block_id)
        if target is None or set(args) != set(target.inputs):
            raise CannotInline(block_id)  # (load-time checks make this unreachable)
        trusted = frozenset(
            k
            for k, n in enumerate(target.inputs)
            if isinstance(arg := args[n], ast.Name) and arg.id == self.inputs.get(n)
        )
        if len(trusted) == len(target.inputs):
            inline = self.inline_table(target, output, [args[n] for n in target.inputs])
            if inline is not None:
                return inline
        inner = self.inner_of(target, output, trusted)
        return ast.Call(
            ast.Name(self.const(inner), ast.Load()), [args[n] for n in target.inputs], []
        )

    def inline_table(self, t: m.Block, output: str, args: list[ast.expr]) -> ast.expr | None:
        """A lookup of a small table whose first matching row decides (FIRST, or UNIQUE
        with rows proved disjoint), on arguments already checked, as one conditional
        expression: `v1 if cond1 else v2 if cond2 else ... else <raise Fallback>`. None
        when the table is not of that kind."""
        if (
            not isinstance(t, m.DecisionTable)
            or len(t.rules) > INDEX_THRESHOLD
            or not (t.hit_policy == "FIRST" or (t.hit_policy == "UNIQUE" and rules_disjoint(t)))
            or not all(isinstance(a, ast.Name) for a in args)
            or not all(output in dict(r.then) for r in t.rules)
        ):
            return None
        names = [a.id for a in args if isinstance(a, ast.Name)]
        specs = [self.reference.document.inputs[n] for n in t.inputs]
        expr: ast.expr = ast.Call(ast.Name(self.const(fallback), ast.Load()), [], [])
        for r in reversed(t.rules):
            conds = [
                c
                for name, var, spec in zip(t.inputs, names, specs, strict=True)
                if (
                    c := cell_source(
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
        Decimal (what formula.round_half_even computes), formula.round_half_even otherwise."""
        n = int(places)
        quantum = Decimal(1).scaleb(-n)  # as formula.round_half_even builds it
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
            ast.Name(self.const(FUNCS["_round"]), ast.Load()),
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
            if fn is FUNCS["_div"]:
                return True
        return False


class Rewriter(ast.NodeTransformer):
    """Rewrites a validated formula tree (see formula.compile_expression) for inlining."""

    def __init__(self, compiler: ExpressionCompiler, expr: Expr, names: dict[str, str]) -> None:
        self.compiler = compiler
        self.expr = expr
        self.names = names

    def constant(self, node: ast.expr) -> Any:
        """The value of a `_k[i]` constant node, or MISSING."""
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "_k"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            return self.expr.constants[node.slice.value]
        return MISSING

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        base, key = node.value, node.slice
        if isinstance(base, ast.Name) and isinstance(key, ast.Constant):
            if base.id == "_env" and key.value in self.names:
                return ast.Name(self.names[key.value], ast.Load())
            value = self.constant(node)
            if value is not MISSING:
                return ast.Name(self.compiler.const(value), ast.Load())
        raise CannotInline(self.expr.text)

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in FUNCS:
            return ast.Name(self.compiler.const(FUNCS[node.id]), ast.Load())
        raise CannotInline(self.expr.text)

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
            raise CannotInline(self.expr.text)
        if isinstance(func, ast.Name) and func.id == "_round" and not node.keywords:
            places: Any = Decimal(0) if len(args) == 1 else self.constant(args[1])
            if len(args) in (1, 2) and isinstance(places, Decimal) and places.is_finite():
                return self.compiler.round(self.visit(args[0]), places)
        return self.generic_visit(node)  # type: ignore[return-value]


class Splicer(ast.NodeTransformer):
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
