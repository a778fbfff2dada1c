"""What one delivery round did: messages sent, retried, failed, and chats found blocked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.blocked += other.blocked
