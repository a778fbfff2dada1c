"""Render: Telegram HTML, user-facing strings, story lists and charts (pure)."""
