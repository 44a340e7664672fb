"""Worker process for the multi-process drawdown test: draws until refused, prints grants."""

from __future__ import annotations

import sys

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.domain import FacilityId, LimitExceededError, LimitTree, Money
from creditmgmt.ports.errors import ConflictError
from creditmgmt.testing.conformance import fixed_clock


def main(url: str, schema: str, prefix: str, facility: str, attempts: int) -> None:
    backend = SqlBackend.from_url(url, schema=schema or None, table_prefix=prefix, create=False)
    store = RecordStore(backend, clock=fixed_clock())
    node = FacilityId(facility)
    granted = 0
    for _ in range(attempts):
        while True:
            try:
                with store.unit_of_work() as uow:
                    path = uow.facilities.path_to_root(node)
                    LimitTree(path).draw(node, Money.of("25.00", "CNY"), on=path[0].start_date)
                    uow.commit()
                granted += 1
                break
            except ConflictError:
                continue
            except LimitExceededError:
                break
    store.close()
    print(granted, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
