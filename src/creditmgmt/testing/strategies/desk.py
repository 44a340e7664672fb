"""Strategies for the credit desk's own types: principals with valid roles and authority."""

from __future__ import annotations

from hypothesis import strategies as st

from creditmgmt.services.access import AUTHORITY_LEVELS, Principal, Role


@st.composite
def principals(
    draw: st.DrawFn, *, roles: frozenset[Role] | None = None, approver: bool | None = None
) -> Principal:
    """Principals with ids `usr_<n>`, one to three roles (or exactly `roles`), a branch, and
    an authority level when they are approvers. `approver=True/False` forces or forbids the
    approver role."""
    chosen = roles
    if chosen is None:
        chosen = frozenset(draw(st.sets(st.sampled_from(list(Role)), min_size=1, max_size=3)))
        if approver is True:
            chosen |= {Role.APPROVER}
        elif approver is False:
            chosen -= {Role.APPROVER}
            if not chosen:
                chosen = frozenset({Role.RELATIONSHIP_MANAGER})
    authority = draw(st.sampled_from(AUTHORITY_LEVELS)) if Role.APPROVER in chosen else None
    return Principal(
        f"usr_{draw(st.integers(0, 10_000))}",
        roles=chosen,
        branch=draw(st.sampled_from(["310000", "110000", "440300"])),
        authority=authority,
    )


__all__ = ["principals"]
