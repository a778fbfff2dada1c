"""newsbrief-bot: feeds in, deduplicated topic briefings out (the core, without Telegram wiring)."""
