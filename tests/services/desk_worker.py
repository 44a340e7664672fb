"""Worker process for the desk's multi-process tests (run as a script, prints one JSON line).

desk_worker.py CONFIG_JSON draw FACILITY ATTEMPTS RETRY_ATTEMPTS TAG
    draws 25.00 CNY on FACILITY up to ATTEMPTS times (keys TAG-0, TAG-1, ...), each until
    it is granted or refused: {"granted": [ids], "refused": n, "conflicts": n}
desk_worker.py CONFIG_JSON replay FACILITY AMOUNT KEY
    one keyed draw: {"drawdown": id} or {"error": "IdempotencyKeyError", "message": ...}
"""

from __future__ import annotations

import json
import sys

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain import FacilityId, LimitExceededError, Money
from creditmgmt.ports.errors import ConflictError
from creditmgmt.services import IdempotencyKeyError, RetryPolicy
from creditmgmt.testing.desk import DESK_AT, RM


def main(argv: list[str]) -> dict[str, object]:
    config, mode, facility = json.loads(argv[0]), argv[1], FacilityId(argv[2])
    retry = RetryPolicy(attempts=int(argv[4])) if mode == "draw" else None
    # the business day of the desks in tests/services/conftest.py (random ids: many desks)
    with open_desk(
        config, rules="cn-2023", clock=FixedClock(DESK_AT), institution_region="310000", retry=retry
    ) as desk:
        if mode == "replay":
            try:
                drawn = desk.draw(RM, facility, Money.of(argv[3], "CNY"), key=argv[4])
            except IdempotencyKeyError as e:
                return {"error": type(e).__name__, "message": str(e)}
            return {"drawdown": str(drawn)}
        granted: list[str] = []
        refused = conflicts = 0
        for i in range(int(argv[3])):
            try:
                granted.append(
                    str(desk.draw(RM, facility, Money.of("25.00", "CNY"), key=f"{argv[5]}-{i}"))
                )
            except LimitExceededError:
                refused += 1
            except ConflictError:
                conflicts += 1
        return {"granted": granted, "refused": refused, "conflicts": conflicts}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
