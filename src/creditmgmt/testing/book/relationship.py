"""The relationship side of the book: credit files, early-warning history, contact log."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone

from creditmgmt.domain.credit_file import CreditFile, RefreshCycle
from creditmgmt.domain.ids import IdSource, UserId
from creditmgmt.domain.interaction import Channel, Interaction, InteractionKind
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.testing.book import financials
from creditmgmt.testing.book.lending import ARREARS, LATE, RESTRUCTURED, Borrower

RISK_OFFICER = UserId("usr_risk_officer")
RMS = tuple(UserId(f"usr_rm_{i:03d}") for i in range(1, 41))
_CST = timezone(timedelta(hours=8))  # China Standard Time, for interaction and event stamps


class Relationship:
    """Credit files, risk events and interactions of a chunk's borrowers (mixed into the
    chunk builder)."""

    rng: random.Random
    ids: IdSource
    as_of: date
    files: list[CreditFile]
    risk_events: list[RiskEvent]
    interactions: list[Interaction]

    def _late_event(self, b: Borrower) -> None:
        """One late episode of a borrower who caught up: a risk event, resolved."""
        if not b.late_episodes:
            return
        node, due, paid = self.rng.choice(b.late_episodes)
        dpd_then = (paid - due).days
        severity = Severity.RED if dpd_then > 30 else Severity.YELLOW
        trigger = "EW-R-DPD" if severity is Severity.RED else "EW-Y-DPD"
        detected = due + timedelta(days=min(dpd_then, 31 if severity is Severity.RED else 1))
        event = RiskEvent.raise_(
            self.ids,
            type=trigger,
            severity=severity,
            customer_id=b.customer.id,
            facility_id=node.id,
            detected_at=datetime.combine(detected, time(6), tzinfo=UTC),
            business_date=detected,
            rule_ref=f"cn-2023/{trigger}",
            reason_code="dpd",
        )
        event.acknowledge(by=RISK_OFFICER, at=datetime.combine(detected, time(10), tzinfo=_CST))
        event.resolve(
            by=RISK_OFFICER,
            at=datetime.combine(paid, time(16), tzinfo=_CST),
            note="arrears repaid in full",
        )
        self.risk_events.append(event)

    def _relationship(self, b: Borrower) -> None:
        rng, as_of, customer = self.rng, self.as_of, b.customer
        distressed = b.behaviour in (ARREARS, RESTRUCTURED)
        if distressed or customer.is_remote:
            cycle = RefreshCycle.QUARTERLY
        elif b.behaviour == LATE:
            cycle = RefreshCycle.HALF_YEARLY
        else:
            cycle = RefreshCycle.YEARLY
        self.files.append(
            financials.credit_file(
                self.ids,
                rng,
                customer_id=customer.id,
                legal_name=customer.legal_name,
                as_of=as_of,
                history=b.history,
                refresh_cycle=cycle,
                overdue_elsewhere=b.behaviour == ARREARS and rng.random() < 0.5,
                distressed=distressed,
            )
        )
        rm = customer.relationship_manager or RMS[0]
        visit_on = as_of - timedelta(days=rng.randint(5, 330))
        self._log(
            b,
            InteractionKind.VISIT,
            Channel.VISIT,
            visit_on,
            rm,
            "年度走访：经营困难，销售下滑" if distressed else "年度走访：经营正常",
        )
        reminded = b.stop_on or (b.late_episodes[0][1] if b.late_episodes else None)
        if reminded is not None and reminded + timedelta(days=5) < as_of:
            self._log(
                b,
                InteractionKind.REMINDER,
                Channel.PHONE,
                reminded + timedelta(days=5),
                rm,
                "逾期提醒",
            )
        if rng.random() < 0.1:
            self._log(
                b,
                InteractionKind.SURVEY,
                Channel.MESSAGE,
                as_of - timedelta(days=rng.randint(5, 200)),
                rm,
                "客户满意度调查",
                score=rng.randint(3, 5),
            )

    def _log(
        self,
        b: Borrower,
        kind: InteractionKind,
        channel: Channel,
        on: date,
        by: UserId,
        summary: str,
        score: int | None = None,
    ) -> None:
        self.interactions.append(
            Interaction.log(
                self.ids,
                customer_id=b.customer.id,
                kind=kind,
                channel=channel,
                at=datetime.combine(on, time(10), tzinfo=_CST),
                by=by,
                summary=summary,
                survey_score=score,
            )
        )
