"""`creditmgmt policy schema`: the JSON Schema of rule-set documents."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from creditmgmt.cli.policy.common import policy

if TYPE_CHECKING:
    pass


@policy.command()
def schema() -> None:
    """Print the JSON Schema of rule-set documents (for editors and CI validation)."""
    from creditmgmt.policies.loader import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
