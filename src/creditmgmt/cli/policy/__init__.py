"""`creditmgmt policy`: tools for policy teams — check, explain, test, diff, prove, schema.

One module per subcommand; `common` holds the group, `--lang`, the console and value display,
`text` the English and Chinese words.

Exit codes: 0 success; 1 the rules have a problem (error findings, failed regression cases, a
block that cannot decide); 2 the command cannot run (usage, a file that cannot be loaded, a
malformed cases CSV, bad `--input`). Load errors name file:line:column.
"""

from __future__ import annotations

from creditmgmt.cli.policy import cases, check, diff, explain, prove, schema
from creditmgmt.cli.policy.cases import read_cases, run_case, value_matches
from creditmgmt.cli.policy.common import policy, show_value
from creditmgmt.cli.policy.explain import print_decision

del cases, check, diff, explain, prove, schema  # imported for their commands

__all__ = ["policy", "print_decision", "read_cases", "run_case", "show_value", "value_matches"]
