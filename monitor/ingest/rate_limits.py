"""Reading X's rate-limit headers without trusting them (no tweepy, no HTTP here).

tweepy calls int() on the x-rate-limit-reset of a 429, so a header that is not a plain number
("soon", an HTTP date, "1e400", "") would escape as a ValueError and stop the collection of
every account after it. The source's adapter runs `sanitise_rate_headers` on every answer before
tweepy sees it; `reset_at` reads a 429's reset, an implausible one (more than a day ahead) being
a window of unknown end.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import requests

log = logging.getLogger("monitor.ingest.x_api")

RESET_UNKNOWN_WAIT_S = 60.0  # a 429 without a usable x-rate-limit-reset: X windows are 15 min

# Rate-limit headers as X sends them: small non-negative integers (reset: epoch seconds).
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
MAX_RESET_AHEAD_S = 86400.0  # X's windows are 15 minutes (a day for some endpoints)


def sanitise_rate_headers(response: requests.Response) -> None:
    """Drop rate-limit headers that are not plain integers in range, before tweepy reads them:
    tweepy calls int() on x-rate-limit-reset of a 429, and "soon", "1e400" or "" would escape
    as a ValueError. A dropped reset is waited for as an unknown one (RESET_UNKNOWN_WAIT_S)."""
    for name in RATE_HEADERS:
        value = response.headers.get(name)
        if value is None:
            continue
        clean = _plain_int(value, allow_float=name == "x-rate-limit-reset")
        if clean is None:
            log.warning("the X API sent an unreadable %s header (%r); ignoring it", name,
                        value[:40])
            del response.headers[name]
        else:
            response.headers[name] = str(clean)


def _plain_int(value: str, *, allow_float: bool) -> int | None:
    text = value.strip()
    if not text or len(text) > 20:
        return None
    try:
        number = float(text) if allow_float else int(text, 10)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0 or number >= 2**53:
        return None
    return int(number)


def reset_at(response: Any, now: float) -> float:
    """When a 429's window resets; a missing, unreadable or implausible header (not a
    number, more than a day ahead) is a window of unknown end."""
    try:
        reset = float(response.headers["x-rate-limit-reset"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return now + RESET_UNKNOWN_WAIT_S
    if not math.isfinite(reset) or reset > now + MAX_RESET_AHEAD_S:
        return now + RESET_UNKNOWN_WAIT_S
    return reset
