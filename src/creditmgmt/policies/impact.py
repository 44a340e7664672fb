"""Impact of a new rule-set version on a book: who changes grade, limit, category, level.

    report = diff_impact(current, proposed, portfolio, key="customer_id", amount="exposure")
    report.output("classification", "category").transitions   # normal → special_mention ...
    report.output("provisioning", "provision").numeric           # up / down / total delta ...
    report.to_rows()                                             # one plain row per change

`portfolio` is any iterable of mappings (one per customer or facility) holding the inputs of
the blocks compared; fields a block does not take are ignored for that block, so one row can
feed every block. It is read once, row by row, and no row is kept: memory grows with the
changes found (cap them with `max_changes`), not with the book. A row that cannot be decided
(a missing or mistyped input, no matching rule ...) is recorded in `errors` with its key and
the analysis goes on; pass `strict=True` to stop at the first one instead.

An output declared `int` or `decimal` (a provision, a limit, a score) is summarised, not listed
pair by pair: how many rows went up, down or stayed, the totals before and after, the total
and mean change, and the `top` largest changes by size (`OutputImpact.numeric`); its per-row
changes carry the change itself (`RowChange.delta`, new - old). Other outputs (categories,
grades, levels) get transitions: one per (old, new) pair, most rows first, values in
numeric order where they are numbers.
"""

from __future__ import annotations

import csv
import heapq
import io
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.money import Money
from creditmgmt.domain.numbers import parse_decimal
from creditmgmt.policies.errors import PolicyError, PolicyEvaluationError, PolicyInputError
from creditmgmt.policies.ruleset import RuleSet

#: the columns of each kind of `ImpactReport.to_rows` row, in order: attribute names of what
#: the row is read from ("key" is the row's key, named as the report's key field)
_ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "changes": ("key", "block", "output", "old", "new", "delta", "amount"),
    "transitions": ("block", "output", "old", "new", "count", "amount"),
    "numeric": (
        "block",
        "output",
        "compared",
        "up",
        "down",
        "same",
        "old_total",
        "new_total",
        "total_delta",
        "mean_delta",
    ),
    "largest": ("key", "block", "output", "old", "new", "delta"),
    "summary": (
        "block",
        "output",
        "evaluated",
        "unchanged",
        "changed",
        "errors",
        "changed_amount",
    ),
    "errors": ("key", "block", "version", "error", "message"),
}
ROW_KINDS = tuple(_ROW_COLUMNS)
#: declared output types summarised as numbers (up/down/delta) instead of transitions
NUMERIC_OUTPUT_TYPES = ("int", "decimal")


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
class RowChange:
    """One row whose `output` of `block` differs between the versions: `amount` is the row's
    exposure (the `amount` field), `delta` is new - old for a numeric output (else None)."""

    key: Any
    block: str
    output: str
    old: Any
    new: Any
    amount: Decimal | None
    delta: Decimal | None = None


@attrs.frozen
class NumericImpact:
    """A numeric output over the rows where both versions gave a number (`compared`): how
    many went up, down or stayed the same, the totals before and after, the total and mean
    change (mean over `compared`), and the `largest` changes by size, largest first."""

    compared: int
    up: int
    down: int
    same: int
    old_total: Decimal
    new_total: Decimal
    total_delta: Decimal
    mean_delta: Decimal
    largest: tuple[RowChange, ...]


@attrs.frozen
class OutputImpact:
    """One output of one block over the book: rows decided by both versions (`evaluated`),
    how many kept their value and how many changed, `changed_amount` (the exposure of the
    changed rows), the transitions (most rows first) and, for an `int`/`decimal` output,
    `numeric` (its transitions then only hold changes to or from no value)."""

    block: str
    output: str
    evaluated: int
    unchanged: int
    changed: int
    errors: int
    changed_amount: Decimal
    transitions: tuple[Transition, ...]
    numeric: NumericImpact | None = None


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

        - `changes`: key, block, output, old, new, delta, amount — one per changed output
          of a row (`delta` new - old for numeric outputs, `amount` the row's exposure)
        - `transitions`: block, output, old, new, count, amount
        - `numeric`: block, output, compared, up, down, same, old_total, new_total,
          total_delta, mean_delta — one per numeric output
        - `largest`: key, block, output, old, new, delta — the largest numeric changes
        - `summary`: block, output, evaluated, unchanged, changed, errors, changed_amount
        - `errors`: key, block, version, error, message

        Raises:
            PolicyInputError: `kind` is not one of those.
        """
        names = self._column_names(kind)
        columns = _ROW_COLUMNS[kind]
        rows: list[dict[str, str]] = []
        read_from: list[int] = []  # per column, which of a row's sources holds it
        for sources in self._row_sources(kind):
            if not read_from:
                read_from = [
                    next(i for i, s in enumerate(sources) if hasattr(s, c)) for c in columns
                ]
            cells = zip(names, read_from, columns, strict=True)
            rows.append({name: display(getattr(sources[i], c)) for name, i, c in cells})
        return rows

    def _column_names(self, kind: str) -> list[str]:
        """The columns of a `kind` row, the key named as the report's key field."""
        columns = _ROW_COLUMNS.get(kind)
        if columns is None:
            raise PolicyInputError(f"unknown row kind {kind!r}: one of {', '.join(ROW_KINDS)}")
        return [self.key if c == "key" else c for c in columns]

    def _row_sources(self, kind: str) -> Iterable[tuple[object, ...]]:
        """What each row of `kind` is read from, its columns taken from the first that has
        them (a numeric row: the output, then its numeric summary)."""
        if kind == "changes":
            return ((c,) for c in self.changes)
        if kind == "transitions":
            return ((t,) for o in self.outputs for t in o.transitions)
        if kind == "numeric":
            return ((o, n) for o in self.outputs if (n := o.numeric) is not None)
        if kind == "largest":
            return ((c,) for o in self.outputs if o.numeric is not None for c in o.numeric.largest)
        if kind == "summary":
            return ((o,) for o in self.outputs)
        return ((e,) for e in self.errors)

    def to_csv(self, kind: str = "changes") -> str:
        """`to_rows(kind)` as CSV text with a header line (the columns even when empty).

        Raises:
            PolicyInputError: as `to_rows`.
        """
        rows = self.to_rows(kind)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self._column_names(kind), lineterminator="\n")
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


def order_key(value: Any) -> tuple[int, Any]:
    """Sort key of decision values: numbers — and text that reads as one, like grade "10" —
    in numeric order (9 before 10) ahead of other text, then text as displayed; no value
    last."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return (0, Decimal(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return (0, number)
    if value is None:
        return (2, "")
    return (1, display(value))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    return None


class _NumericTally:
    """Up/down/totals of one numeric output and a bounded heap of its largest changes."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.compared = self.up = self.down = self.same = 0
        self.old_total = Decimal(0)
        self.new_total = Decimal(0)
        self.heap: list[tuple[Decimal, int, RowChange]] = []
        self.sequence = itertools.count()

    def add(self, was: Decimal, now: Decimal, change: RowChange | None) -> None:
        self.compared += 1
        self.old_total += was
        self.new_total += now
        if now > was:
            self.up += 1
        elif now < was:
            self.down += 1
        else:
            self.same += 1
        if change is None or self.top <= 0:
            return
        # smallest change on top; a later change of equal size never displaces an earlier
        entry = (abs(now - was), -next(self.sequence), change)
        if len(self.heap) < self.top:
            heapq.heappush(self.heap, entry)
        elif entry[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, entry)

    def result(self) -> NumericImpact:
        total = self.new_total - self.old_total
        mean = total / self.compared if self.compared else Decimal(0)
        largest = tuple(c for _s, _n, c in sorted(self.heap, key=lambda e: e[:2], reverse=True))
        return NumericImpact(
            compared=self.compared,
            up=self.up,
            down=self.down,
            same=self.same,
            old_total=self.old_total,
            new_total=self.new_total,
            total_delta=total,
            mean_delta=mean,
            largest=largest,
        )


class _OutputTally:
    def __init__(self, numeric: _NumericTally | None) -> None:
        self.numeric = numeric
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
    top: int = 10,
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
        top: how many of the largest changes to keep per numeric output.

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
    numeric_outputs = {b: _numeric_outputs(old, new, b) for b in block_ids}

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
                    numeric = _NumericTally(top) if numeric_outputs[block].get(output) else None
                    tally = tallies[slot] = _OutputTally(numeric)
                    order.append(slot)
                tally.evaluated += 1
                was, now = before.get(output), after.get(output)
                was_n, now_n = _number(was), _number(now)
                both = tally.numeric is not None and was_n is not None and now_n is not None
                was_c, now_c = _comparable(was), _comparable(now)
                if was_c == now_c:
                    tally.unchanged += 1
                    if both:
                        assert tally.numeric is not None and was_n is not None
                        tally.numeric.add(was_n, was_n, None)
                    continue
                tally.changed += 1
                tally.changed_amount += row_amount or 0
                delta = now_n - was_n if both and now_n is not None and was_n is not None else None
                change = RowChange(row_key, block, output, was, now, row_amount, delta)
                if max_changes is None or len(changes) < max_changes:
                    changes.append(change)
                else:
                    dropped += 1
                if both:
                    assert tally.numeric is not None and was_n is not None and now_n is not None
                    tally.numeric.add(was_n, now_n, change)
                    continue
                entry = tally.transitions.get((was_c, now_c))
                if entry is None:
                    tally.transitions[(was_c, now_c)] = [was, now, 1, row_amount or Decimal(0)]
                else:
                    entry[2] += 1
                    entry[3] += row_amount or 0

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
                    tallies[(b, o)].transitions.values(),
                    key=lambda t: (-t[2], order_key(t[0]), order_key(t[1])),
                )
            ),
            numeric=None if (n := tallies[(b, o)].numeric) is None else n.result(),
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


def _numeric_outputs(old: RuleSet, new: RuleSet, block: str) -> dict[str, bool]:
    """Per output of `block`: is it declared a number (`int`/`decimal`) by both versions?"""
    kinds: dict[str, list[str]] = {}
    for ruleset in (old, new):
        for spec in ruleset.blocks[block].outputs:
            kinds.setdefault(spec.name, []).append(spec.type)
    return {
        name: len(types) == 2 and all(t in NUMERIC_OUTPUT_TYPES for t in types)
        for name, types in kinds.items()
    }


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
    if isinstance(value, Decimal | int):
        result = Decimal(value)
        if not result.is_finite():
            raise PolicyInputError(f"amount {field}: {value!r} is not a finite number")
        return result
    try:  # the canonical form only: "1,50" is refused, never read as 150
        return parse_decimal(str(value))
    except InvalidValueError as e:
        raise PolicyInputError(f"amount {field}: {e}") from None
