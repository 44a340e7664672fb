"""The one check every text entering the domain passes: storable by every store, bounded.

Every store keeps text as UTF-8 (SQLite, PostgreSQL, MariaDB, the file store's journal), so a
lone surrogate ("\\ud800", which no UTF-8 can encode) would be accepted by the model and then
fail at commit; PostgreSQL text cannot hold NUL either. Text is refused where it enters the
domain instead, by `check_text`, with `InvalidValueError` naming the field. Each field also
has a maximum length, the same for every store:

| bound | characters | for |
| --- | --- | --- |
| `CODE_MAX` | 64 | codes and grades (industry code, grade, level, currency of a statement) |
| `NAME_MAX` | 200 | names and titles (legal name, group name, owner, valuer, task title) |
| `REF_MAX` | 255 | references, keys and sources (rule-set refs, case ids, document refs) |
| `NOTE_MAX` | 4000 | free text (reasons, notes, summaries, descriptions, conditions) |

255 is the width of a queryable string column in SQL; 4000 keeps an aggregate's document far
below any server's packet limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from creditmgmt.domain.errors import InvalidValueError

CODE_MAX: Final = 64
NAME_MAX: Final = 200
REF_MAX: Final = 255
NOTE_MAX: Final = 4000


def check_text(value: object, field: str, *, max_length: int = NOTE_MAX) -> str:
    """Return `value` when it is a str every store can hold, at most `max_length` characters.

    Raises:
        InvalidValueError: naming `field`: not a str, longer than `max_length`, holding a NUL
            character or a lone surrogate (text that no UTF-8 can encode).
    """
    if not isinstance(value, str):
        raise InvalidValueError(f"{field} must be text, got {type(value).__name__}")
    if len(value) > max_length:
        raise InvalidValueError(f"{field} is {len(value)} characters long (at most {max_length})")
    if "\x00" in value:
        raise InvalidValueError(f"{field} holds a NUL character, which no store keeps")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidValueError(
                f"{field} holds a lone surrogate {value[e.start]!r} at character {e.start}: "
                "not valid unicode text"
            ) from None
    return value


def text(max_length: int = NOTE_MAX, *, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """An attrs validator running `check_text` on a field (None passes when `optional`).

    Tuples of texts (and of pairs of texts) are checked item by item.
    """

    def validate(instance: object, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        field = f"{type(instance).__name__}.{attribute.name}"
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, tuple):
                    for j, part in enumerate(item):
                        check_text(part, f"{field}[{i}][{j}]", max_length=max_length)
                else:
                    check_text(item, f"{field}[{i}]", max_length=max_length)
            return
        check_text(value, field, max_length=max_length)

    return validate


def check_texts_of(instance: object, fields: tuple[str, ...], max_length: int = NOTE_MAX) -> None:
    """`check_text` on the str (or tuple-of-str) values of `fields` of an object (events)."""
    owner = type(instance).__name__
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, str):
            check_text(value, f"{owner}.{name}", max_length=max_length)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    check_text(item, f"{owner}.{name}[{i}]", max_length=max_length)
