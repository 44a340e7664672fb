"""Compile: the Python evaluator generated for each block of a rule set, on first use.

`BlockCompiler` (in `blocks`) generates the evaluator of any block kind; formulas and trigger
sets are inlined by `ExpressionCompiler` (in `expressions`), which it builds on. Both build
only from the parsed form — no user text reaches `compile`.
"""

from creditmgmt.policies.compiler.blocks import BlockCompiler
from creditmgmt.policies.compiler.expressions import InnerOf

__all__ = ["BlockCompiler", "InnerOf"]
