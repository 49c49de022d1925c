"""Notifications: the daily digest, overlap alerts, and their delivery through the outbox.

    alerts.py   the pure alert state machine (pending -> firing -> resolved, with hysteresis)
    digest.py   the digest's figures per pair, rendered to HTML and plain text
    email.py    MIME messages, and sending them over SMTP
    webhook.py  Slack-compatible JSON POSTs
    outbox.py   queue first, then deliver with retries and backoff, each message exactly once
"""

from monitor.notify.outbox import outbox_status

__all__ = ["outbox_status"]
