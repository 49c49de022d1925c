"""Notifications: the daily digest, overlap alerts, and their delivery through the outbox.

    alerts.py         the pure alert state machine (pending -> firing -> resolved, hysteresis)
    alert_message.py  one message per pair and evaluation: overlap alert and risk posts, with
                      a severity, as HTML+text email and chat payload
    digest.py         the digest's figures per pair, rendered to HTML and plain text
    email.py          MIME messages, and sending them over SMTP
    webhook.py        Slack, Teams and generic webhooks through Apprise
    outbox.py         queue first, then deliver with retries and backoff, each message exactly once
"""
