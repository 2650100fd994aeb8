"""Shared fixtures for the Sigma engine tests: the shared data folder and the loaded SigmaHQ set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ceiba.soc.sigma import RuleSet, load_rules

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data() -> Path:
    """``CEIBA_SHARED_DATA`` or ``../shared/data`` next to the repository root."""
    env = os.environ.get("CEIBA_SHARED_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data").resolve()


def sigma_data() -> Path:
    return shared_data() / "sigma"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data missing: {path} (set CEIBA_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def sigmahq_rules() -> RuleSet:
    base = require(sigma_data() / "rules")
    return load_rules(
        [base, sigma_data() / "rules-emerging-threats", sigma_data() / "rules-threat-hunting"]
    )
