"""``--tools``: a cell runs as the sub-agent in Claude Code itself, confined to a workspace.

engine (the CLI through the Claude Agent SDK), endpoint (agentnb's local endpoint between the CLI and
the API: record, replay, redact), permissions, workspace, and cell (a tools cell for a session). The
SDK is imported only when a cell asks for tools.
"""
