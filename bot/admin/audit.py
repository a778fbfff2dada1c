"""The audit log: which admin did what, and when (broadcasts, feed changes, imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.admin.results import AuditLine
from bot.storage.models import AuditEntry

CLI_ACTOR = "command line"


@dataclass(frozen=True)
class Actor:
    """Who acts: a Telegram user, or None for the command line."""

    user_id: int | None
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.user_id})" if self.user_id is not None else self.name


CLI = Actor(None, CLI_ACTOR)


def record(session: Session, actor: Actor, action: str, detail: str, *, now: datetime) -> None:
    """Add one entry to the audit log (in the caller's transaction)."""
    session.add(
        AuditEntry(
            user_id=actor.user_id,
            actor=actor.name[:100],
            action=action[:32],
            detail=detail[:1000],
            created_at=now,
        )
    )


def recent(session: Session, limit: int = 20) -> list[AuditLine]:
    """The newest entries, newest first."""
    query = select(AuditEntry).order_by(
        col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc()
    )
    return [
        AuditLine(e.created_at, Actor(e.user_id, e.actor).label, e.action, e.detail)
        for e in session.exec(query.limit(limit)).all()
    ]
