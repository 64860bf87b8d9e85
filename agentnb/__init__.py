"""agentnb: Claude Code sub-agents as Jupyter cell magics.

Importing this package is cheap on purpose (``%load_ext agentnb`` must stay fast): the SDK, DuckDB,
SQLAlchemy and nbformat are imported on first use, from the modules that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"
