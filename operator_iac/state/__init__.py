"""Remote state: ``snapshot`` holds the frozen values the planner reads (agents, their versions
and revisions); ``fetch`` reads them from the platform through the API client; ``times``
reads the times the platform writes."""
