"""Delivery: the outbox sender and its pacing below Telegram's flood limits."""
