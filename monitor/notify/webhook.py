"""Webhook delivery: a Slack-compatible JSON body {"text": ...} POSTed to MONITOR_WEBHOOK_URL.

The URL is a secret (Slack's carries its token), so it is read from the environment when
sending and never appears in the outbox, a log line or an error message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pydantic import SecretStr

from monitor.errors import DeliveryError


def webhook_payload(text: str) -> str:
    return json.dumps({"text": text}, ensure_ascii=False)


class WebhookSender:
    """POSTs stored JSON bodies to the webhook URL, with a timeout."""

    def __init__(self, url: SecretStr | None, *, timeout_s: float = 15.0) -> None:
        self._url = url
        self.timeout_s = timeout_s

    def send(self, payload: str) -> None:
        if self._url is None:
            raise DeliveryError("MONITOR_WEBHOOK_URL is not set, so the webhook message cannot "
                                "be sent: set it in the environment (or .env). The message stays "
                                "in the outbox.")
        request = urllib.request.Request(
            self._url.get_secret_value(), data=payload.encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "User-Agent": "exec-voice-monitor"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"the webhook (MONITOR_WEBHOOK_URL) answered HTTP {exc.code} "
                                f"{exc.reason}. The message stays in the outbox and is retried "
                                "later.") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            kind = "invalid" if isinstance(exc, ValueError) else "unreachable"
            # Only the error's type and OS text: str(exc) may quote the secret URL.
            detail = type(reason).__name__
            if getattr(reason, "strerror", None):
                detail += f" ({reason.strerror})"  # type: ignore[union-attr]
            raise DeliveryError(f"the webhook (MONITOR_WEBHOOK_URL) is {kind}: {detail}. The "
                                "message stays in the outbox and is retried later.") from None
