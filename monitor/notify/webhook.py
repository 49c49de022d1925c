"""Chat and webhook delivery through Apprise: Slack, Microsoft Teams and generic webhooks.

Three channels, each with its URL in the environment (the URLs carry their tokens, so they are
secrets: read when sending, never stored in the outbox, a log line or an error message):

    webhook  MONITOR_WEBHOOK_URL  any Apprise URL (json://, jsons://, slack://, workflows://...);
                                   a plain http(s):// URL is recognised by Apprise when it is a
                                   Slack or Power Automate (Teams) URL, and otherwise gets
                                   Apprise's generic JSON form (json:// / jsons://)
    slack    MONITOR_SLACK_URL    a Slack incoming-webhook URL (https://hooks.slack.com/...) or
                                   slack://TOKEN_A/TOKEN_B/TOKEN_C
    teams    MONITOR_TEAMS_URL    a Teams workflow (Power Automate) URL, or
                                   workflows://HOST:PORT/WORKFLOW/SIGNATURE

The outbox stores a channel-neutral payload (title, Markdown body, severity); Apprise renders
it for each service (Slack blocks, a Teams Adaptive Card, a JSON body with `title`, `message`
and `type`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator

from pydantic import SecretStr

from monitor.errors import DeliveryError
from monitor.models import OutboxEntry

CHANNEL_ENV = {"webhook": "MONITOR_WEBHOOK_URL", "slack": "MONITOR_SLACK_URL",
               "teams": "MONITOR_TEAMS_URL"}
CHANNEL_NAMES = {"webhook": "webhook", "slack": "Slack webhook", "teams": "Teams webhook"}
# Apprise's own log lines may quote a target URL (with its token) at debug level: they never
# reach the monitor's logs; the sender reads them, in memory, to explain a failure.
logging.getLogger("apprise").propagate = False

_STATUS = re.compile(r"error=(\d{3})")


def webhook_payload(text: str, *, title: str = "", severity: str = "info") -> str:
    """What the outbox stores for a chat or webhook message (no secret in it)."""
    return json.dumps({"title": title, "body": text, "severity": severity}, ensure_ascii=False)


def apprise_url(url: str) -> str:
    """A plain http(s) URL that Apprise does not recognise becomes its generic JSON form."""
    import apprise

    if url.startswith(("http://", "https://")) and apprise.Apprise.instantiate(url) is None:
        return ("jsons://" if url.startswith("https://") else "json://") + url.split("://", 1)[1]
    return url


_TYPES = {"critical": "failure", "warning": "warning", "info": "success"}


class WebhookSender:
    """Sends stored payloads to one channel's URL through Apprise."""

    def __init__(self, url: SecretStr | None, *, channel: str = "webhook",
                 timeout_s: float = 15.0) -> None:
        self._url = url
        self.channel = channel
        self.timeout_s = timeout_s

    @property
    def _name(self) -> str:
        return f"the {CHANNEL_NAMES[self.channel]} ({CHANNEL_ENV[self.channel]})"

    def send_entry(self, entry: OutboxEntry) -> None:
        self.send(entry.payload)

    def send(self, payload: str) -> None:
        import apprise

        env = CHANNEL_ENV[self.channel]
        if self._url is None:
            raise DeliveryError(f"{env} is not set, so the {CHANNEL_NAMES[self.channel]} "
                                "message cannot be sent: set it in the environment (or .env). "
                                "The message stays in the outbox.")
        data = json.loads(payload)
        if "body" not in data:  # queued by an earlier version: {"text": ...}
            data = {"title": "", "body": data.get("text", ""), "severity": "info"}
        target = apprise.Apprise()
        url = apprise_url(self._url.get_secret_value())
        sep = "&" if "?" in url else "?"
        # Apprise's connect and read timeouts, in seconds.
        if not target.add(f"{url}{sep}cto={self.timeout_s:g}&rto={self.timeout_s:g}"):
            raise DeliveryError(f"{self._name} is not a URL Apprise can send to: check its "
                                "scheme (json://, slack://, workflows://, https://...). The "
                                "message stays in the outbox.")
        with apprise.LogCapture(level=logging.DEBUG) as logs, _quiet_http(url):
            sent = target.notify(body=data["body"], title=data.get("title") or "",
                                 notify_type=_TYPES.get(data.get("severity", "info"), "info"),
                                 body_format=apprise.NotifyFormat.MARKDOWN)
        if not sent:
            raise DeliveryError(f"{self._name} did not accept the message: "
                                f"{_describe(str(logs.getvalue()))}. The message stays in the "
                                "outbox and is retried later.")


class _Redact(logging.Filter):
    """Drops HTTP library records that quote a piece of the secret URL: urllib3 logs each
    request line, path included, at debug level (`monitor -vv`), from whatever thread Apprise
    sends in, and a webhook's path is its secret."""

    def __init__(self, url: str) -> None:
        super().__init__()
        tail = url.split("://", 1)[-1]
        self.pieces = {p for p in re.split(r"[/?&=:@#]", tail) if len(p) >= 6}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(piece in message for piece in self.pieces)


@contextlib.contextmanager
def _quiet_http(url: str) -> Iterator[None]:
    redact = _Redact(url)
    loggers = [logging.getLogger(name) for name in ("urllib3.connectionpool", "urllib3",
                                                    "requests", "requests_oauthlib")]
    for logger in loggers:
        logger.addFilter(redact)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redact)


def _describe(log: str) -> str:
    """Why Apprise failed, without quoting anything of the URL."""
    status = _STATUS.search(log)
    if status:
        return f"HTTP {status.group(1)}"
    if re.search(r"connection error|Connection refused|Max retries", log, re.I):
        return "connection failed (is the receiver up and the address right?)"
    if re.search(r"timed? ?out", log, re.I):
        return "no answer within the timeout"
    if re.search(r"SSL|certificate", log, re.I):
        return "TLS failed (certificate not trusted?)"
    return "the service refused it"
