"""The jobs unit of work over the platform's: repositories bound to one tenant, and events
recorded with the job's version as their sequence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from services.jobs.domain import Job
from services.jobs.tables import CrewRepository, JobRepository
from shared.contracts.base import EventData
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory


class SqlJobsUnitOfWork:
    def __init__(self, platform: UnitOfWork, tenant_id: str, *, owned: bool = True) -> None:
        self.tenant_id = tenant_id
        self.platform = platform
        # Not owned: a consumer's unit of work, opened and committed by the consumer (with its
        # inbox rows); this one only adds the repositories.
        self._owned = owned

    @classmethod
    def factory(cls, uow_factory: UnitOfWorkFactory) -> Callable[[str], SqlJobsUnitOfWork]:
        return lambda tenant_id: cls(uow_factory(), tenant_id)

    @classmethod
    def within(cls, platform: UnitOfWork, tenant_id: str) -> SqlJobsUnitOfWork:
        uow = cls(platform, tenant_id, owned=False)
        uow._bind()
        return uow

    def _bind(self) -> None:
        self.jobs = JobRepository(self.platform.connection, self.tenant_id)
        self.crews = CrewRepository(self.platform.connection, self.tenant_id)

    async def __aenter__(self) -> Self:
        if self._owned:
            await self.platform.__aenter__()
        self._bind()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned:
            await self.platform.__aexit__(exc_type, exc, tb)

    def record(self, job: Job, events: Sequence[EventData]) -> None:
        # The job's version counts its events: the n events of a change are the last n versions.
        first = job.version - len(events) + 1
        for offset, event in enumerate(events):
            self.platform.record(
                event, subject=job.job_id, tenant_id=self.tenant_id, sequence=first + offset
            )

    async def commit(self) -> None:
        if self._owned:
            await self.platform.commit()
