"""The codec's generated fast path (adapters.records.fastpath) reads exactly as cattrs does.

Every outcome — the value, or the `DataError` and its text — is compared with the plain
cattrs converter (`converter.make_converter(fast=False)`), the reference the fast path must
never differ from.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from types import FrameType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditmgmt.adapters.records import codec, converter
from creditmgmt.adapters.records.kinds import binding_for
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.loan import Drawdown, Repayment
from creditmgmt.ports.errors import DataError
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.builders import M, SequentialIds, a_loan

PLAIN = converter.make_converter(fast=False)


@contextmanager
def _plain_converter() -> Iterator[None]:
    fast = codec._CONVERTER
    codec._CONVERTER = PLAIN  # type: ignore[misc]
    try:
        yield
    finally:
        codec._CONVERTER = fast  # type: ignore[misc]


def _outcome(read: Callable[[], Aggregate]) -> tuple[str, Any]:
    try:
        return "value", read()
    except DataError as e:
        return "error", str(e)


def _same(a: object, b: object, path: str = "") -> None:
    """Equal, and of the very same types all the way down (Decimal digits included)."""
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, Decimal):
        assert str(a) == str(b), (path, a, b)
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list))
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict)
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif attrs.has(cls := type(a)) and not isinstance(a, Enum):
        for f in attrs.fields(cls):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    else:
        assert a == b, (path, a, b)


def _decode_both(kind: str, cls: type[Aggregate], document: object, record_id: str) -> Any:
    """The outcome of the fast converter, after checking that the plain one agrees."""

    def read() -> Aggregate:
        doc = copy.deepcopy(document)
        return codec.decode(kind, cls, doc, record_id=record_id, version=2)

    fast = _outcome(read)
    with _plain_converter():
        plain = _outcome(read)
    assert fast[0] == plain[0], (fast, plain)
    if fast[0] == "error":
        assert fast[1] == plain[1]
    else:
        _same(fast[1], plain[1])
    return fast


@settings(max_examples=60, deadline=None)
@given(aggregate=cs.aggregates())
def test_every_aggregate_reads_back_the_same_as_with_plain_cattrs(aggregate: Aggregate) -> None:
    kind = binding_for(aggregate).kind
    document = json.loads(json.dumps(codec.encode(kind, aggregate)))
    what, back = _decode_both(kind, type(aggregate), document, str(aggregate.id))
    assert what == "value"
    assert back == aggregate


# a damaged loan document: one value somewhere replaced, or a key added or removed ----------
_ODD_VALUES = st.sampled_from(
    [
        5,
        "5",
        0,
        -1,
        5.0,
        True,
        None,
        "",
        "x",
        [],
        {},
        "2026-02-30",
        "2026-01-31",
        "20260131",
        "1.005",
        "12.3",
        "1e2",
        "-0.00",
        " 12.30",
        "1_000.00",
        "NaN",
        "Infinity",
        "1" * 40,
        "999999999999999999.00",
        "CNY",
        "JPY",
        "XXX",
        {"amount": "1.00", "currency": "CNY"},
        {"amount": "1.00", "currency": "CNY", "extra": 1},
        {"amount": 1, "currency": "CNY"},
        {"amount": "1.00", "currency": 5},
        {"amount": "1.00"},
        ["1.00", "CNY"],
    ]
)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _containers(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _containers(v, (*path, i))


def _at(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        root = root[step]
    return root


@settings(max_examples=300, deadline=None)
@given(loan=cs.loans(), data=st.data())
def test_a_damaged_loan_document_reads_or_fails_exactly_as_with_plain_cattrs(
    loan: Drawdown, data: st.DataObject
) -> None:
    document = json.loads(json.dumps(codec.encode("drawdown", loan)))
    paths = [p for p in _containers(document["data"]) if p]
    path = data.draw(st.sampled_from(paths))
    parent, last = _at(document["data"], path[:-1]), path[-1]
    change = data.draw(st.sampled_from(["replace", "add key", "drop key"]))
    if change == "replace":
        parent[last] = data.draw(_ODD_VALUES)
    elif change == "add key" and isinstance(parent, dict):
        parent["surprise"] = data.draw(_ODD_VALUES)
    elif isinstance(parent, dict):
        del parent[last]
    else:
        del parent[last]  # an element of a list
    _decode_both("drawdown", Drawdown, document, str(loan.id))


# pinned cases -------------------------------------------------------------------------------
def _loan_document() -> tuple[Drawdown, dict[str, Any]]:
    loan = a_loan(SequentialIds(1))
    loan.apply(Repayment(M("15000.00 CNY"), loan.drawn_on))
    return loan, json.loads(json.dumps(codec.encode("drawdown", loan)))


def _installment(d: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = d["schedule"]["installments"][0]
    return first


def _paid(d: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = d["paid"][0]
    return first


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # an int where a str belongs
        (
            lambda d: _installment(d)["principal"].update(currency=5),
            r"unknown currency code '5'.* @ data\.schedule\.installments\[0\]\.principal$",
        ),
        # an unknown key
        (
            lambda d: _installment(d).update(surprise=1),
            r"extra fields found \(surprise\) @ data\.schedule\.installments\[0\]$",
        ),
        (lambda d: _paid(d)["fees"].update(surprise=1), r"data\.paid\[0\]\.fees"),
        # a missing one
        (lambda d: _paid(d).pop("interest"), r"data\.paid\[0\]\.interest"),
        # bad amounts
        (lambda d: _paid(d)["fees"].update(amount="abc"), r"'abc' is not a decimal"),
        (lambda d: _paid(d)["fees"].update(amount=12.5), r"expected a decimal string"),
        (lambda d: _paid(d)["fees"].update(amount="NaN"), r"not finite"),
        (lambda d: _paid(d)["fees"].update(currency="XXX"), r"unknown currency code 'XXX'"),
        (lambda d: _installment(d).update(due_date="2026-02-30"), r"installments\[0\]\.due_date"),
        (lambda d: d["schedule"].update(installments=5), r"data\.schedule\.installments"),
        # JSON's scalars only as themselves (plain cattrs would call int() on them)
        (
            lambda d: _installment(d).update(sequence="5"),
            r"expected an integer, got str '5' @ data\.schedule\.installments\[0\]\.sequence$",
        ),
        (lambda d: _installment(d).update(sequence=True), r"expected an integer, got bool True"),
        (lambda d: _installment(d).update(sequence=5.0), r"expected an integer, got float 5\.0"),
        # a stored amount finer than its currency is refused, never rounded on reading
        (lambda d: _paid(d)["fees"].update(amount="1.005"), r"'1\.005' has more decimal places"),
        (lambda d: _paid(d)["fees"].update(amount="12.3"), None),  # the same value as 12.30
        (lambda d: _paid(d)["fees"].update(amount="1e2"), None),
        (lambda d: d["schedule"].update(installments=tuple(d["schedule"]["installments"])), None),
        (
            lambda d: d["schedule"].update(installments={}),
            r"expected an array, got dict \{\} @ data\.schedule\.installments$",
        ),
    ],
)
def test_documents_the_fast_path_does_not_take_read_as_before(
    change: Callable[[dict[str, Any]], object], expected: str | None
) -> None:
    loan, document = _loan_document()
    change(document["data"])
    what, found = _decode_both("drawdown", Drawdown, document, str(loan.id))
    if expected is None:
        assert what == "value"
    else:
        assert what == "error"
        assert re.search(expected, found), found
        assert found.startswith(f"drawdown {loan.id}: ")


def _calls(names: set[str], run: Callable[[], object]) -> Counter[str]:
    """How many times Python code named in `names` ran during `run()`."""
    seen: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, _: object) -> None:
        if event == "call" and frame.f_code.co_name in names:
            seen[frame.f_code.co_name] += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return seen


def test_instalments_and_paid_amounts_take_the_generated_functions() -> None:
    loan, document = _loan_document()
    names = {
        "fast_Installment",
        "fast_InstallmentPaid",
        "structure_Installment",  # cattrs' generated functions
        "structure_InstallmentPaid",
        "structure_tuple",  # cattrs' homogeneous tuple, under the codec's array check
    }

    def read(doc: dict[str, Any]) -> Callable[[], object]:
        return lambda: codec.decode("drawdown", Drawdown, doc, record_id=str(loan.id), version=1)

    n = len(loan.schedule.installments)
    assert n == 12
    assert _calls(names, read(document)) == {"fast_Installment": n, "fast_InstallmentPaid": n}
    # one instalment the fast path does not take (an amount as a JSON integer, which cattrs
    # reads as the same Decimal): the loan, then its schedule, are read again by cattrs
    # (each tried fast first, giving up at that instalment), whose tuple reads each element
    # through the hook of its class: fast but for that one
    odd = copy.deepcopy(document)
    _installment(odd["data"])["fees"].update(amount=0)
    assert _calls(names, read(odd)) == {
        "fast_Installment": 2 + n,
        "structure_Installment": 1,
        "fast_InstallmentPaid": n,
        "structure_tuple": 2,
    }
    assert read(odd)() == loan


@attrs.frozen
class _Node:
    """A value class whose fields reach back to it."""

    value: int
    children: tuple[_Node, ...]


def test_a_class_reaching_back_to_itself_reads_as_with_plain_cattrs() -> None:
    fast = converter.make_converter()
    tree = {"value": 1, "children": [{"value": 2, "children": []}]}
    assert fast.structure(tree, _Node) == _Node(1, (_Node(2, ()),))
    tree["children"][0]["value"] = "x"  # type: ignore[index]
    messages = []
    for reader in (fast, PLAIN):
        with pytest.raises(Exception) as raised:
            reader.structure(tree, _Node)
        messages.append(codec._describe(raised.value, "node"))
    assert messages[0] == messages[1]
    assert "node.children[0].value" in messages[0]
