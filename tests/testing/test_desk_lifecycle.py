"""The desk lifecycle machine on the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.testing.desk import a_desk
from creditmgmt.testing.desk_lifecycle import DeskLifecycle, desk_machine

TestDeskOnMemory = DeskLifecycle.TestCase
TestDeskOnMemory.settings = settings(stateful_step_count=25, max_examples=25, deadline=None)


def test_on_sqlite(tmp_path: Path) -> None:
    numbers = itertools.count()
    machine = desk_machine(
        lambda clock: a_desk(f"sqlite:///{tmp_path}/book-{next(numbers)}.db", clock=clock)
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        machine, settings=settings(stateful_step_count=15, max_examples=8, deadline=None)
    )


@pytest.mark.postgres
def test_on_postgres(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    numbers = itertools.count()

    def desk(clock):  # type: ignore[no-untyped-def]
        return a_desk(
            {"url": url, "schema": schema, "table_prefix": f"lc{next(numbers)}_"}, clock=clock
        )

    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        desk_machine(desk), settings=settings(stateful_step_count=12, max_examples=5, deadline=None)
    )


def test_the_machine_catches_a_desk_that_ignores_idempotency_keys() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    from creditmgmt.services.desk import CreditDesk

    class ForgetfulDesk(CreditDesk):
        calls = itertools.count()

        def draw(self, by, facility_id, amount, *, key, schedule=None):  # type: ignore[no-untyped-def]
            return super().draw(by, facility_id, amount, key=f"{key}-{next(self.calls)}")

    def factory(clock):  # type: ignore[no-untyped-def]
        desk = a_desk(clock=clock)
        return ForgetfulDesk(desk.store, desk.context)

    # the machine fails: an assertion, or a refusal it did not predict (possibly grouped).
    # Only finding the failure is tested, so Hypothesis does not spend time shrinking it.
    with pytest.raises((AssertionError, CreditMgmtError, ExceptionGroup)) as caught:
        run_state_machine_as_test(
            desk_machine(factory),
            settings=settings(
                stateful_step_count=25,
                max_examples=50,
                deadline=None,
                phases=[Phase.generate],
                database=None,
            ),
        )
    failures = (
        caught.value.exceptions if isinstance(caught.value, ExceptionGroup) else (caught.value,)
    )
    assert all(isinstance(f, (AssertionError, CreditMgmtError)) for f in failures), failures
