"""Portfolio slices: which share of the book a repository scan reads.

A `PortfolioSlice` is one of: the whole book (`PortfolioSlice.ALL`); hash partition `index`
of `count` (`PortfolioSlice.partition(i, n)`), so independent workers — threads, processes
or machines — each take a share and together see every aggregate exactly once; or a range of
customer ids `[start, stop)` (`PortfolioSlice.customers(start, stop)`). A partition and a
range may be combined (`PortfolioSlice(index=i, count=n, customer_from=a, customer_to=b)`).

The partition hash is `bucket_of`: crc32 of the key's UTF-8 text into `BUCKETS` buckets, a
key belonging to partition `bucket_of(key) % count`. It is the same in every store, process
and machine, and the daily run partitions its customers by it too.
"""

from __future__ import annotations

import zlib
from typing import ClassVar

import attrs

from creditmgmt.domain.ids import CustomerId
from creditmgmt.ports.errors import ConfigurationError

#: Number of hash buckets keys are spread over; partitions are `bucket % count == index`.
BUCKETS = 1 << 16


def bucket_of(key: str) -> int:
    """Stable hash bucket of a key (crc32), the same in every backend and process."""
    return zlib.crc32(key.encode("utf-8")) % BUCKETS


def _check(slice_: PortfolioSlice) -> None:
    index, count = slice_.index, slice_.count
    for name, value in (("index", index), ("count", count)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"portfolio slice {name} must be an int, got {value!r}")
    if count < 1:
        raise ConfigurationError(f"portfolio slice count must be >= 1, got {count}")
    if not 0 <= index < count:
        raise ConfigurationError(
            f"portfolio slice index must be in 0 … {count - 1} (count {count}), got {index}"
        )
    for name in ("customer_from", "customer_to"):
        value = getattr(slice_, name)
        if value is not None and not isinstance(value, CustomerId):
            raise ConfigurationError(
                f"portfolio slice {name} must be a CustomerId or None, got {value!r}"
            )
    low, high = slice_.customer_from, slice_.customer_to
    if low is not None and high is not None and high < low:
        raise ConfigurationError(
            f"portfolio slice customer_to {high} is before customer_from {low}"
        )


@attrs.frozen
class PortfolioSlice:
    """Hash partition `index` of `count` of the book, within customers
    `customer_from <= id < customer_to` (either end open when None).

    Raises `ConfigurationError` (a `ValueError`) naming the field for a bad value: `count`
    below 1, `index` outside `0 … count − 1`, a range end that is not a `CustomerId`, or
    `customer_to` before `customer_from`.
    """

    ALL: ClassVar[PortfolioSlice]

    index: int = 0
    count: int = 1
    customer_from: CustomerId | None = None
    customer_to: CustomerId | None = None

    def __attrs_post_init__(self) -> None:
        _check(self)

    @classmethod
    def partition(cls, index: int, count: int) -> PortfolioSlice:
        """Hash partition `index` of `count` (0 <= index < count)."""
        return cls(index=index, count=count)

    @classmethod
    def customers(
        cls, start: CustomerId | None = None, stop: CustomerId | None = None
    ) -> PortfolioSlice:
        """The customers `start <= id < stop` (either end open when None)."""
        return cls(customer_from=start, customer_to=stop)

    @property
    def partitioned(self) -> bool:
        """Whether the slice is one hash partition of several."""
        return self.count > 1

    @property
    def ranged(self) -> bool:
        """Whether the slice bounds the customer ids."""
        return self.customer_from is not None or self.customer_to is not None

    def holds_key(self, key: str) -> bool:
        """Whether a partition key (an aggregate's id, or the daily run's group or customer
        id) lies in this slice's hash partition."""
        return bucket_of(key) % self.count == self.index


PortfolioSlice.ALL = PortfolioSlice()
