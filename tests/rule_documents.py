"""Rule-set texts the policy, CLI and property tests share: one builder of a small document,
the five-grade loan classification by days past due (with its provision formula), and a rule
set a policy team might write with a copy seeded with one non-monotone row."""

from __future__ import annotations

import textwrap
from pathlib import Path


def document(
    blocks: str,
    inputs: str = "x: {type: int}",
    *,
    id: str = "t",
    version: str = "1.0.0",
    status: str = "draft",
    effective_from: str = "2026-01-01",
    header: str = "",
) -> str:
    """A YAML document with these inputs and blocks (snippets, indented freely); `header` holds
    more top-level fields (owner, change_note...); an approved document names its approver."""
    approved = "approved_by: risk committee\n" if status == "approved" else ""
    return (
        f"id: {id}\nversion: {version}\neffective_from: {effective_from}\nstatus: {status}\n"
        + approved
        + header
        + "inputs:\n"
        + textwrap.indent(textwrap.dedent(inputs).strip("\n"), "  ")
        + "\nblocks:\n"
        + textwrap.indent(textwrap.dedent(blocks).strip("\n"), "  ")
        + "\n"
    )


def written(folder: Path, text: str, name: str = "rules.yaml") -> Path:
    """`text` saved as `folder/name` (UTF-8), for the CLI and loaders that read a file."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# (rule id, days-past-due cell, category, provision rate)
BANDS = (
    ("r1", "[0..30]", "normal", "0.01"),
    ("r2", "(30..90]", "special_mention", "0.03"),
    ("r3", "(90..180]", "substandard", "0.25"),
    ("r4", "(180..360]", "doubtful", "0.5"),
    ("r5", "> 360", "loss", "1"),
)


def classification(*, rates: bool = True) -> str:
    """The block `classification` (input `dpd`): a `category` per band, and its provision
    `rate` unless `rates=False`."""
    lines = [
        "- id: classification",
        "  kind: decision_table",
        "  inputs: [dpd]",
        "  outputs:",
        "    category: {type: enum, values: [normal, special_mention, substandard, doubtful, loss]}",
        *(["    rate: {type: decimal}"] if rates else []),
        "  rules:",
    ]
    for rule, cell, category, rate in BANDS:
        then = f"category: {category}, rate: {rate}" if rates else f"category: {category}"
        lines.append(f'    - {{id: {rule}, when: {{dpd: "{cell}"}}, then: {{{then}}}}}')
    return "\n".join(lines) + "\n"


# the provision of a balance at the classification's rate (inputs dpd and balance)
PROVISION = """\
- id: provision
  kind: formula
  inputs: [dpd, balance]
  let:
    rate: lookup("classification", "rate", dpd=dpd)
  outputs:
    provision: round(balance * rate, 2)
"""

OWNER = "owner: credit-policy\n"

# a team's rule set (the `policy prove` CLI tests and the `testing.policies` property tests)
RULES = document(
    classification(rates=False)
    + """\
- id: limit
  kind: formula
  inputs: [revenue, requested]
  outputs:
    limit: round(min(revenue * 0.3, requested), 2)
""",
    """\
dpd: {type: int, min: 0}
revenue: {type: money, min: 0}
requested: {type: money, min: 0}
""",
    id="team",
    header=OWNER,
)
# r4 seeded non-monotone: 181 days past due is special mention again, better than 180
SEEDED = RULES.replace("then: {category: doubtful}", "then: {category: special_mention}")
