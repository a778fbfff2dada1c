"""Command line: run, fetch, preview, migrate, OPML import and export."""
