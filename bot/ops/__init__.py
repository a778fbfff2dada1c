"""Operating the bot: health and readiness, Prometheus metrics, log format, backups."""
