"""Decoding stored loans: the codec's generated fast path against plain cattrs, in one run.

The loans of a synthetic book (creditmgmt.testing.book) are encoded once and parsed from
JSON text outside the timing, as a store hands them over. Each side then decodes all of them
(`codec.decode`, the one read path of every store) from an empty Money memo, alternating,
three times; the best time of each counts. Decoding with the cyclic collector on (as a
store's read runs) and paused (as a bulk commit runs) are shown apart: the collector's
passes over the loans built so far cost the same on both sides.
"""

from __future__ import annotations

import gc
import json
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench._report import write_section
from creditmgmt.adapters.records import codec, converter
from creditmgmt.domain.loan import Drawdown
from creditmgmt.testing.book import BookSpec, generate

CUSTOMERS = 600
ROUNDS = 3


def _documents(customers: int) -> list[tuple[str, int, Any]]:
    out = []
    for chunk in generate(BookSpec(customers=customers, seed=2026)):
        for agg in chunk.aggregates():
            if isinstance(agg, Drawdown):
                text = json.dumps(codec.encode("drawdown", agg), ensure_ascii=False)
                out.append((str(agg.id), 1, json.loads(text)))
    return out


@contextmanager
def _converter(fast: bool) -> Iterator[None]:
    saved = codec._CONVERTER
    codec._CONVERTER = converter.make_converter(fast=fast)  # type: ignore[misc]
    try:
        yield
    finally:
        codec._CONVERTER = saved  # type: ignore[misc]


def _decode_all(docs: list[tuple[str, int, Any]], *, collector: bool) -> float:
    converter._MONEY_MEMO.clear()
    gc.collect()
    was = gc.isenabled()
    if not collector:
        gc.disable()
    try:
        t0 = time.perf_counter()
        loans = [codec.decode("drawdown", Drawdown, d, record_id=i, version=v) for i, v, d in docs]
        elapsed = time.perf_counter() - t0
    finally:
        if was:
            gc.enable()
    del loans
    return elapsed


def measure(customers: int = CUSTOMERS, rounds: int = ROUNDS) -> dict[str, float]:
    """Best ms per loan of each side, collector on and paused; and the loan count."""
    docs = _documents(customers)
    best: dict[str, float] = {}
    for _ in range(rounds):
        for collector in (True, False):
            for fast in (False, True):
                with _converter(fast):
                    ms = 1000 * _decode_all(docs, collector=collector) / len(docs)
                key = f"{'fast' if fast else 'cattrs'} gc {'on' if collector else 'paused'}"
                best[key] = min(best.get(key, ms), ms)
    best["loans"] = len(docs)
    best["instalments per loan"] = sum(len(d["data"]["paid"]) for _, _, d in docs) / len(docs)
    return best


def main() -> None:
    r = measure()
    rows = []
    for gc_state in ("on", "paused"):
        slow, fast = r[f"cattrs gc {gc_state}"], r[f"fast gc {gc_state}"]
        rows.append(f"| {gc_state} | {slow:.3f} | {fast:.3f} | {slow / fast:.2f}× |")
    body = textwrap.dedent(
        f"""
        {r["loans"]:.0f} loans of a synthetic book ({r["instalments per loan"]:.1f} instalments
        each), decoded from parsed JSON by `codec.decode`; best of {ROUNDS} alternating runs,
        ms per loan.

        | collector | plain cattrs | fast path | speed-up |
        |---|---|---|---|
        """
    )
    write_section("codec", "Decoding stored loans (codec fast path)", body + "\n".join(rows))
    print(body + "\n".join(rows))
