"""The formula language: Python expression syntax, parsed with `ast` against a whitelist.

Allowed: numbers (exact decimals, taken from their written text), strings, True/False/None,
the block's inputs and earlier `let` names, `+ - * /`, unary `-`/`+`/`not`, comparisons
(`< <= > >= == !=`, `in`/`not in` a parenthesised list of constants), `and`/`or`,
`x if c else y`, and calls of `min`, `max`, `abs`, `round(x, n)` (half-even), `clip(x, lo, hi)`
and `lookup("block", "output", name=expr, ...)`. Nothing else: no attributes, subscripts,
comprehensions, lambdas, `**`, other calls or dunder names. Expressions are type-checked at
load time and compiled from the validated tree — the text itself is never evaluated.
"""

from __future__ import annotations

import ast
import decimal
import threading
import warnings
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from creditmgmt.domain.numbers import MAX_DIGITS, MAX_EXPONENT
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.errors import PolicyEvaluationError, PolicyLoadError
from creditmgmt.policies.messages import Text, Value

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40
#: `round(x, n)`: n is a whole number written in the formula, |n| <= this.
MAX_ROUND_PLACES = 12
FUNCTIONS = {"min", "max", "abs", "round", "clip", "lookup"}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn)

#: value types the checker knows: num, bool, str, date, any
TypeName = str

#: the formula value type of each declared input type
INPUT_VALUE_TYPES: dict[str, TypeName] = {
    "int": "num",
    "decimal": "num",
    "money": "num",
    "bool": "bool",
    "enum": "str",
    "string": "str",
    "date": "date",
}


@attrs.frozen
class Lookup:
    block: str
    output: str
    arguments: tuple[str, ...]


@attrs.frozen
class Expr:
    """A validated, compiled expression."""

    text: str
    names: frozenset[str]
    lookups: tuple[Lookup, ...]
    divisors: tuple[str, ...]  # names used directly as a divisor (for the zero check)
    type: TypeName
    code: Any = attrs.field(eq=False, repr=False)
    constants: tuple[Any, ...] = attrs.field(eq=False, repr=False)
    loc: SourceLocation | None = attrs.field(eq=False, default=None)
    tree: ast.Expression | None = attrs.field(eq=False, repr=False, default=None)
    #: the validated tree as a function of (_env, _lookup); built once, called per evaluation
    fn: Callable[[Mapping[str, Any], Any], Any] | None = attrs.field(
        eq=False, repr=False, default=None
    )
    #: the validated, rewritten tree of `fn`'s body (inputs as `_env["name"]`, numbers as
    #: `_k[i]`, calls as `_min`/`_lookup`/...): what the rule set's block compiler inlines
    body: ast.expr | None = attrs.field(eq=False, repr=False, default=None)


def _err(msg: Text, loc: SourceLocation | None, node: ast.AST | None = None) -> PolicyLoadError:
    if loc is not None and node is not None and hasattr(node, "col_offset"):
        loc = SourceLocation(loc.file, loc.line, loc.column + node.col_offset)
    return PolicyLoadError(msg, loc)


class _Checker:
    def __init__(self, text: str, types: Mapping[str, TypeName], loc: SourceLocation | None):
        self.text = text
        self.types = types
        self.loc = loc
        self.names: set[str] = set()
        self.lookups: list[Lookup] = []
        self.divisors: list[str] = []
        self.constants: list[Any] = []
        self.count = 0

    def fail(self, key: str, node: ast.AST, /, **values: Value) -> PolicyLoadError:
        """The error `key` of the message catalogue, naming this formula, at `node`."""
        return _err(Text.of(key, formula=repr(self.text), **values), self.loc, node)

    def const(self, value: Any) -> ast.expr:
        self.constants.append(value)
        return ast.Subscript(
            value=ast.Name("_k", ast.Load()),
            slice=ast.Constant(len(self.constants) - 1),
            ctx=ast.Load(),
        )

    def visit(self, node: ast.AST, depth: int = 0) -> tuple[ast.expr, TypeName]:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            raise self.fail("formula-error.too-large", node)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None:
                return ast.Constant(v), "bool" if isinstance(v, bool) else "any"
            if isinstance(v, int | float):
                segment = ast.get_source_segment(self.text, node) or str(v)
                try:
                    number = Decimal(segment.replace("_", ""))
                except decimal.InvalidOperation:
                    raise self.fail(
                        "formula-error.not-decimal", node, number=repr(segment)
                    ) from None
                if (
                    not number.is_finite()
                    or abs(number.adjusted()) > MAX_EXPONENT
                    or len(number.as_tuple().digits) > MAX_DIGITS
                ):
                    raise self.fail("formula-error.out-of-range", node, number=segment)
                return self.const(number), "num"
            if isinstance(v, str):
                return ast.Constant(v), "str"
            raise self.fail("formula-error.constant", node, constant=repr(v))
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise self.fail("formula-error.private-name", node, name=repr(node.id))
            if node.id not in self.types:
                raise self.fail("formula-error.unknown-name", node, name=repr(node.id))
            self.names.add(node.id)
            env = ast.Subscript(ast.Name("_env", ast.Load()), ast.Constant(node.id), ast.Load())
            return env, self.types[node.id]
        if isinstance(node, ast.UnaryOp):
            operand, t = self.visit(node.operand, depth + 1)
            if isinstance(node.op, ast.Not):
                self.expect(t, "bool", node)
                return ast.UnaryOp(ast.Not(), operand), "bool"
            if isinstance(node.op, ast.USub | ast.UAdd):
                self.expect(t, "num", node)
                return ast.UnaryOp(node.op, operand), "num"
            raise self.fail("formula-error.operator", node)
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, _BINOPS):
                raise self.fail(
                    "formula-error.named-operator", node, operator=type(node.op).__name__
                )
            left, lt = self.visit(node.left, depth + 1)
            right, rt = self.visit(node.right, depth + 1)
            self.expect(lt, "num", node)
            self.expect(rt, "num", node)
            if isinstance(node.op, ast.Div):
                if isinstance(node.right, ast.Name):
                    self.divisors.append(node.right.id)
                # `a / b` of two int inputs would be a float in Python: divide as Decimal
                return ast.Call(ast.Name("_div", ast.Load()), [left, right], []), "num"
            return ast.BinOp(left, node.op, right), "num"
        if isinstance(node, ast.BoolOp):
            values: list[ast.expr] = []
            for operand in node.values:
                out, t = self.visit(operand, depth + 1)
                self.expect(t, "bool", operand)
                values.append(out)
            return ast.BoolOp(node.op, values), "bool"
        if isinstance(node, ast.Compare):
            left, lt = self.visit(node.left, depth + 1)
            comparators: list[ast.expr] = []
            for op, comp in zip(node.ops, node.comparators, strict=True):
                if not isinstance(op, _CMPOPS):
                    raise self.fail("formula-error.comparison", node)
                if isinstance(op, ast.In | ast.NotIn):
                    if not isinstance(comp, ast.Tuple | ast.List) or not comp.elts:
                        raise self.fail("formula-error.in-list", comp)
                    items: list[ast.expr] = []
                    for elt in comp.elts:
                        if not isinstance(elt, ast.Constant):
                            raise self.fail("formula-error.in-constants", elt)
                        out, _t = self.visit(elt, depth + 1)
                        items.append(out)
                    comparators.append(ast.Tuple(items, ast.Load()))
                    continue
                out, rt = self.visit(comp, depth + 1)
                if not isinstance(op, ast.Eq | ast.NotEq):
                    self.expect(lt, "num", node)
                    self.expect(rt, "num", node)
                elif "any" not in (lt, rt) and lt != rt:
                    raise self.fail("formula-error.comparing", node, left=lt, right=rt)
                comparators.append(out)
            return ast.Compare(left, list(node.ops), comparators), "bool"
        if isinstance(node, ast.IfExp):
            test, tt = self.visit(node.test, depth + 1)
            self.expect(tt, "bool", node.test)
            body, bt = self.visit(node.body, depth + 1)
            orelse, ot = self.visit(node.orelse, depth + 1)
            if "any" not in (bt, ot) and bt != ot:
                raise self.fail("formula-error.branches", node, body=bt, orelse=ot)
            return ast.IfExp(test, body, orelse), bt if bt != "any" else ot
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail("formula-error.syntax-node", node, node=type(node).__name__)

    def expect(self, got: TypeName, want: TypeName, node: ast.AST) -> None:
        if got not in (want, "any"):
            raise self.fail("formula-error.expected", node, want=want, got=got)

    def call(self, node: ast.Call, depth: int) -> tuple[ast.expr, TypeName]:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail("formula-error.callable", node)
        name = node.func.id
        if name == "lookup":
            names = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if len(node.args) != 2 or len(names) != 2:
                raise self.fail("formula-error.lookup-form", node)
            block, output = names
            keys: list[ast.expr | None] = []
            arg_names: list[str] = []
            values: list[ast.expr] = []
            for kw in node.keywords:
                if kw.arg is None:
                    raise self.fail("formula-error.lookup-named", node)
                out, _t = self.visit(kw.value, depth + 1)
                keys.append(ast.Constant(kw.arg))
                arg_names.append(kw.arg)
                values.append(out)
            self.lookups.append(Lookup(block, output, tuple(arg_names)))
            call = ast.Call(
                ast.Name("_lookup", ast.Load()),
                [ast.Constant(block), ast.Constant(output), ast.Dict(keys, values)],
                [],
            )
            return call, "any"
        if node.keywords:
            raise self.fail("formula-error.no-keywords", node, function=name)
        arity = {"abs": (1, 1), "round": (1, 2), "clip": (3, 3), "min": (1, 20), "max": (1, 20)}
        lo, hi = arity[name]
        if not lo <= len(node.args) <= hi:
            raise self.fail("formula-error.arity", node, function=name, low=lo, high=hi)
        if name == "round" and len(node.args) == 2:
            places = _whole_constant(node.args[1])
            if places is None or abs(places) > MAX_ROUND_PLACES:
                raise self.fail("formula-error.round-places", node.args[1], max=MAX_ROUND_PLACES)
        args = []
        for a in node.args:
            out, t = self.visit(a, depth + 1)
            self.expect(t, "num", a)
            args.append(out)
        return ast.Call(ast.Name(f"_{name}", ast.Load()), args, []), "num"


def _whole_constant(node: ast.expr) -> int | None:
    """The int written as `node` (`2`, `-1`), or None when it is anything else."""
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    if negative:
        node = node.operand  # type: ignore[attr-defined]
    if not isinstance(node, ast.Constant) or type(node.value) is not int:
        return None
    return -node.value if negative else node.value


def compile_expression(
    text: str, types: Mapping[str, TypeName], loc: SourceLocation | None = None
) -> Expr:
    """Validate and compile `text`; `types` maps visible names to value types.

    Raises:
        PolicyLoadError: syntax errors, anything outside the whitelist, unknown names, type
            errors — with file:line:column.
    """
    if not isinstance(text, str) or not text.strip():
        raise _err(Text.of("formula-error.empty"), loc)
    if len(text) > MAX_LENGTH:
        raise _err(Text.of("formula-error.too-long", max=MAX_LENGTH), loc)
    try:
        # compile-time warnings (invalid escapes, `is` with a literal) become load errors
        # instead of depending on the host's warning filters
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise _err(Text.of("formula-error.syntax", formula=repr(text), detail=e.msg), loc) from None
    except (Warning, RecursionError, MemoryError, ValueError) as e:
        raise _err(
            Text.of("formula-error.unparsable", formula=repr(text), detail=str(e)), loc
        ) from None
    checker = _Checker(text.strip(), types, loc)
    body, type_ = checker.visit(tree.body)
    expression = ast.Expression(body)
    ast.fix_missing_locations(expression)
    code = compile(expression, "<creditmgmt formula>", "eval")
    # the same validated tree wrapped in `lambda _env, _lookup: ...`: calling a function is
    # several times cheaper than eval() with a fresh scope on every evaluation
    params = ast.arguments(
        posonlyargs=[],
        args=[ast.arg("_env"), ast.arg("_lookup")],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[],
    )
    wrapper = ast.Expression(ast.Lambda(params, body))
    ast.fix_missing_locations(wrapper)
    scope = {"__builtins__": {}, "_k": tuple(checker.constants), **FUNCS}
    # safe: the tree passed _Checker (whitelisted nodes, names and functions), no builtins
    fn = eval(compile(wrapper, "<creditmgmt formula>", "eval"), scope)  # noqa: S307
    return Expr(
        text=text.strip(),
        names=frozenset(checker.names),
        lookups=tuple(checker.lookups),
        divisors=tuple(checker.divisors),
        type=type_,
        code=code,
        constants=tuple(checker.constants),
        loc=loc,
        tree=tree,
        fn=fn,
        body=body,
    )


_QUANTA = {n: Decimal(1).scaleb(-n) for n in range(13)}


def round_half_even(x: Any, places: Any = 0) -> Decimal:
    """`round(x, places)` of the formula language: half-even, to a Decimal."""
    n = int(places)
    quantum = _QUANTA.get(n)
    if quantum is None:
        quantum = Decimal(1).scaleb(-n)
    return Decimal(x).quantize(quantum, rounding=ROUND_HALF_EVEN)


def clip(x: Any, lo: Any, hi: Any) -> Any:
    """`clip(x, lo, hi)` of the formula language: x held within [lo, hi]."""
    return max(lo, min(hi, x))


def exact_div(x: Any, y: Any) -> Any:
    """Exact division: an int dividend becomes a Decimal, so the quotient never is a float."""
    return (Decimal(x) if type(x) is int else x) / y


# the runtime of compiled formulas, public for the evaluators the rule set generates ----------
#: The helpers a compiled formula may call, by the name its code uses (nothing else is in scope).
FUNCS: dict[str, Any] = {
    "_min": min,
    "_max": max,
    "_abs": abs,
    "_round": round_half_even,
    "_clip": clip,
    "_div": exact_div,
}
_CONTEXT = decimal.Context(prec=34, rounding=ROUND_HALF_EVEN)
#: Per thread: `THREAD.context` is that thread's exact context, once `exact_context()` made it.
THREAD = threading.local()


def exact_context() -> decimal.Context:
    """This thread's copy of the 34-digit, half-even context formulas compute in."""
    try:
        return THREAD.context  # type: ignore[no-any-return]
    except AttributeError:
        THREAD.context = _CONTEXT.copy()
        return THREAD.context  # type: ignore[no-any-return]


def evaluate(
    expr: Expr,
    env: Mapping[str, Any],
    lookup: Callable[[str, str, dict[str, Any]], Any],
    *,
    where: str,
) -> Any:
    """Evaluate a compiled expression. Raises `PolicyEvaluationError` naming `where`."""
    context = exact_context()
    previous = decimal.getcontext()
    try:
        if previous is context:  # already inside a formula (a lookup from a formula)
            return _call(expr, env, lookup)
        decimal.setcontext(context)
        try:
            return _call(expr, env, lookup)
        finally:
            decimal.setcontext(previous)
    except ZeroDivisionError as e:  # decimal.DivisionByZero is one too
        raise PolicyEvaluationError(f"{where}: division by zero in {expr.text!r}") from e
    except (ArithmeticError, TypeError, ValueError) as e:
        # InvalidOperation, Overflow (huge inputs), comparing None ...
        raise PolicyEvaluationError(f"{where}: cannot evaluate {expr.text!r}: {e!r}") from e


def _call(expr: Expr, env: Mapping[str, Any], lookup: Any) -> Any:
    if expr.fn is not None:
        return expr.fn(env, lookup)
    scope = {"__builtins__": {}, "_env": env, "_k": expr.constants, "_lookup": lookup, **FUNCS}
    # safe: expr.code was compiled from a tree that passed _Checker; no builtins in scope
    return eval(expr.code, scope)  # noqa: S307
