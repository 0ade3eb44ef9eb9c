"""The local Operator emulator: a real HTTP, SSE and WebSocket server (Starlette on uvicorn)
that implements operator-api.md with SQLite persistence, a deterministic agent brain, fault
injection and compatibility modes.

Start one with ``operator_iac.emulator.server.EmulatorServer`` (or ``start_in_process``);
this package stays import-light so that nothing loads uvicorn until a server is wanted.
"""
