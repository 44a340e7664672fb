"""The `creditmgmt` command: policy tools for policy teams, the demo, the daily run.

Needs the `cli` extra (click, rich). Sub-command groups live in their own modules and are
attached here.
"""

from __future__ import annotations

import click

from creditmgmt._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="creditmgmt")
def main() -> None:
    """Credit customer management (授信客户管理) tools."""


def _attach_commands() -> None:
    from creditmgmt.cli.daily import COMMANDS
    from creditmgmt.cli.demo import demo
    from creditmgmt.cli.policy import policy

    main.add_command(demo)
    main.add_command(policy)
    for command in COMMANDS:
        main.add_command(command)


_attach_commands()

__all__ = ["main"]
