"""Storage: SQLModel tables, migrations and queries (no parser or presentation types)."""
