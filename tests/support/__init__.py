"""Test support: the fake Bot API, a feed server, bot harnesses, seeders and shared sample data."""
