"""Locate the shared test data (``../shared/data`` from the repository root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared data folder: ``$CEIBA_SHARED_DATA`` or ``../shared/data`` from the repo root."""
    override = os.environ.get("CEIBA_SHARED_DATA")
    return Path(override) if override else (REPO_ROOT / ".." / "shared" / "data").resolve()


def shared_path(relative: str) -> Path:
    return shared_data_dir() / relative


def require(relative: str) -> Path:
    """Return the shared data path, or skip the test if it is absent."""
    path = shared_path(relative)
    if not path.exists():
        pytest.skip(f"shared test data {path} is absent (set CEIBA_SHARED_DATA to its folder)")
    return path
