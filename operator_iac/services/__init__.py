"""The operations a user runs, one module per command (``validate``, ``plan``, ``apply``,
``smoke``, ``promote``, ``rollback``, ``history``, ``status``, ``import_``, ``transcript``,
``emulator``), as plain functions over a ``Target`` (``target``).

Every rule that protects a platform lives here (an environment that only receives promotions,
protected deletions, saved-plan checks, promotion evidence), so the CLI and the Python API
behave the same. Services call the engines (``plan``, ``apply``, ``smoke``, ``importing``)
and talk to the person running them only through ``feedback``.
"""
