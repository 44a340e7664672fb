"""The lookup graph of a document: every `lookup(...)` names a block and output that exist
and passes exactly the target's inputs, lookups form no cycle, and the work they add to one
evaluation is bounded (`MAX_BLOCK_EVALUATIONS`)."""

from __future__ import annotations

from creditmgmt.policies import model as m
from creditmgmt.policies.errors import PolicyLoadError
from creditmgmt.policies.formula import Expr

#: One evaluation of a block evaluates at most this many blocks (itself and, through every
#: `lookup(...)` written, nested, each target's own work); a document beyond it is refused.
MAX_BLOCK_EVALUATIONS = 1000


def check_lookups(blocks: dict[str, m.Block]) -> None:
    """Check the lookups of `blocks` (see the module docstring).

    Raises:
        PolicyLoadError: at the expression or block at fault.
    """
    edges: dict[str, set[str]] = {}
    for b in blocks.values():
        exprs: list[Expr] = []
        if isinstance(b, m.Formula):
            exprs = [e for _n, e in (*b.lets, *b.expressions)]
        elif isinstance(b, m.TriggerSet):
            exprs = [t.expr for t in b.triggers]
        for e in exprs:
            for lk in e.lookups:
                target = blocks.get(lk.block)
                if target is None:
                    raise PolicyLoadError(f"lookup of unknown block {lk.block!r}", e.loc)
                if target.output(lk.output) is None:
                    raise PolicyLoadError(f"block {lk.block} has no output {lk.output!r}", e.loc)
                missing = set(target.inputs) - set(lk.arguments)
                extra = set(lk.arguments) - set(target.inputs)
                if missing or extra:
                    raise PolicyLoadError(
                        f"lookup of {lk.block} must pass exactly its inputs {list(target.inputs)}",
                        e.loc,
                    )
                edges.setdefault(b.id, set()).add(lk.block)
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(block_id: str, path: list[str]) -> None:
        if block_id in done:
            return
        if block_id in visiting:
            cycle = " -> ".join([*path, block_id])
            raise PolicyLoadError(f"lookups form a cycle: {cycle}", blocks[block_id].loc)
        visiting.add(block_id)
        for nxt in edges.get(block_id, ()):
            visit(nxt, [*path, block_id])
        visiting.discard(block_id)
        done.add(block_id)

    for block_id in blocks:
        visit(block_id, [])
    _check_lookup_budget(blocks)


def _lookup_sites(block: m.Block) -> list[tuple[str, Expr]]:
    """(target block, expression) for every `lookup(...)` written in `block`."""
    exprs: list[Expr] = []
    if isinstance(block, m.Formula):
        exprs = [e for _n, e in (*block.lets, *block.expressions)]
    elif isinstance(block, m.TriggerSet):
        exprs = [t.expr for t in block.triggers]
    return [(lk.block, e) for e in exprs for lk in e.lookups]


def _check_lookup_budget(blocks: dict[str, m.Block]) -> None:
    """Refuse a document in which one evaluation of some block could evaluate more than
    `MAX_BLOCK_EVALUATIONS` blocks: every `lookup(...)` written counts the whole work of its
    target (lookups nest, and two lookups of a block that makes two lookups are four). The
    lookup graph has no cycle (checked before), so the count is exact as an upper bound and
    is known at load time: a 24-level chain of blocks each looking up the next twice (16
    million evaluations) is refused here instead of running for minutes per decision."""
    cost: dict[str, int] = {}

    def evaluations(block_id: str) -> int:
        if block_id not in cost:
            total = 1
            for target, _e in _lookup_sites(blocks[block_id]):
                total += evaluations(target)
                if total > MAX_BLOCK_EVALUATIONS:
                    break
            cost[block_id] = total
        return cost[block_id]

    for block in blocks.values():
        if evaluations(block.id) > MAX_BLOCK_EVALUATIONS:
            raise PolicyLoadError(
                f"block {block.id}: one evaluation could evaluate more than "
                f"{MAX_BLOCK_EVALUATIONS:,} blocks through its lookups (nested lookups "
                "multiply); look the shared value up once in a let",
                block.loc,
            )
