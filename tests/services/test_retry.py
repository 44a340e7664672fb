"""The bounded retry the desk runs conflicting units of work under."""

from __future__ import annotations

import pytest

from creditmgmt.ports.errors import ConflictError, IntegrityError
from creditmgmt.services.retry import RetryPolicy, retry_on_conflict


def test_retries_until_success_with_growing_capped_delays() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def run() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConflictError("stale")
        return "ok"

    policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
    assert retry_on_conflict(run, policy=policy, sleep=slept.append, draw=lambda: 1.0) == "ok"
    assert len(calls) == 4
    assert slept == [0.02, 0.04, 0.05]


def test_gives_up_after_the_bound_with_the_last_conflict() -> None:
    calls: list[int] = []

    def run() -> None:
        calls.append(1)
        raise ConflictError(f"stale {len(calls)}")

    with pytest.raises(ConflictError, match="stale 3"):
        retry_on_conflict(run, policy=RetryPolicy(attempts=3), sleep=lambda _: None)
    assert len(calls) == 3


def test_other_errors_are_never_retried() -> None:
    calls: list[int] = []

    def run() -> None:
        calls.append(1)
        raise IntegrityError("dup")

    with pytest.raises(IntegrityError):
        retry_on_conflict(run, sleep=lambda _: None)
    assert calls == [1]


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base_delay": -1.0}, {"max_delay": -0.5}])
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
