"""The platform pieces one service process needs, built once by the service's composition root.

``services/<name>/app.py`` builds a ``ServicePlatform`` from its settings and table metadata,
registers its consumers, and returns a ``Service`` (the platform, its typed dependencies and its
routers) whose ``http_app()`` uvicorn serves. The returned FastAPI app starts the
Kafka broker (subscribers and producer) and the outbox relay in its lifespan, in the same event
loop, and exposes ``/health/live``, ``/health/ready``, ``/metrics`` and ``/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.specification import AsyncAPI

from shared.platform.context import correlation_id_var, http_scope_var, tenant_id_var
from shared.platform.http.access import GuardedRouter, PublicRouter
from shared.platform.http.edge import LimitBodySize
from shared.platform.http.problems import (
    ERROR_RESPONSES,
    Problem,
    document_problems,
    install_problem_handlers,
    map_errors,
)
from shared.platform.http.provided import Provided, Provision
from shared.platform.logging import configure_logging
from shared.platform.messaging.broker import create_broker
from shared.platform.messaging.consumer import EventConsumer, broker_dead_letter
from shared.platform.messaging.relay import KafkaPublisher, OutboxRelay
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import DEV_JWT_SECRET, Settings
from shared.platform.storage.db import PlatformTables, create_engine, create_schema
from shared.platform.storage.uow import UnitOfWorkFactory
from shared.policy.service import POLICY_ERRORS, PolicyLayer

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,128}")


D = TypeVar("D")


@dataclass
class Service(Generic[D]):
    """What a service's composition root (``services/<name>/app.py``) builds: the platform, the
    service's typed dependencies, and its routers with the dependency they are given."""

    platform: ServicePlatform
    deps: D
    routers: Sequence[APIRouter]
    provides: Provided[D]
    # The service's domain errors and the problem each is answered with (its api/errors.py).
    errors: Mapping[type[Exception], type[Problem]] = field(default_factory=dict)

    def http_app(self, *, create_tables: bool = False) -> FastAPI:
        """The HTTP app of a service process: logging configured, routes mounted."""
        settings = self.platform.settings
        configure_logging(settings.service, settings.log_level)
        return self.platform.http_app(
            title=f"Roofline {settings.service}",
            routers=self.routers,
            provisions=[self.provides.given(self.deps)],
            errors=self.errors,
            create_tables=create_tables,
        )


class ServicePlatform:
    def __init__(
        self,
        settings: Settings,
        metadata: sa.MetaData,
        *,
        decision_points: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self.metadata = metadata
        self.tables = PlatformTables(metadata)
        self.metrics = ServiceMetrics(settings.service)
        self.engine = create_engine(settings)
        self.uow_factory = UnitOfWorkFactory(self.engine, self.tables, settings)
        self.broker = create_broker(settings, self.metrics)
        self.consumer = EventConsumer(
            settings, self.uow_factory, self.metrics, broker_dead_letter(self.broker)
        )
        self.relay_publisher = KafkaPublisher(settings)
        self.relay = OutboxRelay(settings, self.relay_publisher, self.metrics)
        self._relay_task: asyncio.Task[None] | None = None
        # Extra checks a service adds to readiness (e.g. "policies loaded"); each returns an error
        # message or None.
        self.readiness_checks: list[Callable[[], Awaitable[str | None]]] = []
        # The service's own long-running loops (started with the platform, cancelled at stop).
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._background_tasks: list[asyncio.Task[None]] = []
        self.policy: PolicyLayer | None = None
        if decision_points:
            self.policy = PolicyLayer(
                settings, metadata, self.metrics.registry, self.uow_factory, tuple(decision_points)
            )
            self.readiness_checks.append(self.policy.policies_loaded)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(
        self, *, create_tables: bool = False, relay: bool = True, consume: bool = True
    ) -> None:
        """Start the consumer (unless ``consume`` is False: a test driving the handlers itself
        skips the consumer group's join, about 3 s on the broker), the relay, the policy layer
        and the background loops."""
        if self.settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
            log.warning(
                "ROOFLINE_JWT_SECRET is the public development secret: anyone can mint tokens. "
                "Set your own (32+ bytes) outside development.",
                extra={"service": self.settings.service},
            )
        if create_tables:
            await create_schema(self.engine, self.settings.schema_name, self.metadata)
        if consume:
            self.consumer.resume()
            try:
                await self.broker.connect()
                self.consumer.use_tolerant_consumers(self.broker)
                await self.broker.start()
            except BaseException:
                await self.engine.dispose()
                raise
        if relay:
            try:
                await self.relay_publisher.start()
            except BaseException:
                await self.broker.stop()
                await self.engine.dispose()
                raise
        if relay:
            self._relay_task = asyncio.create_task(
                self.relay.run(), name=f"relay-{self.settings.service}"
            )
        if self.policy is not None:
            self.policy.start()
        self._background_tasks = [asyncio.create_task(loop()) for loop in self.background]
        tune_garbage_collector(self.settings.gc_gen0_threshold)

    async def stop(self) -> None:
        for task in self._background_tasks:
            task.cancel()
        for task in self._background_tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background_tasks = []
        if self.policy is not None:
            await self.policy.stop()
        self.relay.stop()
        if self._relay_task is not None:
            # A relay waiting on acks from an unreachable broker is cancelled after a grace
            # period: its rows stay unsent and are published by the next leader.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._relay_task, timeout=5)
            self._relay_task = None
        await self.relay_publisher.stop()
        try:
            # A batch still in its transaction finishes and commits its offsets first; batches
            # handed over after that are left for the next start (the inbox absorbs repeats).
            await self.consumer.drain()
            await self.broker.stop()
        finally:
            await self.engine.dispose()

    # -- health ---------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(sa.text("SELECT 1")), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {exc.__class__.__name__}"
        try:
            ok = await self.broker.ping(timeout=2)
            checks["broker"] = "ok" if ok else "unreachable"
        except Exception as exc:
            checks["broker"] = f"unreachable: {exc.__class__.__name__}"
        checks["consumer"] = self.consumer.stalled() or "ok"
        for check in self.readiness_checks:
            problem = await check()
            checks[getattr(check, "__name__", "check")] = problem or "ok"
        return checks

    def asyncapi(self, title: str) -> dict[str, Any]:
        spec = AsyncAPI(
            self.broker,
            title=title,
            version="1.0.0",
            description=f"Events {self.settings.service} publishes and consumes.",
        )
        return spec.to_specification().to_jsonable()

    # -- HTTP -----------------------------------------------------------------------------------

    def http_app(
        self,
        *,
        title: str,
        routers: Iterable[APIRouter] = (),
        provisions: Iterable[Provision] = (),
        errors: Mapping[type[Exception], type[Problem]] | None = None,
        create_tables: bool = False,
    ) -> FastAPI:
        platform = self

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            await platform.start(create_tables=create_tables)
            try:
                yield
            finally:
                await platform.stop()

        app = FastAPI(title=title, lifespan=lifespan)
        app.state.settings = self.settings
        app.state.platform = self
        app.state.provided = {p.dependency: p.value for p in provisions}
        install_problem_handlers(app)
        # A service that asks the policy layer answers its refusals alike: 409 policy-denied.
        policy_errors = POLICY_ERRORS if self.policy is not None else {}
        map_errors(app, {**policy_errors, **(errors or {})})
        document_problems(app)
        # Inside the metrics middleware, so its refusals are counted like any other answer.
        app.add_middleware(LimitBodySize, max_body_bytes=self.settings.max_message_bytes)
        app.middleware("http")(self._http_middleware)

        @app.get("/health/live", tags=["health"])
        async def live() -> dict[str, str]:
            return {"status": "ok", "service": platform.settings.service}

        @app.get("/health/ready", tags=["health"])
        async def ready() -> JSONResponse:
            checks = await platform.readiness()
            ok = all(value == "ok" for value in checks.values())
            return JSONResponse(
                {"status": "ready" if ok else "not ready", "checks": checks},
                status_code=200 if ok else 503,
            )

        @app.get("/metrics", tags=["health"], include_in_schema=False)
        async def metrics() -> Response:
            return Response(
                platform.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
            )

        @app.get("/asyncapi.json", tags=["docs"])
        async def asyncapi() -> dict[str, Any]:
            return platform.asyncapi(title)

        for router in routers:
            # Every route states who may call it (or why anyone may), and with that gets the
            # edge's checks.
            if not isinstance(router, GuardedRouter | PublicRouter):
                raise TypeError(
                    f"{title}: a router must be a GuardedRouter or a PublicRouter "
                    "(shared.platform.http.access)"
                )
            app.include_router(router, responses=ERROR_RESPONSES)
        return app

    async def _http_middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get(CORRELATION_HEADER)
        if not correlation_id or not _CORRELATION_ID.fullmatch(correlation_id):
            # It goes into every event the request causes: a client's is kept only when short
            # and printable.
            correlation_id = str(uuid.uuid4())
        correlation_id_var.set(correlation_id)
        tenant_id_var.set(None)
        # The same dict the router completes with the matched route (``request_source``).
        http_scope_var.set(request.scope)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[CORRELATION_HEADER] = correlation_id
            return response
        finally:
            route = request.scope.get("route")
            self.metrics.http_requests.labels(
                request.method, getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)


def tune_garbage_collector(gen0_threshold: int) -> None:
    """Collect less often, and never scan what start-up built again.

    A consumer allocates a few objects per event and frees them by reference counting; CPython's
    default (a collection every 700 allocations, each walking the young objects and now and then
    the whole heap) spent about a quarter of the consumer's time finding no garbage."""
    global _collector_tuned
    if _collector_tuned:  # once per process: tests and benchmarks start many platforms
        return
    _collector_tuned = True
    if gen0_threshold:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0_threshold, gen1, gen2)
    gc.freeze()


_collector_tuned = False


async def every(interval_s: float, what: str, step: Callable[[], Awaitable[object]]) -> None:
    """A service's background loop (``ServicePlatform.background``): run ``step`` every
    ``interval_s``; a round that fails (the database or a server down) is logged and the next
    one tries again."""
    while True:
        try:
            await step()
        except Exception:
            log.exception("%s failed; retrying next round", what)
        await asyncio.sleep(interval_s)
