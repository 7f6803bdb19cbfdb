"""The names of the worker's tasks (what `submit` sends and the worker registers)."""

from __future__ import annotations

OPTIMIZE = "depictio.optimize"
VACUUM = "depictio.vacuum"
INGEST = "depictio.ingest_project"
THUMBNAIL = "depictio.thumbnail"
# The message header carrying the task's access token (never a task argument: arguments are
# logged and kept with results, headers are not).
TOKEN_HEADER = "depictio_task_token"
