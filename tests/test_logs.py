"""Structured logs: with OUTTASK_LOG_FORMAT=json every console log line is one JSON object —
outtask's own loggers and Prefect's alike — so a log collector can read them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import logging
from flows.settings import apply_prefect_defaults
apply_prefect_defaults()
from prefect import flow  # configures logging, from PREFECT_LOGGING_SETTINGS_PATH if set
logging.getLogger("flows.listen").warning("listen: %s; trying again in %d s", "EndpointError", 4)
logging.getLogger("prefect.engine").error("interview 7 failed")
"""


def _run(tmp_path, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PREFECT_LOGGING", "OUTTASK_LOG"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env={**clean, "OUTTASK_HOME": str(tmp_path), **env},
                          check=True)
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_json_log_lines(tmp_path):
    lines = _run(tmp_path, OUTTASK_LOG_FORMAT="json")
    docs = [json.loads(line) for line in lines]  # every line parses
    by_logger = {d["name"]: d for d in docs}
    listen = by_logger["flows.listen"]
    assert listen["levelname"] == "WARNING"
    assert listen["msg"] % tuple(listen["args"]) == "listen: EndpointError; trying again in 4 s"
    assert by_logger["prefect.engine"]["levelname"] == "ERROR"


def test_text_log_lines_by_default(tmp_path):
    lines = _run(tmp_path)
    assert any("listen: EndpointError; trying again in 4 s" in line for line in lines)
    assert not any(line.startswith("{") for line in lines)
