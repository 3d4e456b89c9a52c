"""Reading an inbox's mail: what is a person's message, an automatic reply or a bounce, by the
headers and content types the RFCs define; hostile or broken mail never raises."""

from __future__ import annotations

import pytest

from leadq.domain.mail_inbox import read_mail

DSN = """From: postmaster@mx.example.net
Message-ID: <d1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; Gone@Firm.example
Action: failed

Final-Recipient: rfc822; slow@firm.example
Action: delayed

--B--
"""


def test_a_reply_names_the_message_leadq_sent() -> None:
    mail = read_mail(
        b"From: Ann Lee <ANN@firm.example>\nMessage-ID: <r@firm.example>\n"
        b"References: <a@x> <leadq-k1@leadq> <leadq-k2@leadq>\n"
        b"In-Reply-To: <leadq-k2@leadq>\n\nok"
    )
    assert (mail.kind, mail.sender, mail.sender_name) == ("message", "ann@firm.example", "Ann Lee")
    assert mail.replies_to == ["leadq-k2", "leadq-k1"]


def test_only_failed_recipients_of_a_report_bounce() -> None:
    mail = read_mail(DSN.encode())
    assert mail.kind == "bounce" and mail.bounced == ["gone@firm.example"]


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "Precedence: bulk",
        "Return-Path: <>",
    ],
)
def test_automatic_mail_is_told_by_its_headers(header: str) -> None:
    mail = read_mail(f"From: a@b.example\n{header}\nSubject: anything at all\n\nx".encode())
    assert mail.kind == "auto_reply"


def test_auto_submitted_no_is_a_person() -> None:
    assert read_mail(b"From: a@b.example\nAuto-Submitted: no\n\nx").kind == "message"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe",
        b"From: =?utf-8?q?broken\n\n",
        b"From:\n\n",
        b"From: a@b.example\nDate: yesterday\n\n",
        b"Subject: " + b"x" * 100_000 + b"\n\n",
        b"Content-Type: multipart/report; report-type=delivery-status\n\nno parts",
    ],
)
def test_broken_mail_never_raises(raw: bytes) -> None:
    mail = read_mail(raw)
    assert mail.key and len(mail.key) <= 200 and (mail.subject is None or len(mail.subject) <= 300)


@pytest.mark.parametrize(
    ("body", "phone"),
    [
        ("Hello\n-- \nJan Kowalski\nNewCo sp. z o.o.\ntel. +48 601 234 567\n", "+48601234567"),
        ("Call me on +48 601 234 567 please\n", None),  # not in a signature block
        ("Hi\n-- \n+48 601 234 567 / +44 20 7946 0958\n", None),  # two numbers: which one?
        ("Hi\n-- \nmobile 601 234 567\n", None),  # national form: whose country?
        ("Hi\n-- \n+1 23\n", None),
    ],
)
def test_a_signature_phone_is_read_only_when_it_reads_reliably(
    body: str, phone: str | None
) -> None:
    raw = f"From: jan@newco.example\nContent-Type: text/plain; charset=utf-8\n\n{body}".encode()
    assert read_mail(raw).phone == phone
