"""docs/policies.md runs as written.

Every ```yaml / ```csv block carries a file name (`title="..."`) and is saved under it in a
scratch directory; then, in the guide's order, the ```python blocks run there sharing one
namespace, and each ```console block's `$ creditmgmt ...` command runs through click's
CliRunner: every output line the guide shows must appear in the real output
(whitespace-insensitive), with the exit code the guide states (`# exits N`, else 0).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.docs.guide import blocks, run_in_order

from creditmgmt.policies import PolicyLoadError, load_ruleset
from creditmgmt.policies.checks import FINDING_CODES, FINDING_SEVERITIES
from creditmgmt.policies.model import AGGREGATES, BLOCK_KINDS, HIT_POLICIES

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = blocks(TEXT)
FILES = {name: body for lang, name, body in BLOCKS if lang in ("yaml", "csv")}
PYTHON = [body for lang, _name, body in BLOCKS if lang == "python"]
CONSOLE = [body for lang, _name, body in BLOCKS if lang == "console"]


@pytest.fixture
def guide_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, body in FILES.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_guide_has_examples_of_every_kind() -> None:
    assert len(PYTHON) >= 10
    assert len(CONSOLE) >= 5
    for lang, name, _body in BLOCKS:
        if lang in ("yaml", "csv"):
            assert name, f"a {lang} block without a file name"
    assert len(FILES) == len([b for b in BLOCKS if b[0] in ("yaml", "csv")]), "a name twice"


def test_every_block_kind_hit_policy_and_aggregate_is_shown() -> None:
    yaml_text = "\n".join(body for lang, _n, body in BLOCKS if lang == "yaml")
    kinds = set(re.findall(r"^\s+kind: (\w+)$", yaml_text, re.M))
    assert set(BLOCK_KINDS) <= kinds
    policies = set(re.findall(r"^\s+hit_policy: (\w+)$", yaml_text, re.M)) | {"UNIQUE"}
    assert set(HIT_POLICIES) <= policies
    assert "aggregate: SUM" in yaml_text
    for aggregate in AGGREGATES:
        assert f"`{aggregate}`" in TEXT
    for kind in BLOCK_KINDS:
        assert f"### {kind}\n" in TEXT


def test_every_finding_code_is_explained_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", TEXT, re.M))
    assert set(rows) == set(FINDING_CODES), "the table lists exactly the codes check() emits"
    for code, severity in rows.items():
        assert FINDING_SEVERITIES[code] == severity, code


def test_yaml_examples_load_and_check(guide_dir: Path) -> None:
    for name in FILES:
        if not name.endswith(".yaml"):
            continue
        if name.startswith("broken"):
            with pytest.raises(PolicyLoadError):
                load_ruleset(name)
            continue
        findings = load_ruleset(name).check()
        errors = [f for f in findings if f.severity == "error"]
        if name.startswith("bad-"):
            assert errors, f"{name} is meant to show error findings"
        else:
            assert errors == [], (name, [str(f) for f in errors])


def test_examples_run_in_order(guide_dir: Path) -> None:
    """Python blocks share one namespace; commands run between them, as a reader would."""
    namespace, python, commands = run_in_order(BLOCKS, DOC, "policies_guide")
    assert python + commands == len(PYTHON) + len(CONSOLE)
    assert "findings" in namespace and "report" in namespace
