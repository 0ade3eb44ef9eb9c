"""Lint: team policies checked on agent declarations, offline.

``validate`` answers "is this a correct declaration?"; lint answers "is this an agent we
allow?". Rules are small pure functions registered in one table (``catalog``), each with a
stable id, a default severity, and its documentation (why it exists, an example that
triggers it, the fix). They run on the effective declarations, one view per environment
(``views``: bases, templates, fragments and the environment's override applied), and report
findings at the file, line and column the user wrote. ``engine`` runs the table, merges what
several environments found, and applies inline suppressions (``suppressions``).
"""
