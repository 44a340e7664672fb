"""Effective-dated versions of rule sets: which approved text was in force on a given day.

    registry = RuleSetRegistry([load_ruleset("policy-1.0.yaml"), load_ruleset("policy-1.1.yaml")])
    rules = registry.as_of(date(2026, 7, 1), id="retail-policy")   # the version in force
    registry.get(decision.ruleset_ref)                              # replay a stored decision

A version is in force on `day` when it is `approved` and `effective_from <= day < effective_to`
(an absent `effective_to` is open-ended). Drafts and retired versions are held (they can be
fetched by ref, e.g. to replay old decisions or run an impact analysis) but are never in force.
Two approved versions of one rule set may not be in force on the same day; `add` refuses the
second and names both. The registry keeps no clock: callers pass the business date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from creditmgmt.policies.errors import PolicyError
from creditmgmt.policies.ruleset import RuleSet

_REF = re.compile(r"^(?P<id>[^@#\s]+)@(?P<version>[^@#\s]+)(?:#(?P<hash>[0-9a-f]{4,64}))?$")


class RuleSetVersionError(PolicyError):
    """Two versions of a rule set contradict each other (same version with different text,
    or two approved versions in force on the same days). `refs` names both."""

    default_message = "conflicting rule-set versions"

    def __init__(self, message: str, refs: tuple[str, str]) -> None:
        super().__init__(message)
        self.refs = refs


class RuleSetOverlapError(RuleSetVersionError):
    """Two approved versions of one rule set have overlapping effective ranges; the message
    names both refs and the first and last overlapping day (`first_day`, `last_day`, the
    latter None when both are open-ended)."""

    default_message = "approved rule-set versions overlap"

    def __init__(
        self, message: str, refs: tuple[str, str], first_day: date, last_day: date | None
    ) -> None:
        super().__init__(message, refs)
        self.first_day = first_day
        self.last_day = last_day


class RuleSetNotFoundError(PolicyError):
    """No rule set answers the request: an unknown id or ref, a malformed ref, or no approved
    version in force on the day asked for (the message lists what the registry holds)."""

    default_message = "no such rule set"


def _span(rs: RuleSet) -> str:
    end = rs.document.effective_to
    return f"[{rs.document.effective_from} .. {end if end else 'open'})"


def _version_key(rs: RuleSet) -> tuple[date, tuple[int, ...], str]:
    core = re.match(r"\d+\.\d+\.\d+", rs.version)
    numbers = tuple(int(p) for p in core.group(0).split(".")) if core else ()
    return rs.document.effective_from, numbers, rs.version


class RuleSetRegistry:
    """Holds versions of rule sets by id; answers "which version was in force on this day"."""

    def __init__(self, rulesets: Iterable[RuleSet] = ()) -> None:
        """Start with `rulesets` (each added with `add`, so the same checks apply).

        Raises:
            RuleSetVersionError, RuleSetOverlapError: as `add`.
        """
        self._versions: dict[str, list[RuleSet]] = {}
        for ruleset in rulesets:
            self.add(ruleset)

    # adding --------------------------------------------------------------------------------
    def add(self, ruleset: RuleSet) -> RuleSet:
        """Register a version. Adding the very same text again is a no-op.

        Returns the registered `RuleSet` (the one already held, for a repeat).

        Raises:
            RuleSetVersionError: the registry holds the same id@version with different text.
            RuleSetOverlapError: `ruleset` is approved and another approved version of the same
                id is in force on some of the same days (both refs and the days are named).
        """
        held = self._versions.setdefault(ruleset.id, [])
        for other in held:
            if other.version != ruleset.version:
                continue
            if other.document.content_hash == ruleset.document.content_hash:
                return other
            raise RuleSetVersionError(
                f"{ruleset.ref} and {other.ref} are both version {ruleset.version} of "
                f"{ruleset.id} but their texts differ; give the changed text a new version",
                (ruleset.ref, other.ref),
            )
        if ruleset.status == "approved":
            for other in held:
                if other.status == "approved":
                    _refuse_overlap(ruleset, other)
        held.append(ruleset)
        held.sort(key=_version_key)
        return ruleset

    # questions -----------------------------------------------------------------------------
    def as_of(self, day: date, *, id: str | None = None) -> RuleSet:
        """The approved version of rule set `id` in force on `day`
        (`effective_from <= day < effective_to`, or open-ended). `id` may be left out when
        the registry holds a single rule set.

        Raises:
            RuleSetNotFoundError: unknown id; `id` left out with several rule sets held; or no
                approved version in force on `day` (the message lists the approved ranges).
        """
        if not isinstance(day, date):
            raise RuleSetNotFoundError(f"as_of needs a date, got {day!r}")
        versions = self._held(self._resolve_id(id))
        for rs in versions:
            doc = rs.document
            if rs.status != "approved" or day < doc.effective_from:
                continue
            if doc.effective_to is None or day < doc.effective_to:
                return rs
        approved = [f"{rs.ref} {_span(rs)}" for rs in versions if rs.status == "approved"]
        listing = "; ".join(approved) if approved else "none is approved"
        raise RuleSetNotFoundError(
            f"no approved version of {versions[0].id} is in force on {day} ({listing})"
        )

    def get(self, ref: str) -> RuleSet:
        """The version named by `ref`: `id@version#hash` (as in `Decision.ruleset_ref`; any
        hash prefix of 4+ hex digits) or `id@version`.

        Raises:
            RuleSetNotFoundError: the ref is malformed, names an unknown id or version, or
                its hash does not match the text registered under that version.
        """
        match = _REF.match(ref.strip()) if isinstance(ref, str) else None
        if match is None:
            raise RuleSetNotFoundError(
                f"{ref!r} is not a rule-set ref: expected id@version or id@version#<hex hash>"
            )
        for rs in self._held(match["id"]):
            if rs.version != match["version"]:
                continue
            if match["hash"] and not rs.document.content_hash.startswith(match["hash"]):
                raise RuleSetNotFoundError(
                    f"{ref} names a different text than the registered {rs.ref}: the hash does "
                    "not match"
                )
            return rs
        known = ", ".join(rs.version for rs in self._held(match["id"]))
        raise RuleSetNotFoundError(
            f"{match['id']} has no version {match['version']} (versions: {known})"
        )

    def versions(self, id: str | None = None) -> tuple[RuleSet, ...]:
        """Every version held for `id` (all ids when None), oldest effective date first.

        Raises:
            RuleSetNotFoundError: `id` is not held.
        """
        if id is None:
            return tuple(rs for ident in sorted(self._versions) for rs in self._versions[ident])
        return tuple(self._held(id))

    def ids(self) -> tuple[str, ...]:
        """The rule-set ids held, sorted."""
        return tuple(sorted(i for i, v in self._versions.items() if v))

    def __len__(self) -> int:
        return sum(len(v) for v in self._versions.values())

    def __iter__(self) -> Iterator[RuleSet]:
        return iter(self.versions())

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        try:
            self.get(ref)
        except RuleSetNotFoundError:
            return False
        return True

    def __repr__(self) -> str:
        return f"RuleSetRegistry({[rs.ref for rs in self.versions()]!r})"

    # helpers -------------------------------------------------------------------------------
    def _resolve_id(self, id: str | None) -> str:
        if id is not None:
            return id
        ids = self.ids()
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise RuleSetNotFoundError("the registry holds no rule sets")
        raise RuleSetNotFoundError(f"several rule sets are held ({', '.join(ids)}); name one")

    def _held(self, id: str) -> list[RuleSet]:
        versions = self._versions.get(id)
        if not versions:
            known = ", ".join(self.ids()) or "none"
            raise RuleSetNotFoundError(f"no rule set with id {id!r} (held: {known})")
        return versions


def _refuse_overlap(new: RuleSet, old: RuleSet) -> None:
    a, b = new.document, old.document
    first = max(a.effective_from, b.effective_from)
    ends = [d for d in (a.effective_to, b.effective_to) if d is not None]
    end = min(ends) if ends else None
    if end is not None and first >= end:
        return
    last = None if end is None else end - timedelta(days=1)
    days = f"from {first} to {last}" if last is not None else f"from {first} on (both open-ended)"
    raise RuleSetOverlapError(
        f"approved versions {new.ref} {_span(new)} and {old.ref} {_span(old)} would both be "
        f"in force {days}; end the earlier one with effective_to",
        (new.ref, old.ref),
        first,
        last,
    )
