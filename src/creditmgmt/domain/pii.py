"""Masking of personal data (PII) in messages, reprs and read models.

Registration ids (统一社会信用代码), resident identity numbers (身份证号码) and phone numbers
never appear whole in an error message, a repr or a log line: `mask` keeps the last four
characters and replaces the rest by "*" ("91310000MA1FL8XQ2R" → "**************XQ2R"). The
desk's read models use the same function (`creditmgmt.services.access.mask`).
"""

from __future__ import annotations

from typing import overload

#: How many trailing characters of a masked value stay visible.
VISIBLE = 4


@overload
def mask(text: str, *, visible: int = VISIBLE) -> str: ...


@overload
def mask(text: None, *, visible: int = VISIBLE) -> None: ...


def mask(text: str | None, *, visible: int = VISIBLE) -> str | None:
    """Every character of `text` but the last `visible` becomes "*" (None stays None; a text
    of `visible` characters or fewer is masked whole)."""
    if text is None:
        return None
    if len(text) <= visible:
        return "*" * len(text)
    return "*" * (len(text) - visible) + text[len(text) - visible :]


def masked_repr(value: object) -> str:
    """`repr` of `value` masked: for messages that quote a value the caller gave (a non-str
    is shown by its type only, as it may hold the id too)."""
    if isinstance(value, str):
        return repr(mask(value))
    return f"<{type(value).__name__}>"
