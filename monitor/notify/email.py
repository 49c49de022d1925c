"""Email: building the MIME message, and sending it with smtplib.

The message is built once, when it is queued, and stored whole in the outbox; the sender only
transmits it. Its Message-ID derives from the outbox key, so a receiving system can recognise a
copy should a crash fall between the SMTP server's acceptance and the outbox being updated.
The SMTP password comes from the environment and is used only for the login: no message, log
line or database row carries it.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal

from pydantic import SecretStr

from monitor.config import EmailConfig
from monitor.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)


def build_email(*, key: str, sender: str, recipients: Sequence[str], subject: str, text: str,
                html: str | None = None, date: datetime | None = None) -> str:
    """An RFC 5322 message: text/plain, plus text/html as an alternative when given."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # no vacation replies to an automated sender
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_string()


def readdress_email(payload: str, recipients: Sequence[str]) -> str:
    """A stored message with its To: header set to `recipients` (all else as built)."""
    from email import message_from_string
    from email.policy import default

    msg = message_from_string(payload, policy=default)
    del msg["To"]
    msg["To"] = ", ".join(recipients)
    return msg.as_string()


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    username: str | None
    password: SecretStr | None
    sender: str
    timeout_s: float

    @classmethod
    def from_config(cls, cfg: EmailConfig, password: SecretStr | None) -> SmtpSettings:
        return cls(host=cfg.smtp_host, port=cfg.smtp_port, security=cfg.security,
                   username=cfg.username, password=password, sender=cfg.sender,
                   timeout_s=cfg.timeout_s)

    @property
    def where(self) -> str:
        return f"SMTP server {self.host}:{self.port} ({self.security})"


class SmtpMailer:
    """Sends stored messages through one SMTP server ([email] settings)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, sender: str, recipients: Sequence[str], message: str) -> None:
        """Transmit `message`; raise DeliveryError (never with the password) on any failure."""
        st = self.settings
        if not recipients:
            raise ConfigError("an email has no recipients: set [email] recipients or "
                              "recipients in the pair's [[pairs]] table.")
        if st.username and st.password is None:
            raise DeliveryError(f"{st.where} needs a password for user {st.username!r}: set "
                                "MONITOR_SMTP_PASSWORD in the environment (or .env). The "
                                "message stays in the outbox.")
        try:
            with self._connect() as smtp:
                if st.username and st.password is not None:
                    smtp.login(st.username, st.password.get_secret_value())
                # smtplib fixes line endings only in str messages; SMTP wants CRLF.
                data = message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
                refused = smtp.sendmail(sender, list(recipients), data)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{st.where} refused the login of {st.username!r} "
                                f"({exc.smtp_code}): check [email] username and "
                                "MONITOR_SMTP_PASSWORD. The message stays in the outbox.") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"{st.where} refused every recipient "
                                f"({', '.join(exc.recipients)}): check the recipients. The "
                                "message stays in the outbox.") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"cannot deliver email via {st.where}: {_describe(exc)}. The "
                                "message stays in the outbox and is retried later.") from None
        if refused:
            # Accepted for some recipients: retrying would send duplicates to the others.
            log.warning("%s refused some recipients: %s", st.where, ", ".join(refused))

    def _connect(self) -> smtplib.SMTP:
        st = self.settings
        if st.security == "ssl":
            return smtplib.SMTP_SSL(st.host, st.port, timeout=st.timeout_s,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(st.host, st.port, timeout=st.timeout_s)
        try:
            if st.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
        return smtp


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"the server answered {exc.smtp_code} {detail}".strip()
    if isinstance(exc, TimeoutError):
        return "no answer within the timeout ([email] timeout_s)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running and the port right?)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); check [email] security"
    return f"{type(exc).__name__}: {exc}"
