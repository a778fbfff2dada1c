"""Shared fixtures: a migrated database per test, settings builders, data paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.storage.db import open_database

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(name: str) -> Path:
    """Path of a ../shared/data folder; skip (or fail in CI) when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        if os.environ.get("REQUIRE_CORPUS") == "1":
            pytest.fail(f"../shared/data/{name} is required (REQUIRE_CORPUS=1) but absent")
        pytest.skip(f"../shared/data/{name} not found; clone next to ../shared to run this")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database in a temporary folder."""
    eng = open_database(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield eng
    eng.dispose()
