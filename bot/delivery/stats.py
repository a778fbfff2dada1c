"""What one delivery round did: messages sent, retried, failed, and chats found blocked."""

from __future__ import annotations

from dataclasses import dataclass

from bot.tally import Tally


@dataclass
class DeliveryStats(Tally):
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
