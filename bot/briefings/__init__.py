"""Briefings: when each chat is due and what it receives, written to the outbox."""
