"""Replay recorded decisions under a candidate policy directory: what would change?

The decision log keeps each live decision's facts, outcome and matched rules. Re-evaluating the
facts under changed rule files shows the impact of a change before it ships: how many decisions
would come out differently, by decision point, tenant and outcome, with examples.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shared.platform.settings import Settings
from shared.platform.storage.db import create_engine
from shared.policy.engine import FactsInvalid, NoPolicy, PolicyEngine
from shared.policy.store import PolicyTables


@dataclass(frozen=True)
class RecordedDecision:
    service: str
    decision_id: uuid.UUID
    decided_at: datetime
    tenant: str
    decision_point: str
    subject: str
    facts: dict[str, Any]
    outcome: str
    matched: tuple[str, ...]  # "policy/rule", in order


@dataclass(frozen=True)
class ChangedDecision:
    recorded: RecordedDecision
    new_outcome: str
    new_matched: tuple[str, ...]


@dataclass
class ReplayReport:
    total: int = 0
    unchanged: int = 0
    changed: list[ChangedDecision] = field(default_factory=list)
    # Decisions that cannot be re-evaluated: no candidate policy for the point, or facts that no
    # longer fit the point's model. Counted by reason.
    skipped: Counter[str] = field(default_factory=Counter)

    def groups(self) -> dict[tuple[str, str, str, str], list[ChangedDecision]]:
        """Changed decisions by (decision point, tenant, old outcome, new outcome)."""
        grouped: dict[tuple[str, str, str, str], list[ChangedDecision]] = {}
        for change in self.changed:
            r = change.recorded
            key = (r.decision_point, r.tenant, r.outcome, change.new_outcome)
            grouped.setdefault(key, []).append(change)
        return dict(sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0])))


def replay(decisions: Iterable[RecordedDecision], candidate: PolicyEngine) -> ReplayReport:
    report = ReplayReport()
    for recorded in decisions:
        report.total += 1
        try:
            decision = candidate.evaluate(recorded.decision_point, recorded.facts, recorded.tenant)
        except NoPolicy:
            report.skipped[f"no candidate policy for {recorded.decision_point}"] += 1
            continue
        except FactsInvalid:
            report.skipped[f"recorded facts no longer fit {recorded.decision_point}"] += 1
            continue
        matched = tuple(f"{rule.policy}/{rule.rule}" for rule in decision.matched)
        if decision.outcome == recorded.outcome and matched == recorded.matched:
            report.unchanged += 1
        else:
            report.changed.append(ChangedDecision(recorded, decision.outcome, matched))
    return report


async def read_decisions(
    settings: Settings, since: datetime | None = None, until: datetime | None = None
) -> list[RecordedDecision]:
    """The decision log of ``settings.service``, oldest first."""
    table = PolicyTables(sa.MetaData()).decisions
    query = sa.select(table).order_by(table.c.decided_at)
    if since is not None:
        query = query.where(table.c.decided_at >= since)
    if until is not None:
        query = query.where(table.c.decided_at < until)
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    return [
        RecordedDecision(
            service=settings.service,
            decision_id=row.decision_id,
            decided_at=row.decided_at,
            tenant=row.tenant_id,
            decision_point=row.decision_point,
            subject=row.subject,
            facts=row.facts,
            outcome=row.outcome,
            matched=tuple(f"{m['policy']}/{m['rule']}" for m in row.matched),
        )
        for row in rows
    ]


async def read_logs(
    services: Iterable[Settings], since: datetime | None = None
) -> tuple[list[RecordedDecision], list[str]]:
    """The decision logs of several services, and a warning for each one that could not be read
    (a service that never decides has no log: that is not worth a warning)."""
    decisions: list[RecordedDecision] = []
    warnings: list[str] = []
    for settings in services:
        try:
            decisions.extend(await read_decisions(settings, since))
        except sa.exc.ProgrammingError as exc:
            if "policy_decisions" not in str(exc):
                warnings.append(f"cannot read the decision log of {settings.service}: {exc}")
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            warnings.append(f"cannot read the decision log of {settings.service}: {exc}")
    decisions.sort(key=lambda decision: decision.decided_at)
    return decisions, warnings


def format_report(report: ReplayReport, *, examples: int = 3) -> Sequence[str]:
    lines = [
        f"{report.total} recorded decision(s) replayed: {len(report.changed)} would change, "
        f"{report.unchanged} unchanged, {sum(report.skipped.values())} not replayable"
    ]
    for reason, count in sorted(report.skipped.items()):
        lines.append(f"  not replayable: {count} ({reason})")
    for (point, tenant, old, new), changes in report.groups().items():
        lines.append(f"{len(changes):>6}  {point}  tenant {tenant}: {old} -> {new}")
        for change in changes[:examples]:
            r = change.recorded
            lines.append(
                f"          e.g. {r.service} decision {r.decision_id} "
                f"({r.decided_at:%Y-%m-%d %H:%M}, subject {r.subject}): "
                f"matched [{', '.join(r.matched)}] -> [{', '.join(change.new_matched)}]"
            )
    return lines
