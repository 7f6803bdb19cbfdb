"""JSON log lines carry the standard fields and the extras, one object per line."""

from __future__ import annotations

import json
import logging

from depictio.logs import JsonFormatter


def test_record_becomes_one_json_object() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "rpc %s", "args": ("done",), "method": "/a/B"}
    )
    line = JsonFormatter("auth_svc").format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["service"] == "auth_svc"
    assert entry["message"] == "rpc done"
    assert entry["method"] == "/a/B"
    assert entry["level"] == "info"
