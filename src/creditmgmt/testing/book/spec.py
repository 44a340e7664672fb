"""What book to generate: `BookSpec`, a frozen description that fully determines the book."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import attrs

from creditmgmt.domain.customer import check_region, region_prefix
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.money import check_currency

_INDUSTRY: Final = re.compile(r"^[A-T](\d{2,4})?$")

#: GB/T 4754-2017 codes the default book spreads its customers over (section letter first).
DEFAULT_INDUSTRIES: Final = (
    "A0111",  # 稻谷种植 rice growing
    "C2614",  # 有机化学原料制造 organic chemicals
    "C3011",  # 水泥制造 cement
    "C3411",  # 锅炉及原动设备制造 boilers and engines
    "C3670",  # 汽车零部件及配件制造 car parts
    "E4710",  # 住宅房屋建筑 residential construction
    "F5191",  # 贸易经纪与代理 trade
    "G5430",  # 道路货物运输 road freight
    "H6210",  # 正餐服务 restaurants
    "I6510",  # 软件开发 software
    "K7010",  # 房地产开发经营 real-estate development
)

#: Six-digit division codes: Shanghai districts (local to the default institution), then
#: Hangzhou, Suzhou, Nanjing, Beijing, Shenzhen, Chengdu (remote, 异地).
DEFAULT_REGIONS: Final = (
    "310101",
    "310104",
    "310110",
    "310112",
    "310115",
    "310117",
    "330100",
    "320500",
    "320100",
    "110105",
    "440300",
    "510100",
)


def _share(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise InvalidValueError(f"BookSpec.{name} must be a share within [0, 1], got {value!r}")


@attrs.frozen(kw_only=True)
class BookSpec:
    """A synthetic credit book: the same spec always generates the same book.

    - `customers`: how many customers (corporate and SME borrowers);
    - `seed`: the seed every random choice derives from;
    - `as_of`: the book's "today"; repayments are applied up to (not on) this date;
    - `history_months`: drawdowns happen within this many months before `as_of`;
    - `group_share`: share of customers that belong to a group (集团客户), in groups of
      `group_size` (min, max) members under one group limit;
    - `remote_share`: share of remote customers (异地: registered outside the institution's
      region, or — one in five of them — registered locally with funds used elsewhere);
    - `late_share`: customers who pay some installments late and then cure;
    - `arrears_share`: customers who stop paying (days past due from 1 to more than 360 as of
      `as_of`); `restructured_share`: customers whose loan in arrears was restructured
      (借新还旧, a quarter of them failing again); the rest pay on time. Every customer
      carries an internal grade by how it pays, rated within the year before `as_of`, so
      periodic reviews fall due as a run moves through the year;
    - `industries`: GB/T 4754 codes; `regions`: six-digit division codes, local (inside
      `institution_region`) and remote ones;
    - `chunk_customers`: customers per chunk: chunk i holds customers i × chunk_customers
      onwards, and its groups are formed among them (a group never spans two chunks);
    - `keep_events`: keep the domain events of the book's history on the aggregates (their
      outbox entries are then written when the book is loaded); by default the book arrives like
      a migrated book, its state without an event history.

    Raises:
        InvalidValueError: naming the field, for a negative count, a share outside [0, 1],
            shares of behaviours adding up to more than 1, a history under 6 months, a bad
            industry or region code, no local (or no remote) region while customers need one,
            or a chunk too small for the largest group.
        InvalidMoneyError: an unknown currency.
    """

    customers: int = 2_000
    seed: int = 0
    as_of: date = date(2026, 1, 5)
    history_months: int = 18
    group_share: float = 0.25
    group_size: tuple[int, int] = (2, 6)
    remote_share: float = 0.15
    late_share: float = 0.10
    arrears_share: float = 0.08
    restructured_share: float = 0.02
    industries: tuple[str, ...] = DEFAULT_INDUSTRIES
    regions: tuple[str, ...] = DEFAULT_REGIONS
    currency: str = "CNY"
    institution_region: str = "310000"
    chunk_customers: int = 100
    keep_events: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.customers, int) or self.customers < 0:
            raise InvalidValueError(f"BookSpec.customers must be >= 0, got {self.customers!r}")
        if not isinstance(self.history_months, int) or self.history_months < 6:
            raise InvalidValueError(
                f"BookSpec.history_months must be at least 6, got {self.history_months!r}"
            )
        for name in ("group_share", "remote_share", "late_share", "arrears_share"):
            _share(name, getattr(self, name))
        _share("restructured_share", self.restructured_share)
        behaviours = self.late_share + self.arrears_share + self.restructured_share
        if behaviours > 1:
            raise InvalidValueError(
                f"BookSpec: late_share + arrears_share + restructured_share is {behaviours}, "
                "more than 1"
            )
        low, high = self.group_size
        if not 2 <= low <= high:
            raise InvalidValueError(
                f"BookSpec.group_size must be (min, max) with 2 <= min <= max, got "
                f"{self.group_size!r}"
            )
        if self.chunk_customers < high:
            raise InvalidValueError(
                f"BookSpec.chunk_customers ({self.chunk_customers}) must hold the largest "
                f"group ({high} members)"
            )
        if not self.industries:
            raise InvalidValueError("BookSpec.industries must name at least one industry")
        for code in self.industries:
            if not isinstance(code, str) or not _INDUSTRY.fullmatch(code):
                raise InvalidValueError(
                    f"BookSpec.industries: {code!r} is not a GB/T 4754 code (e.g. 'C3011')"
                )
        check_region(self.institution_region, "BookSpec.institution_region")
        for code in self.regions:
            check_region(code, "BookSpec.regions")
        if self.customers:
            if self.remote_share < 1 and not self.local_regions:
                raise InvalidValueError(
                    f"BookSpec.regions has no region inside institution_region "
                    f"{self.institution_region} for local customers"
                )
            if self.remote_share > 0 and not self.remote_regions:
                raise InvalidValueError(
                    f"BookSpec.regions has no region outside institution_region "
                    f"{self.institution_region} for remote customers"
                )
        check_currency(self.currency)

    @property
    def local_regions(self) -> tuple[str, ...]:
        area = region_prefix(self.institution_region)
        return tuple(r for r in self.regions if r.startswith(area))

    @property
    def remote_regions(self) -> tuple[str, ...]:
        area = region_prefix(self.institution_region)
        return tuple(r for r in self.regions if not r.startswith(area))

    @property
    def chunks(self) -> int:
        """How many chunks `generate` yields."""
        return -(-self.customers // self.chunk_customers)
