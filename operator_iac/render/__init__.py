"""Renderers: pure functions from result objects to strings (text, json, markdown, junit)."""
