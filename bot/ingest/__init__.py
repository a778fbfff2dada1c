"""Ingest: fetch feeds and pages, parse, merge entries into stories, match topics."""
