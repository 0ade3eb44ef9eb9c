"""Smoke tests: a test conversation with the exact revision under test, judged on the
conversation's SSE event stream.

Pure parts: ``turns`` (events into turns), ``matchers`` (value and text matchers, JSON
paths), ``assertions`` and ``procedure_check`` (verdicts with what was expected, what was
seen, and in which turn), ``results`` (run, test and report values). I/O parts:
``collector`` (the SSE reader thread), ``runner`` (one run: the conversation driver),
``suite`` (many runs at once), ``service`` (what an environment holds, for the ``smoke``
command), ``gate`` (the hook apply calls before and after a release) and ``record`` (a
revision's last verdict kept on the platform, for ``promote``).

Entry points: ``suite.run_smoke_tests``, ``gate.smoke_gate``, ``service.smoke_environment``.
"""
