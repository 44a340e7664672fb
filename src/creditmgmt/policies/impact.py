"""Impact of a new rule-set version on a book: who changes grade, limit, category, level.

    report = diff_impact(current, proposed, portfolio, key="customer_id", amount="exposure")
    report.output("classification", "category").transitions   # normal → special_mention ...
    report.to_rows()                                             # one plain row per change

`portfolio` is any iterable of mappings (one per customer or facility) holding the inputs of
the blocks compared; fields a block does not take are ignored for that block, so one row can
feed every block. It is read once, row by row, and no row is kept: memory grows with the
changes found (cap them with `max_changes`), not with the book. A row that cannot be decided
(a missing or mistyped input, no matching rule ...) is recorded in `errors` with its key and
the analysis goes on; pass `strict=True` to stop at the first one instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from creditmgmt.domain.money import Money
from creditmgmt.policies.errors import PolicyError, PolicyEvaluationError, PolicyInputError
from creditmgmt.policies.ruleset import RuleSet

ROW_KINDS = ("changes", "transitions", "summary", "errors")


@attrs.frozen
class Transition:
    """Rows whose `output` of `block` went from `old` to `new`: how many, and their amount."""

    block: str
    output: str
    old: Any
    new: Any
    count: int
    amount: Decimal


@attrs.frozen
class OutputImpact:
    """One output of one block over the book: rows decided by both versions (`evaluated`),
    how many kept their value and how many changed, and the transitions (most rows first)."""

    block: str
    output: str
    evaluated: int
    unchanged: int
    changed: int
    errors: int
    changed_amount: Decimal
    transitions: tuple[Transition, ...]


@attrs.frozen
class RowChange:
    """One row whose `output` of `block` differs between the versions."""

    key: Any
    block: str
    output: str
    old: Any
    new: Any
    amount: Decimal | None


@attrs.frozen
class RowError:
    """A row one version could not decide; `version` is "old", "new" or "row" (the row
    itself is unusable, e.g. it has no key)."""

    key: Any
    block: str
    version: str
    error: str
    message: str


@attrs.frozen
class ImpactReport:
    """What changes when `new_ref` replaces `old_ref` over a book of `rows` rows."""

    old_ref: str
    new_ref: str
    key: str
    rows: int
    blocks: tuple[str, ...]
    outputs: tuple[OutputImpact, ...]
    changes: tuple[RowChange, ...]
    errors: tuple[RowError, ...]
    changes_not_kept: int = 0

    def output(self, block: str, output: str) -> OutputImpact:
        """The impact on one output.

        Raises:
            PolicyInputError: the report has no such block/output.
        """
        for o in self.outputs:
            if o.block == block and o.output == output:
                return o
        known = ", ".join(f"{o.block}.{o.output}" for o in self.outputs)
        raise PolicyInputError(f"the impact report has no output {block}.{output} ({known})")

    @property
    def changed_keys(self) -> tuple[Any, ...]:
        """Keys of the rows with at least one changed output, in book order."""
        return tuple(dict.fromkeys(c.key for c in self.changes))

    def to_rows(self, kind: str = "changes") -> list[dict[str, str]]:
        """Plain text rows for CSV or a table, one dict per line, columns in a fixed order:

        - `changes`: key, block, output, old, new, amount — one per changed output of a row
        - `transitions`: block, output, old, new, count, amount
        - `summary`: block, output, evaluated, unchanged, changed, errors, changed_amount
        - `errors`: key, block, version, error, message

        Raises:
            PolicyInputError: `kind` is not one of those.
        """
        if kind == "changes":
            return [
                {
                    self.key: display(c.key),
                    "block": c.block,
                    "output": c.output,
                    "old": display(c.old),
                    "new": display(c.new),
                    "amount": display(c.amount),
                }
                for c in self.changes
            ]
        if kind == "transitions":
            return [
                {
                    "block": t.block,
                    "output": t.output,
                    "old": display(t.old),
                    "new": display(t.new),
                    "count": str(t.count),
                    "amount": display(t.amount),
                }
                for o in self.outputs
                for t in o.transitions
            ]
        if kind == "summary":
            return [
                {
                    "block": o.block,
                    "output": o.output,
                    "evaluated": str(o.evaluated),
                    "unchanged": str(o.unchanged),
                    "changed": str(o.changed),
                    "errors": str(o.errors),
                    "changed_amount": display(o.changed_amount),
                }
                for o in self.outputs
            ]
        if kind == "errors":
            return [
                {
                    self.key: display(e.key),
                    "block": e.block,
                    "version": e.version,
                    "error": e.error,
                    "message": e.message,
                }
                for e in self.errors
            ]
        raise PolicyInputError(f"unknown row kind {kind!r}: one of {', '.join(ROW_KINDS)}")

    def to_csv(self, kind: str = "changes") -> str:
        """`to_rows(kind)` as CSV text with a header line (the columns even when empty).

        Raises:
            PolicyInputError: as `to_rows`.
        """
        rows = self.to_rows(kind)
        columns = {
            "changes": [self.key, "block", "output", "old", "new", "amount"],
            "transitions": ["block", "output", "old", "new", "count", "amount"],
            "summary": [
                "block",
                "output",
                "evaluated",
                "unchanged",
                "changed",
                "errors",
                "changed_amount",
            ],
            "errors": [self.key, "block", "version", "error", "message"],
        }[kind]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def display(value: Any) -> str:
    """A decision value as text: decimals as written, booleans lower case, fired triggers by
    id, collections joined with "; ", None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # 100000, never 1E+5
    if isinstance(value, Mapping):
        if "id" in value:
            return str(value["id"])
        return ", ".join(f"{k}={display(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(display(v) for v in value)
    return str(value)


def _comparable(value: Any) -> Any:
    """A hashable, order-stable form of a decision value (trigger lists hold dicts)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _comparable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_comparable(v) for v in value)
    return value


class _OutputTally:
    def __init__(self) -> None:
        self.evaluated = 0
        self.unchanged = 0
        self.changed = 0
        self.changed_amount = Decimal(0)
        # (old, new) comparable → [old value, new value, count, amount]
        self.transitions: dict[tuple[Any, Any], list[Any]] = {}


def diff_impact(
    old: RuleSet,
    new: RuleSet,
    rows: Iterable[Mapping[str, Any]],
    *,
    blocks: Sequence[str] | None = None,
    key: str | Callable[[Mapping[str, Any]], Any] = "customer_id",
    amount: str | None = None,
    max_changes: int | None = None,
    strict: bool = False,
) -> ImpactReport:
    """Evaluate `old` and `new` over `rows` and report what changes, block by block.

    Args:
        blocks: block ids to compare; default every block the two versions share.
        key: the field naming a row (or a function of the row); it labels changes and errors.
        amount: optional field with the row's exposure (Decimal, int, numeric text or Money),
            summed per transition. A row without it counts with no amount.
        max_changes: keep at most this many per-row changes (counts and sums stay complete;
            `changes_not_kept` says how many were dropped).
        strict: raise the first row error instead of recording it.

    Raises:
        PolicyInputError: a requested block is missing from a version; with `strict`, a row
            with a missing, extra-typed or mistyped input (the message names the row key,
            the version and the block).
        PolicyEvaluationError: with `strict`, a row a version cannot decide.
    """
    block_ids = _blocks(old, new, blocks)
    key_name = key if isinstance(key, str) else getattr(key, "__name__", "key")
    tallies: dict[tuple[str, str], _OutputTally] = {}
    block_errors = dict.fromkeys(block_ids, 0)
    order: list[tuple[str, str]] = []
    changes: list[RowChange] = []
    errors: list[RowError] = []
    dropped = 0
    count = 0
    inputs = {b: (old.blocks[b].inputs, new.blocks[b].inputs) for b in block_ids}

    def fail(where: str, row_key: Any, block: str, version: str, e: PolicyError) -> None:
        ref = {"old": old.ref, "new": new.ref}.get(version)
        text = f"{where}: {version} {ref}: {e}" if ref else f"{where}: {e}"
        if strict:
            if isinstance(e, PolicyInputError | PolicyEvaluationError):
                raise type(e)(text) from e
            raise e
        errors.append(RowError(row_key, block, version, type(e).__name__, text))

    for index, row in enumerate(rows):
        count += 1
        try:
            row_key = key(row) if callable(key) else row[key]
        except (KeyError, TypeError) as e:
            missing = PolicyInputError(f"has no {key_name} ({type(e).__name__}: {e})")
            fail(f"row #{index + 1}", None, "", "row", missing)
            continue
        where = f"row {key_name}={row_key!r}"
        try:
            row_amount = _amount(row, amount)
        except PolicyInputError as e:
            fail(where, row_key, "", "row", e)
            continue
        for block in block_ids:
            old_inputs, new_inputs = inputs[block]
            outcomes = []
            for version, ruleset, names in (("old", old, old_inputs), ("new", new, new_inputs)):
                given = {n: row[n] for n in names if n in row}
                try:
                    outcomes.append(ruleset.evaluate(block, given).outputs)
                except PolicyError as e:
                    fail(where, row_key, block, version, e)
            if len(outcomes) != 2:
                block_errors[block] += 1
                continue
            before, after = outcomes
            for output in dict.fromkeys([*before, *after]):
                slot = (block, output)
                tally = tallies.get(slot)
                if tally is None:
                    tally = tallies[slot] = _OutputTally()
                    order.append(slot)
                tally.evaluated += 1
                was, now = before.get(output), after.get(output)
                was_c, now_c = _comparable(was), _comparable(now)
                if was_c == now_c:
                    tally.unchanged += 1
                    continue
                tally.changed += 1
                tally.changed_amount += row_amount or 0
                entry = tally.transitions.get((was_c, now_c))
                if entry is None:
                    tally.transitions[(was_c, now_c)] = [was, now, 1, row_amount or Decimal(0)]
                else:
                    entry[2] += 1
                    entry[3] += row_amount or 0
                if max_changes is None or len(changes) < max_changes:
                    changes.append(RowChange(row_key, block, output, was, now, row_amount))
                else:
                    dropped += 1

    outputs = tuple(
        OutputImpact(
            block=b,
            output=o,
            evaluated=tallies[(b, o)].evaluated,
            unchanged=tallies[(b, o)].unchanged,
            changed=tallies[(b, o)].changed,
            errors=block_errors[b],
            changed_amount=tallies[(b, o)].changed_amount,
            transitions=tuple(
                Transition(b, o, was, now, n, total)
                for was, now, n, total in sorted(
                    tallies[(b, o)].transitions.values(), key=lambda t: (-t[2], display(t[0]))
                )
            ),
        )
        for b, o in order
    )
    return ImpactReport(
        old_ref=old.ref,
        new_ref=new.ref,
        key=key_name,
        rows=count,
        blocks=block_ids,
        outputs=outputs,
        changes=tuple(changes),
        errors=tuple(errors),
        changes_not_kept=dropped,
    )


def _blocks(old: RuleSet, new: RuleSet, wanted: Sequence[str] | None) -> tuple[str, ...]:
    if wanted is None:
        shared = tuple(b for b in old.blocks if b in new.blocks)
        if not shared:
            raise PolicyInputError(f"{old.ref} and {new.ref} share no block to compare")
        return shared
    if isinstance(wanted, str):
        wanted = [wanted]
    for b in wanted:
        for rs in (old, new):
            if b not in rs.blocks:
                raise PolicyInputError(
                    f"{rs.ref} has no block {b!r} (blocks: {', '.join(rs.blocks)})"
                )
    return tuple(dict.fromkeys(wanted))


def _amount(row: Mapping[str, Any], field: str | None) -> Decimal | None:
    if field is None:
        return None
    value = row.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, bool | float):
        raise PolicyInputError(f"amount {field}: {value!r} is not a decimal (floats refused)")
    try:
        result = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise PolicyInputError(f"amount {field}: {value!r} is not a number") from None
    if not result.is_finite():
        raise PolicyInputError(f"amount {field}: {value!r} is not a finite number")
    return result
