"""`monitor check` asking a running service or dashboard first (see `web/check_server.py`).

Standard library only, no database and no configuration validation: a warm check costs the
Python start-up, the command line and one local HTTP request."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _where(address: Path | None) -> dict[str, Any] | None:
    """The address file's content, if the process it names is still running."""
    if address is None:
        return None
    try:
        where: dict[str, Any] = json.loads(address.read_text(encoding="utf-8"))
        os.kill(int(where["pid"]), 0)  # is it still running? (signal 0 only asks)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return where


def is_running(address: Path | None) -> bool:
    return _where(address) is not None


def ask_running(address: Path | None, pair: str | None, text: str,
                at_text: str | None) -> dict[str, Any] | None:
    """The answer of the process named in `address`, or None (no process, or it is gone): the
    caller then checks on its own. An answer with "error" is a refusal the caller reports.
    The process resolves the pair (None: the only one) and reads `at_text` (--at as typed)
    with the configuration it loaded, so this side reads no configuration at all."""
    where = _where(address)
    if where is None:
        return None
    import urllib.error  # only when a process is there to ask
    import urllib.request

    body = json.dumps({"pair": pair, "text": text, "at_text": at_text}).encode("utf-8")
    request = urllib.request.Request(
        f"{where['url']}/check", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Monitor-Token": str(where["token"])})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            answer: dict[str, Any] = json.loads(reply.read())
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code == 422:  # the check itself was refused (an empty draft...): say why
            refused: dict[str, Any] = json.loads(exc.read())
            return refused
        return None
    except (OSError, ValueError):
        return None
