"""Driver errors become our errors without the values the driver quotes (adapters.sql.errors).

The texts are the drivers' own (PostgreSQL via psycopg, MariaDB via PyMySQL, SQLite); the
store-level contract (testing.hygiene) checks the same on live databases.
"""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import exc as sa_exc

from creditmgmt.adapters.sql.errors import chained, translate
from creditmgmt.ports.errors import DataError, IntegrityError, PersistenceError

USCC = "91310000MA1FL8XQ2R"
PARAMS = {"registration_id": USCC, "document": f'{{"registration_id": "{USCC}"}}'}


class _Driver(Exception):
    def __init__(self, *args: object, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


def _integrity(orig: Exception) -> sa_exc.IntegrityError:
    return sa_exc.IntegrityError("INSERT INTO cm_customer ...", PARAMS, orig)


@pytest.mark.parametrize(
    ("orig", "column"),
    [
        (
            _Driver(
                'duplicate key value violates unique constraint "cm_customer_registration_id_key"'
                f"\nDETAIL:  Key (registration_id)=({USCC}) already exists.",
                sqlstate="23505",
            ),
            "registration_id",
        ),
        (_Driver(1062, f"Duplicate entry '{USCC}' for key 'registration_id'"), "registration_id"),
        (
            _Driver(1062, f"Duplicate entry '{USCC}' for key 'cm_customer.registration_id'"),
            "registration_id",
        ),
        (_Driver("UNIQUE constraint failed: cm_customer.registration_id"), "registration_id"),
    ],
    ids=["postgresql", "mariadb", "mysql8", "sqlite"],
)
def test_a_duplicate_names_the_column_and_masks_the_value(orig: Exception, column: str) -> None:
    error = translate(_integrity(orig), "commit")
    assert isinstance(error, IntegrityError)
    message = str(error)
    assert USCC not in message, message
    assert f"unique column(s) {column}" in message or f"unique column {column}" in message
    if "Duplicate" in str(orig) or "Key (" in str(orig):
        assert "**************XQ2R" in message  # the value, masked to its last four


def test_other_driver_texts_lose_their_quoted_values_and_detail_lines() -> None:
    pg = _Driver(
        f"invalid input syntax for type numeric: \"{USCC}\"\nCONTEXT:  parameter $3 = '{USCC}'",
        sqlstate="22P02",
    )
    my = _Driver(1366, f"Incorrect decimal value: '{USCC}' for column `t`.`n` at row 1")
    for orig in (pg, my):
        error = translate(sa_exc.DataError("INSERT ...", PARAMS, orig), "commit")
        assert isinstance(error, DataError)
        assert USCC not in str(error) and "XQ2R" in str(error), str(error)


def test_a_statement_error_never_shows_its_parameters() -> None:
    error = translate(
        sa_exc.StatementError("could not convert", "INSERT ...", PARAMS, ValueError(USCC)),
        "commit",
    )
    assert isinstance(error, PersistenceError)
    assert USCC not in str(error)


def test_the_driver_error_is_not_chained_into_a_logged_traceback() -> None:
    original = _integrity(_Driver(1062, f"Duplicate entry '{USCC}' for key 'registration_id'"))
    error = translate(original, "commit")
    try:
        raise error from chained(error, original)
    except IntegrityError as raised:
        logged = "".join(traceback.format_exception(raised))
    assert USCC not in logged
