"""The local Operator emulator: a Starlette app with SQLite persistence, a deterministic brain and fault injection."""
