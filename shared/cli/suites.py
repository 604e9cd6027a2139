"""Where a running ``roofline up`` is: the registry of running suites, and how commands pick one.

``roofline up`` keeps its state (ports, broker, database) in ``<data dir>/state.json`` and, while it
runs, records itself in a small per-user registry: one file per supervisor,
``<registry>/<pid>.json`` naming its data directory, removed when it stops. The registry lives in
``$ROOFLINE_REGISTRY_DIR``, else ``$XDG_STATE_HOME/roofline/running``, else
``~/.local/state/roofline/running``; entries whose process is gone are ignored (and removed).

A command that talks to the running suite (status, events, mail, outbox replay, policy replay)
looks:

1. in the data directory given by ``--data-dir`` or ``ROOFLINE_DATA_DIR``, when one is given;
2. else in the default data directory (``.roofline`` under the current directory), if a suite
   runs there;
3. else at the single suite the registry names. If several run, it says which and asks to choose.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

STATE_FILE = "state.json"


class SuiteChoiceNeeded(Exception):
    """Several suites run and nothing says which one a command means."""


@dataclass(frozen=True)
class RunningSuite:
    pid: int
    data_dir: Path
    started_at: str


def registry_dir() -> Path:
    configured = os.environ.get("ROOFLINE_REGISTRY_DIR")
    if configured:
        return Path(configured).expanduser()
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "roofline" / "running"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def register(data_dir: Path) -> Path:
    """Record this process as the suite running on ``data_dir``; returns the entry to remove."""
    directory = registry_dir()
    directory.mkdir(parents=True, exist_ok=True)
    entry = directory / f"{os.getpid()}.json"
    temporary = entry.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "data_dir": str(data_dir.resolve()),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    )
    temporary.replace(entry)
    return entry


def unregister(entry: Path) -> None:
    entry.unlink(missing_ok=True)


def running_suites() -> list[RunningSuite]:
    """The suites the registry names whose supervisor still runs; stale entries are removed."""
    directory = registry_dir()
    found: list[RunningSuite] = []
    if not directory.is_dir():
        return found
    for entry in sorted(directory.glob("*.json")):
        try:
            record = json.loads(entry.read_text())
            suite = RunningSuite(
                int(record["pid"]), Path(record["data_dir"]), str(record.get("started_at", ""))
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or foreign: not ours to judge
        if not pid_alive(suite.pid):
            with contextlib.suppress(OSError):
                entry.unlink()
            continue
        found.append(suite)
    return sorted(found, key=lambda suite: suite.started_at)


def read_state(data_dir: Path) -> dict[str, object] | None:
    """The state of the suite running on ``data_dir``, or None (no state, or its supervisor is
    gone: a state file left by a killed ``roofline up``)."""
    path = data_dir / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = state.get("pid")
    if isinstance(pid, int) and not pid_alive(pid):
        return None
    return state


def explicit_data_dir(data_dir: str | None) -> str | None:
    return data_dir or os.environ.get("ROOFLINE_DATA_DIR") or None


def locate(data_dir: str | None, default: Path) -> Path:
    """The data directory of the suite a command means (see the module docstring).

    Returns ``default`` when nothing runs; raises SuiteChoiceNeeded when several suites run
    and none is in the default data directory."""
    chosen = explicit_data_dir(data_dir)
    if chosen:
        return Path(chosen).expanduser().resolve()
    default = default.resolve()
    if read_state(default) is not None:
        return default
    suites = {suite.data_dir.resolve(): suite for suite in running_suites()}
    if len(suites) == 1:
        return next(iter(suites))
    if len(suites) > 1:
        listed = "\n".join(
            f"  {suite.data_dir}  (pid {suite.pid}, started {suite.started_at})"
            for suite in suites.values()
        )
        raise SuiteChoiceNeeded(
            f"{len(suites)} suites are running:\n{listed}\n"
            "choose one with --data-dir DIR or ROOFLINE_DATA_DIR=DIR"
        )
    return default


def not_found_message(data_dir: str | None, looked_in: Path) -> str:
    """Why nothing was found, and how commands find a suite."""
    if explicit_data_dir(data_dir):
        return (
            f"roofline is not running in {looked_in} (the data directory given by --data-dir or "
            "ROOFLINE_DATA_DIR)"
        )
    return (
        f"roofline is not running: no suite in the default data directory ({looked_in}) and "
        f"none in the registry of running suites ({registry_dir()}). Commands look in "
        "--data-dir / ROOFLINE_DATA_DIR when given, else in the default data directory, else at "
        "the one suite `roofline up` registered; start it with `roofline up [--data-dir DIR]`."
    )
