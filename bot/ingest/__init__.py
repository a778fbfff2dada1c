"""Ingest: fetch feeds, parse, merge entries into stories, match topics."""
