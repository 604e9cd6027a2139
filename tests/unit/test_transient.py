"""Which failures are retried (transient) and which are dead-lettered (permanent)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from shared.platform.storage.db import is_transient
from shared.platform.storage.uow import TenantRequired


def wrapped(inner: BaseException) -> BaseException:
    try:
        raise RuntimeError("outer") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        wrapped(ConnectionResetError()),
    ],
)
def test_outages_and_conflicts_are_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("amount refused"),
        TenantRequired("no tenant"),
        PermissionError("not allowed"),
        asyncpg.exceptions.InterfaceError("the number of query arguments cannot exceed 32767"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        FileNotFoundError(2, "No such file"),
    ],
)
def test_bad_data_and_bugs_are_permanent(error: BaseException) -> None:
    assert not is_transient(error)


def test_an_error_raised_while_handling_a_timeout_is_not_a_timeout() -> None:
    try:
        try:
            raise TimeoutError
        except TimeoutError:
            raise ValueError("bug in the handler") from None
    except ValueError as error:
        assert not is_transient(error)
