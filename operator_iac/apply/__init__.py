"""Apply: ``executor`` carries a plan out against the platform (the only writer of agents);
``report`` holds its options and its per-agent results."""
