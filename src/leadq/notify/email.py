"""E-mail over SMTP (host, port, TLS and credentials from settings). The message id is derived
from the outbox idempotency key, so a redelivered message is recognisably the same one. The
subject and body come written in the workspace language (``settings.locale``), which the
message declares; non-ASCII text is encoded as MIME requires (RFC 2047 headers, UTF-8 body)."""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.message import EmailMessage

from leadq.config import Settings
from leadq.notify.webhook import DeliveryError

HEADERS_WHOLE = policy.SMTP.clone(max_line_length=998)
"""RFC 5322's own line limit: a long List-Unsubscribe address stays one readable header (the
default 78 would encode it as an RFC 2047 word no mail client follows)."""


def send(settings: Settings, to: str, subject: str, body: str, key: str, timeout: float,
         html: str | None = None, headers: dict[str, str] | None = None) -> None:  # fmt: skip
    """One message; ``html`` adds an HTML alternative, ``headers`` more headers (a list's
    unsubscribe)."""
    message = EmailMessage(policy=HEADERS_WHOLE)
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message["Message-ID"] = f"<{key}@leadq>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    message["Content-Language"] = settings.locale  # after the content, which resets Content-*
    try:
        if settings.smtp_tls == "ssl":
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise DeliveryError(f"SMTP {where}: {type(exc).__name__}: {exc}") from None
