"""How commands find a running suite: the registry of running suites and ``locate``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli.suites import (
    STATE_FILE,
    SuiteChoiceNeeded,
    locate,
    not_found_message,
    register,
    running_suites,
    unregister,
)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "registry"
    monkeypatch.setenv("ROOFLINE_REGISTRY_DIR", str(directory))
    monkeypatch.delenv("ROOFLINE_DATA_DIR", raising=False)
    return directory


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def suite_at(directory: Path, pid: int, registry: Path) -> Path:
    """A data directory with the state file of a suite run by ``pid``, registered."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_FILE).write_text(json.dumps({"pid": pid, "services": []}))
    registry.mkdir(parents=True, exist_ok=True)
    (registry / f"{pid}.json").write_text(
        json.dumps({"pid": pid, "data_dir": str(directory), "started_at": "now"})
    )
    return directory


def test_up_registers_itself_and_unregisters(registry: Path, tmp_path: Path) -> None:
    entry = register(tmp_path / "data")
    assert [(s.pid, s.data_dir) for s in running_suites()] == [
        (os.getpid(), (tmp_path / "data").resolve())
    ]
    unregister(entry)
    assert running_suites() == []


def test_entries_of_dead_supervisors_are_ignored_and_removed(
    registry: Path, tmp_path: Path
) -> None:
    pid = dead_pid()
    suite_at(tmp_path / "gone", pid, registry)
    assert running_suites() == []
    assert not (registry / f"{pid}.json").exists()
    assert locate(None, tmp_path / "default") == (tmp_path / "default").resolve()


def test_the_single_registered_suite_is_found_from_anywhere(registry: Path, tmp_path: Path) -> None:
    data = suite_at(tmp_path / "custom", os.getpid(), registry)
    assert locate(None, tmp_path / "default") == data.resolve()


def test_a_suite_in_the_default_data_directory_wins(registry: Path, tmp_path: Path) -> None:
    suite_at(tmp_path / "custom", os.getpid(), registry)
    default = tmp_path / "default"
    default.mkdir()
    (default / STATE_FILE).write_text(json.dumps({"pid": os.getpid(), "services": []}))
    assert locate(None, default) == default.resolve()


def test_a_stale_state_file_in_the_default_directory_does_not_hide_the_running_suite(
    registry: Path, tmp_path: Path
) -> None:
    data = suite_at(tmp_path / "custom", os.getpid(), registry)
    default = tmp_path / "default"
    default.mkdir()
    (default / STATE_FILE).write_text(json.dumps({"pid": dead_pid(), "services": []}))
    assert locate(None, default) == data.resolve()


def test_several_running_suites_ask_which(registry: Path, tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        one = suite_at(tmp_path / "one", os.getpid(), registry)
        two = suite_at(tmp_path / "two", sleeper.pid, registry)
        with pytest.raises(SuiteChoiceNeeded) as raised:
            locate(None, tmp_path / "default")
        message = str(raised.value)
        assert str(one) in message and str(two) in message
        assert "--data-dir" in message and "ROOFLINE_DATA_DIR" in message
        assert locate(str(two), tmp_path / "default") == two.resolve()  # chosen: no question
    finally:
        sleeper.kill()
        sleeper.wait()


def test_roofline_data_dir_is_a_choice(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_at(tmp_path / "custom", os.getpid(), registry)
    monkeypatch.setenv("ROOFLINE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert locate(None, tmp_path / "default") == (tmp_path / "elsewhere").resolve()


def test_nothing_found_says_how_commands_look(registry: Path, tmp_path: Path) -> None:
    message = not_found_message(None, tmp_path / "default")
    assert str(tmp_path / "default") in message and str(registry) in message
    assert "--data-dir" in message and "ROOFLINE_DATA_DIR" in message
    assert "roofline up" in message
