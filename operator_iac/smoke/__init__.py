"""Smoke tests: pure assertion matchers over conversation events, and the conversation driver."""
