"""Every benchmark script still imports: a renamed or removed name in `bot` breaks them
silently otherwise, since no test runs them whole."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCH.glob("*.py")))
def test_bench_script_imports(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))  # the scripts run as files find their siblings
    importlib.import_module(f"bench.{name}")
    assert f"bench.{name}" in sys.modules
