"""Formula and trigger expressions cannot escape the whitelist.

Every attempt below is refused when the document is *loaded* — nothing is ever evaluated —
with a `PolicyLoadError` that names the file and the line of the offending expression.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import resource
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from creditmgmt.policies import (
    PolicyEvaluationError,
    PolicyInputError,
    PolicyLoadError,
    load_ruleset,
)
from creditmgmt.policies.formula import compile_expression

CANARY = "/tmp/creditmgmt-sandbox-canary"

ESCAPES: list[tuple[str, str]] = [
    # imports and builtins
    ("__import__('os').system('touch " + CANARY + "')", "only min, max, abs, round, clip and"),
    ("__import__", "name '__import__' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("_env", "name '_env' is not allowed"),
    ("_k", "name '_k' is not allowed"),
    ("_lookup('t', 'y', x)", "only min, max, abs, round, clip and lookup may be called"),
    ("__name__", "name '__name__' is not allowed"),
    ("not __debug__", "name '__debug__' is not allowed"),
    ("\uff3f\uff3fimport\uff3f\uff3f('os')", "invalid character"),  # fullwidth low lines
    ("open('/etc/passwd')", "only min, max, abs, round, clip and lookup may be called"),
    ("eval('1 + 1')", "only min, max, abs, round, clip and lookup may be called"),
    ("exec('import os')", "only min, max, abs, round, clip and lookup may be called"),
    ("globals()", "only min, max, abs, round, clip and lookup may be called"),
    ("locals()", "only min, max, abs, round, clip and lookup may be called"),
    ("vars()", "only min, max, abs, round, clip and lookup may be called"),
    ("getattr(x, 'real')", "only min, max, abs, round, clip and lookup may be called"),
    ("type(x)", "only min, max, abs, round, clip and lookup may be called"),
    ("print(x)", "only min, max, abs, round, clip and lookup may be called"),
    ("chr(65) == 'A'", "only min, max, abs, round, clip and lookup may be called"),
    ("unknown(x)", "only min, max, abs, round, clip and lookup may be called"),
    ("min", "unknown name 'min'"),
    ("x if True else __import__('os')", "only min, max, abs, round, clip and lookup"),
    ("x if True else __import__", "name '__import__' is not allowed"),
    ("import os", "syntax error"),
    ("x; __import__('os')", "syntax error"),
    ("x\n__import__('os')", "syntax error"),
    # attributes and subscripts
    ("().__class__.__bases__[0].__subclasses__()", "only min, max"),
    ("x.real", "Attribute is not allowed"),
    ("x.__class__", "Attribute is not allowed"),
    ("(1).__class__", "Attribute is not allowed"),
    ("True.__class__.__mro__", "Attribute is not allowed"),
    ("min.__call__(x)", "only min, max"),
    ("'abc'[0] == 'a'", "Subscript is not allowed"),
    ("[x][0]", "Subscript is not allowed"),
    ("'%s' % x", "operator Mod is not allowed"),
    # functions, comprehensions, generators, assignment
    ("(lambda: 1)()", "only min, max"),
    ("lambda: 1", "Lambda is not allowed"),
    ("[i for i in (1, 2)]", "ListComp is not allowed"),
    ("{i for i in (1, 2)}", "SetComp is not allowed"),
    ("{i: i for i in (1, 2)}", "DictComp is not allowed"),
    ("max(i for i in (1, 2))", "GeneratorExp is not allowed"),
    ("x in [y for y in (1, 2)]", "'in' needs a parenthesised list of constants"),
    ("x in (x, 1)", "'in' lists hold constants only"),
    ("(y := 1)", "NamedExpr is not allowed"),
    ("(yield) and x", "Yield is not allowed"),
    ("await x", "Await is not allowed"),
    # containers, strings, literals
    ("f'{x}' == 'a'", "JoinedStr is not allowed"),
    ("b'abc' == 'abc'", "constant b'abc' is not allowed"),
    ("1j + x", "constant 1j is not allowed"),
    ("...", "constant Ellipsis is not allowed"),
    ("{'a': 1}", "Dict is not allowed"),
    ("[x]", "List is not allowed"),
    ("(x, x)", "Tuple is not allowed"),
    ("{x}", "Set is not allowed"),
    ("'a' * 1000000000", "expected a num value, got str"),
    ("0x7fffffff", "'0x7fffffff' is not a decimal number"),
    ("1e309", "number 1e309 is out of range"),
    ("'\\d' == 'd'", "syntax error"),  # an invalid escape: a warning, made an error
    # operators outside the whitelist
    ("2 ** 100000000", "operator Pow is not allowed"),
    ("x ** x", "operator Pow is not allowed"),
    ("x // 2", "operator FloorDiv is not allowed"),
    ("x << 1000000", "operator LShift is not allowed"),
    ("x @ x", "operator MatMult is not allowed"),
    ("~x", "operator not allowed"),
    ("x is None", "comparison not allowed"),
    # call tricks
    ("max(*(1, 2))", "Starred is not allowed"),
    ("min(x, **{'key': abs})", "min takes no named arguments"),
    ("round(x, ndigits=2)", "round takes no named arguments"),
    ("min(x, key=abs)", "min takes no named arguments"),
    ("clip(x, 0)", "clip takes 3..3 arguments"),
    ("lookup(*['t', 'y'])", 'lookup needs ("block", "output", input=value, ...)'),
    ("lookup('t', 'y', **{'x': 1})", "lookup arguments are named"),
    ("lookup('t', 'y', x=__import__('os'))", "only min, max, abs, round, clip and lookup"),
    ("lookup('t', 'y', x=_env)", "name '_env' is not allowed"),
    ("lookup('f', 'y', x=x)", "lookups form a cycle: f -> f"),
    ("lookup('t', 'y', x=lookup('f', 'y', x=x))", "lookups form a cycle: f -> f"),
    ("lookup('nowhere', 'y', x=x)", "lookup of unknown block 'nowhere'"),
    # size
    ("x" + " + x" * 450, "expression too large or too deeply nested"),
    ("x" + " + 1" * 700, "formula longer than 2000 characters"),
    ("min(" * 45 + "x" + ")" * 45, "expression too large or too deeply nested"),
    ("-" * 1500 + "x", "expression too large or too deeply nested"),
    ("(" * 250 + "x" + ")" * 250, "syntax error"),
    ("not " * 300 + "x > 1", "expression too large or too deeply nested"),
]


def json_document(id: str, blocks: list[dict[str, Any]], *, indent: int) -> str:
    """A draft JSON document of one decimal input `x` and these blocks."""
    header = {"id": id, "version": "1.0.0", "effective_from": "2026-01-01", "status": "draft"}
    return json.dumps(
        {**header, "inputs": {"x": {"type": "decimal"}}, "blocks": blocks}, indent=indent
    )


def placed(expression: str, where: str) -> str:
    """The expression as written in that block (a trigger set's own output is `count`)."""
    return expression.replace("'f', 'y'", "'f', 'count'") if where == "trigger" else expression


def document(expression: str, where: str) -> str:
    """A JSON document placing `expression` in a formula output or a trigger condition."""
    table = {
        "id": "t",
        "kind": "decision_table",
        "inputs": ["x"],
        "outputs": {"y": {"type": "decimal"}},
        "rules": [{"id": "a", "when": {"x": "-"}, "then": {"y": 1}}],
    }
    if where == "formula":
        block: dict[str, Any] = {
            "id": "f",
            "kind": "formula",
            "inputs": ["x"],
            "outputs": {"y": expression},
        }
    else:
        block = {
            "id": "f",
            "kind": "trigger_set",
            "inputs": ["x"],
            "triggers": [{"id": "ko", "severity": "red", "reason": "R", "when": expression}],
        }
    return json_document("sandbox", [table, block], indent=2)


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(ESCAPES) >= 30
    assert len({e for e, _ in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize("where", ["formula", "trigger"])
@pytest.mark.parametrize(("expression", "expected"), ESCAPES, ids=range(len(ESCAPES)))
def test_escape_attempts_are_refused_at_load_with_their_location(
    expression: str, expected: str, where: str
) -> None:
    expression = placed(expression, where)
    text = document(expression, where)
    with pytest.raises(PolicyLoadError) as info:
        load_ruleset(text, source_name="sandbox.json")
    message = str(info.value)
    # a trigger must also be a condition: a number-valued escape may fail on that first
    assert expected in message or (where == "trigger" and "must be a condition" in message)
    encoded = json.dumps(expression)
    line = next(i + 1 for i, s in enumerate(text.splitlines()) if encoded in s)
    if "cycle" in expected:  # a cycle is a property of the block, reported at the block
        line = next(i + 1 for i, s in enumerate(text.splitlines()) if '"id": "f"' in s) - 1
    assert message.startswith(f"sandbox.json:{line}:"), message
    assert info.value.location is not None and info.value.location.line == line
    assert not Path(CANARY).exists()


VALID = [
    "min(revenue * 0.2, ebitda * 3, collateral * 0.6)",
    "clip(round(revenue / 3, 2), 0, 1000)",
    "abs(-revenue) if flag and not (grade in ('A', 'B')) else max(revenue, 1)",
    "revenue >= 1000 or grade != 'C'",
    'lookup("t", "y", x=revenue)',
]


@pytest.mark.parametrize("text", VALID)
def test_compiled_code_can_reach_only_the_whitelisted_helpers(text: str) -> None:
    types = {"revenue": "num", "ebitda": "num", "collateral": "num", "flag": "bool", "grade": "str"}
    expr = compile_expression(text, types)
    allowed = {"_env", "_k", "_lookup", "_min", "_max", "_abs", "_round", "_clip", "_div"}
    assert set(expr.code.co_names) <= allowed
    assert expr.fn is None or set(expr.fn.__code__.co_names) <= allowed
    assert not any(name.startswith("__") for name in expr.code.co_names)


def test_a_refused_expression_inside_yaml_names_line_and_column() -> None:
    text = (
        "id: s\nversion: 1.0.0\neffective_from: 2026-01-01\nstatus: draft\n"
        "inputs: {x: {type: int}}\n"
        "blocks:\n"
        "  - id: f\n    kind: formula\n    inputs: [x]\n"
        "    outputs:\n"
        "      y: x + x.__class__\n"
    )
    with pytest.raises(PolicyLoadError) as info:
        load_ruleset(text, source_name="s.yaml")
    # line 11; the value starts at column 10 and `x.__class__` 4 characters into it
    assert str(info.value).startswith("s.yaml:11:14: Attribute is not allowed")


# ---------------------------------------------------------------------------------------------
# hostile documents and inputs: each is run in a forked child under a memory and CPU limit
# (resource.setrlimit), and must end within 2 seconds with a refusal of ours — never a raw
# exception, a hang, a memory blow-up or a file read outside the document's folder
# ---------------------------------------------------------------------------------------------

SECONDS = 2.0
MEMORY = 512 * 1024 * 1024  # address space the child may add to what the test process holds
SECRET = "hostile-canary-6f1d"  # in the environment: must never reach a message


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(fn: Callable[[], object], conn: Connection) -> None:
    held = _vm_size()
    if held:  # (Linux: what the forked test process already maps, plus MEMORY)
        resource.setrlimit(resource.RLIMIT_AS, (held + MEMORY, resource.RLIM_INFINITY))
    resource.setrlimit(resource.RLIMIT_CPU, (10, 11))
    started = time.perf_counter()
    try:
        fn()
        outcome = ("ok", "")
    except BaseException as e:  # the child reports whatever happened
        outcome = (type(e).__name__, str(e)[:2000])
    conn.send((*outcome, time.perf_counter() - started))
    conn.close()


def bounded(fn: Callable[[], object]) -> tuple[str, str]:
    """(exception class name or "ok", message) of `fn()` run in a bounded child process."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, send))
    child.start()
    send.close()
    ready = receive.poll(30)
    if not ready:
        child.kill()
    child.join(5)
    assert ready, "the child hung (killed after 30 s)"
    assert child.exitcode == 0, f"the child died (exit code {child.exitcode}): out of memory?"
    kind, message, elapsed = receive.recv()
    assert elapsed < SECONDS, f"took {elapsed:.1f} s: {kind}: {message[:200]}"
    return kind, message


YAML_DOC = """\
id: hostile
version: 1.0.0
effective_from: 2026-01-01
status: draft
inputs:
  x: {{type: decimal, max: {max}}}
blocks:
  - id: t
    kind: decision_table
    inputs: [x]
    outputs:
      y: {{type: decimal}}
    {rules}
  - id: f
    kind: formula
    inputs: [x]
    outputs:
      z: "{formula}"
"""
RULES = "rules: [{id: a, when: {x: '-'}, then: {y: 1}}]"


def yaml_doc(max: str = "100", rules: str = RULES, formula: str = "x + 1") -> str:
    return YAML_DOC.format(max=max, rules=rules, formula=formula)


JSON_THEN = """\
{
  "id": "hostile", "version": "1.0.0", "effective_from": "2026-01-01", "status": "draft",
  "inputs": {"x": {"type": "decimal"}},
  "blocks": [{"id": "t", "kind": "decision_table", "inputs": ["x"],
    "outputs": {"y": {"type": "decimal"}},
    "rules": [{"id": "a", "when": {"x": "-"},
      "then": {"y": VALUE}}]}]
}
"""

# (id, document text, what the message says, the line it names)
HOSTILE_TEXTS: list[tuple[str, str, str, int]] = [
    # numbers: no conversion of a huge number ever runs
    ("exp-max", yaml_doc(max="1e999999999"), "exponent out of range", 6),
    ("exp-float", yaml_doc(max="1.0e+300000000"), "exponent out of range", 6),
    ("exp-json", JSON_THEN.replace("VALUE", "1e50000000"), "exponent out of range", 7),
    ("exp-small", yaml_doc(max="1e-31"), "out of range", 6),
    ("digits-5000", yaml_doc(max="9" * 5000), "too long for a number", 6),
    ("digits-41", yaml_doc(max="1" * 41), "more than 40 digits", 6),
    ("digits-then", JSON_THEN.replace("VALUE", "7" * 5000), "too long for a number", 7),
    ("sexagesimal", yaml_doc(max="190:20:30"), "'190:20:30' is not a number", 6),
    ("hex", yaml_doc(max="0x1F"), "'0x1F' is not a number", 6),
    ("octal", yaml_doc(max="017"), "'017': a leading 0", 6),
    ("binary", yaml_doc(max="0b101"), "'0b101' is not a number", 6),
    ("sexagesimal-float", yaml_doc(max="190:20:30.15"), "is not a number", 6),
    ("infinity", yaml_doc(max=".inf"), "'.inf' is not a number", 6),
    ("nan", yaml_doc(max=".nan"), "'.nan' is not a number", 6),
    ("round-places", yaml_doc(formula="round(x, 1000000000)"), "round(x, n) needs n", 18),
    ("round-places-name", yaml_doc(formula="round(x, x)"), "round(x, n) needs n", 18),
    ("round-places-13", yaml_doc(formula="round(x, -13)"), "round(x, n) needs n", 18),
    # cells and amounts in one form only
    (
        "cell-comma",
        yaml_doc(rules="rules: [{id: a, when: {x: '[1,5..20]'}, then: {y: 1}}]"),
        "'1,5' is not a number",
        13,
    ),
    (
        "cell-arabic",
        yaml_doc(rules="rules: [{id: a, when: {x: '>= \u0661\u0662'}, then: {y: 1}}]"),
        "is not a number",
        13,
    ),
    (
        "cell-fullwidth",
        yaml_doc(rules="rules: [{id: a, when: {x: '\uff11\uff12'}, then: {y: 1}}]"),
        "is not a number",
        13,
    ),
    # YAML tags: refused on mappings and lists as on scalars
    (
        "tag-python-object",
        yaml_doc(rules="rules: !!python/object/new:os.system [echo]"),
        "tag 'tag:yaml.org,2002:python/object/new:os.system' is not allowed",
        13,
    ),
    (
        "tag-python-map",
        yaml_doc().replace("  x: {type", "  x: !!python/object:builtins.dict {type"),
        "tag 'tag:yaml.org,2002:python/object:builtins.dict' is not allowed",
        6,
    ),
    (
        "tag-custom-seq",
        yaml_doc(rules="rules: !rows [{id: a, when: {x: '-'}, then: {y: 1}}]"),
        "tag '!rows' is not allowed",
        13,
    ),
    (
        "tag-set",
        yaml_doc().replace(
            "inputs: [x]\n    outputs:\n      y", "inputs: !!set {x}\n    outputs:\n      y", 1
        ),
        "tag 'tag:yaml.org,2002:set' is not allowed",
        10,
    ),
    ("tag-omap", yaml_doc(rules="rules: !!omap [{a: 1}]"), "is not allowed", 13),
    ("tag-scalar", yaml_doc(max="!!python/name:os.system ''"), "is not allowed", 6),
]


def _load(text: str) -> None:
    load_ruleset(text, source_name="hostile.yaml")


def test_the_hostile_corpus_is_distinct() -> None:
    assert len({name for name, *_ in HOSTILE_TEXTS}) == len(HOSTILE_TEXTS) >= 25


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [case[1:] for case in HOSTILE_TEXTS],
    ids=[case[0] for case in HOSTILE_TEXTS],
)
def test_hostile_documents_are_refused_fast_at_their_line(
    text: str, expected: str, line: int
) -> None:
    kind, message = bounded(partial(_load, text))
    assert kind == "PolicyLoadError", message[:300]
    assert expected in message, message[:300]
    assert message.startswith(f"hostile.yaml:{line}:"), message[:300]
    assert len(message) < 600  # an excerpt of the offending text, never all of it


def _evaluate_both(text: str, inputs: dict[str, Any]) -> None:
    rules = load_ruleset(text, source_name="hostile.yaml")
    errors = []
    for trace in (False, True):
        try:
            rules.evaluate("f", inputs, trace=trace)
        except PolicyInputError as e:
            errors.append(str(e))
    assert len(errors) == 2 and errors[0] == errors[1], errors
    raise PolicyInputError(errors[0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,50", "'1,50' is not a valid decimal"),  # 150 before
        ("1,2,3", "'1,2,3' is not a valid decimal"),  # 123 before
        ("\u0661\u0662", "is not a valid decimal"),  # Arabic-Indic ١٢
        ("\uff11\uff12", "is not a valid decimal"),  # fullwidth １２
        ("9" * 5000, "too long for a number"),
        ("1e999999999", "exponent out of range"),
    ],
)
def test_hostile_input_text_is_an_input_error_on_both_paths(value: str, expected: str) -> None:
    kind, message = bounded(partial(_evaluate_both, yaml_doc(max="1e30"), {"x": value}))
    assert kind == "PolicyInputError", message[:300]
    assert message.startswith("block f: input x: ") and expected in message, message[:300]
    assert len(message) < 600


def chain(levels: int) -> str:
    """Blocks b0..b{levels}: each formula looks b{i+1} up twice (2^levels evaluations)."""
    blocks = [{"id": f"b{levels}", "kind": "formula", "inputs": ["x"], "outputs": {"y": "x + 1"}}]
    for i in range(levels - 1, -1, -1):
        twice = f'lookup("b{i + 1}", "y", x=x) + lookup("b{i + 1}", "y", x=x + 1)'
        blocks.append({"id": f"b{i}", "kind": "formula", "inputs": ["x"], "outputs": {"y": twice}})
    return json_document("chain", blocks, indent=1)


def test_an_exponential_lookup_chain_is_refused_at_load() -> None:
    text = chain(24)
    kind, message = bounded(partial(load_ruleset, text, source_name="chain.json"))
    assert kind == "PolicyLoadError", message
    found = re.match(r"chain\.json:(\d+):\d+: block (b\d+): one evaluation could evaluate", message)
    assert found is not None and "more than 1,000 blocks" in message, message
    block = f'"id": "{found[2]}"'
    assert int(found[1]) == next(i for i, s in enumerate(text.splitlines()) if block in s)


def test_a_lookup_chain_within_the_budget_decides_the_same_on_both_paths() -> None:
    def expected(level: int, x: Decimal) -> Decimal:
        return x + 1 if level == 8 else expected(level + 1, x) + expected(level + 1, x + 1)

    rules = load_ruleset(chain(8), source_name="chain.json")  # 2^9 - 1 = 511 evaluations
    fast, traced = rules.evaluate("b0", {"x": 3}), rules.evaluate("b0", {"x": 3}, trace=True)
    assert fast["y"] == traced["y"] == expected(0, Decimal(3))
    with pytest.raises(PolicyLoadError, match="more than 1,000 blocks"):
        load_ruleset(chain(9), source_name="chain.json")  # 2^10 - 1 = 1,023


# rules_csv: only a regular file, inside the document's folder, of bounded size -------------

CSV_DOC = yaml_doc(rules="rules_csv: {name}").replace("max: 100", "max: 1000")
GRID = "id,x,y\na,< 10,1\nb,>= 10,2\n"


def _csv_doc(folder: Path, name: str) -> Path:
    path = folder / "rules.yaml"
    path.write_text(CSV_DOC.replace("{name}", name), encoding="utf-8")
    return path


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "doc"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text(GRID, encoding="utf-8")
    return folder


def _setup_symlink(tmp_path: Path) -> Path:
    folder = _outside(tmp_path)
    (folder / "link.csv").symlink_to(tmp_path / "outside.csv")
    return _csv_doc(folder, "link.csv")


def _setup_fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe.csv")
    return _csv_doc(tmp_path, "pipe.csv")


def _setup_directory(tmp_path: Path) -> Path:
    (tmp_path / "d.csv").mkdir()
    return _csv_doc(tmp_path, "d.csv")


def _setup_large(tmp_path: Path) -> Path:
    row = "r{},>= 1000,1\n"
    with (tmp_path / "big.csv").open("w", encoding="utf-8") as f:
        f.write("id,x,y\n")
        f.writelines(row.format(i) for i in range(300_000))
    return _csv_doc(tmp_path, "big.csv")


def _setup_file(name: str, content: bytes) -> Callable[[Path], Path]:
    def setup(tmp_path: Path) -> Path:
        (tmp_path / name).write_bytes(content)
        return _csv_doc(tmp_path, name)

    return setup


CSV_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("passwd", lambda t: _csv_doc(t, "/etc/passwd"), "name a file inside the document's folder"),
    ("environ", lambda t: _csv_doc(t, "/proc/self/environ"), "inside the document's folder"),
    ("zero", lambda t: _csv_doc(t, "/dev/zero"), "inside the document's folder"),
    ("dotdot", lambda t: _csv_doc(_outside(t), "../outside.csv"), "without '..'"),
    ("dotdot-inner", lambda t: _csv_doc(_outside(t), "sub/../../outside.csv"), "without '..'"),
    ("backslash", lambda t: _csv_doc(_outside(t), "'..\\outside.csv'"), "without '..'"),
    ("symlink", _setup_symlink, "leads outside the document's folder"),
    ("fifo", _setup_fifo, "is not a regular file"),
    ("directory", _setup_directory, "not a regular file"),
    ("missing", lambda t: _csv_doc(t, "none.csv"), "cannot read"),
    ("large", _setup_large, "larger than 4,194,304 bytes"),
    ("latin-1", _setup_file("l1.csv", GRID.encode() + b"c,\xe9,1\n"), "is not UTF-8 text"),
    ("nul", _setup_file("nul.csv", GRID.encode() + b"c,\x00,1\n"), "nul.csv:4:"),
    ("field", _setup_file("f.csv", GRID.encode() + b"c,1," + b"9" * 200_000 + b"\n"), "f.csv:4:"),
]


@pytest.mark.parametrize(
    ("setup", "expected"), [c[1:] for c in CSV_CASES], ids=[c[0] for c in CSV_CASES]
)
def test_hostile_rules_csv_is_refused_without_reading_outside_or_quoting_content(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[Path], Path],
    expected: str,
) -> None:
    monkeypatch.setenv("HOSTILE_CANARY", SECRET)
    path = setup(tmp_path)
    kind, message = bounded(partial(load_ruleset, path))
    assert kind == "PolicyLoadError", message[:300]
    assert expected in message, message[:300]
    assert SECRET not in message and "root:" not in message
    assert len(message) < 500, message[:500]


def test_rules_csv_may_name_a_file_in_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "grid.csv").write_text(GRID, encoding="utf-8")
    rules = load_ruleset(_csv_doc(tmp_path, "tables/grid.csv"))
    assert rules.evaluate("t", {"x": 12})["y"] == 2
    assert rules.evaluate("t", {"x": 3}, trace=True).matched == ("a",)


ROUNDING = yaml_doc(max="1e30", formula="lookup('g', 'z', x=x) + round(x, 2)").replace(
    "blocks:\n",
    "blocks:\n  - id: g\n    kind: formula\n    inputs: [x]\n    outputs:\n"
    "      z: round(x * 1000000, 12)\n",
    1,
)


@pytest.mark.parametrize("block", ["f", "g"])
def test_a_rounding_beyond_the_precision_is_the_same_evaluation_error_on_both_paths(
    block: str,
) -> None:
    rules = load_ruleset(ROUNDING, source_name="hostile.yaml")
    fast, traced = (rules.evaluate(block, {"x": "12.5"}, trace=t) for t in (False, True))
    assert (fast.outputs, fast.matched) == (traced.outputs, traced.matched)
    messages = []
    for trace in (False, True):
        with pytest.raises(PolicyEvaluationError) as raised:
            rules.evaluate(block, {"x": "1e25"}, trace=trace)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "block g output z: cannot evaluate 'round(x * 1000000, 12)'" in messages[0]
