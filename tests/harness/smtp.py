"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:port that keeps what it receives; with a
    password, it offers AUTH and accepts only that password."""

    def __init__(self, port: int, *, password: str | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.port = port
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[bytes, bytes]] = []

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         data: Any) -> AuthResult:
            self.logins.append((data.login, data.password))
            # handled=False: aiosmtpd then answers a refusal with 535 itself.
            return AuthResult(success=password is not None
                              and data.password == password.encode(), handled=False)

        kwargs: dict[str, Any] = {}
        if password is not None:
            # AUTH over plain text is fine on loopback; the client logs in when offered.
            kwargs = {"authenticator": authenticate, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=port, **kwargs)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(
            envelope.original_content, policy=email.policy.default))
        return "250 Message accepted"

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
