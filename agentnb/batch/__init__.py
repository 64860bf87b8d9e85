"""``agentnb run``: notebooks executed with papermill, in parallel, and their reports."""
