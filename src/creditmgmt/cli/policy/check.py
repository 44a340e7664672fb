"""`creditmgmt policy check FILE...`: every finding of every file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from creditmgmt.cli.policy.common import LANG, console, policy
from creditmgmt.cli.policy.text import LABELS as _LABELS
from creditmgmt.cli.policy.text import finding_code
from creditmgmt.cli.policy.text import t as _t
from creditmgmt.policies import PolicyError, RuleSet


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@LANG
def check(files: tuple[str, ...], lang: str) -> None:
    """Check rule-set FILES: gaps, overlaps, shadowed rows, types, unused inputs ...

    Lists every finding with file:line, severity, code, block/row and message (with
    `--lang zh` the messages are Chinese; codes, ids and formulas stay as written). A formula that does
    not compile (a type error, an unknown name) is a `formula-error` finding at its line and
    the other blocks are still checked. Exits 1 if any file has an error finding, 2 if a
    file cannot be loaded.
    """
    from creditmgmt.policies.loader import read_document

    out = console()
    worst = 0
    for path in files:
        try:
            ruleset = RuleSet(read_document(Path(path), source_name=path, lenient=True))
        except PolicyError as e:
            out.print(f"[bold red]{_t(lang, 'cannot_load')}:[/] {escape(str(e))}")
            worst = 2
            continue
        findings = ruleset.check()
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning")}
        infos = len(findings) - counts["error"] - counts["warning"]
        if findings:
            table = Table(title=f"{_t(lang, 'findings')}: {escape(ruleset.ref)}")
            for key in ("location", "severity", "code", "where", "message"):
                table.add_column(_t(lang, key), overflow="fold")
            for f in findings:
                loc = f"{f.location.file}:{f.location.line}" if f.location else path
                where = f"{f.block}/{f.rule}" if f.block and f.rule else (f.block or "")
                sev = _t(lang, f.severity) if f.severity in _LABELS[lang] else f.severity
                style = {"error": "red", "warning": "yellow"}.get(f.severity, "")
                table.add_row(
                    escape(loc),
                    f"[{style}]{escape(sev)}[/]" if style else escape(sev),
                    escape(finding_code(f.code, lang)),
                    escape(where),
                    escape(f.message_in(lang)),
                )
            out.print(table)
            out.print(
                escape(
                    _t(
                        lang,
                        "summary",
                        file=path,
                        errors=counts["error"],
                        warnings=counts["warning"],
                        infos=infos,
                    )
                )
            )
        else:
            out.print(escape(_t(lang, "clean", file=path)))
        if counts["error"]:
            worst = max(worst, 1)
    raise click.exceptions.Exit(worst)
