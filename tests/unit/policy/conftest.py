from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[..., Path]:
    """Write a rule file (dedented) into a fresh policy directory; returns its path."""
    directory = tmp_path / "policies"
    directory.mkdir()

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = directory / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write
