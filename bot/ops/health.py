"""Liveness and readiness: which checks fail, and why, in one line.

Readiness means: the database answers; each scheduler tick this process runs
(refresh, compose, deliver) completed within 3× its interval; the oldest
unsent outbox message is younger than `ops.max_outbox_age_seconds`. The
same checks back `/readyz` and `python -m bot healthcheck`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage.gauges import oldest_pending_age
from bot.storage.models import utcnow

STALE_FACTOR = 3.0
DB_TIMEOUT = 5.0  # seconds a readiness probe waits for the database


@dataclass(frozen=True)
class Verdict:
    """The outcome of the checks: ok, or the problems found."""

    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def json_line(self) -> str:
        """One line of JSON: {"status": "ok"} or {"status": "failing", "reason": "..."}."""
        if self.ok:
            return json.dumps({"status": "ok"})
        return json.dumps({"status": "failing", "reason": "; ".join(self.problems)})


@dataclass
class Heartbeats:
    """When each scheduler tick of this process last completed (monotonic clock)."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.monotonic)
    _every: dict[str, float] = field(default_factory=dict)
    _done: dict[str, float] = field(default_factory=dict)
    _failing: dict[str, str] = field(default_factory=dict)
    _stopping: bool = False

    def expect(self, name: str, every: float) -> None:
        """Declare that tick `name` runs about every `every` seconds in this process."""
        self._every[name] = every

    def beat(self, name: str) -> None:
        """Record that tick `name` just completed."""
        self._done[name] = self.clock()
        self._failing.pop(name, None)

    def completed(self, name: str) -> bool:
        """Whether tick `name` completed at least once since this process started."""
        return name in self._done

    def expects(self, name: str) -> bool:
        """Whether this process runs tick `name`."""
        return name in self._every

    def since_start(self) -> float:
        """Seconds since this process started."""
        return self.clock() - self.started

    def fail(self, name: str, reason: str) -> None:
        """Record that tick `name` ran but could not do its work; `reason` says why."""
        self._failing[name] = reason

    def stop(self) -> None:
        """Say the process is shutting down: it takes no new work, so it is not ready."""
        self._stopping = True

    def problems(self) -> list[str]:
        """One line per expected tick that has not completed within 3× its interval.

        A process that is shutting down has one problem, whatever its ticks did: a load
        balancer or orchestrator must stop routing to it before it stops answering.
        """
        if self._stopping:
            return ["shutting down"]
        now = self.clock()
        found = []
        for name, every in sorted(self._every.items()):
            limit = STALE_FACTOR * every
            last = self._done.get(name)
            since = now - (self.started if last is None else last)
            if since > limit:
                what = "has not completed since start" if last is None else "last completed"
                line = f"{name} tick {what} {since:.0f}s ago (limit {limit:.0f}s)"
                reason = self._failing.get(name)
                found.append(f"{line}: {reason}" if reason else line)
        return found


def outbox_problem(age: float, max_age: float) -> str | None:
    """The outbox line of a verdict, or None when the oldest unsent message is young enough."""
    if age <= max_age:
        return None
    return f"oldest unsent outbox message is {age:.0f}s old (limit {max_age:.0f}s)"


def database_problems(engine: Engine, *, max_outbox_age: float, now: datetime) -> list[str]:
    """Ask the database (one query); return what is wrong with it or with the outbox."""
    try:
        with Session(engine) as session:
            age = oldest_pending_age(session, now=now)
    except Exception as exc:  # unreachable, refused, locked, missing schema: all "not ready"
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return [f"database: {type(exc).__name__}: {detail[0] if detail else ''}"[:300]]
    problem = outbox_problem(age, max_outbox_age)
    return [problem] if problem else []


async def readiness(
    engine: Engine,
    heartbeats: Heartbeats | None,
    *,
    max_outbox_age: float,
    clock: Callable[[], datetime] = utcnow,
) -> Verdict:
    """Run every readiness check; the database gets `DB_TIMEOUT` seconds to answer."""
    probe = asyncio.to_thread(database_problems, engine, max_outbox_age=max_outbox_age, now=clock())
    try:
        problems = await asyncio.wait_for(probe, DB_TIMEOUT)
    except TimeoutError:
        problems = [f"database: no answer within {DB_TIMEOUT:.0f}s"]
    if heartbeats is not None:
        problems += heartbeats.problems()
    return Verdict(tuple(problems))
