"""``roofline up``'s local SMTP sink, and reading what it kept (``roofline mail``).

The sink is an aiosmtpd server (its ``Controller``: a thread with its own event loop, inside the
supervisor's process, so it stops with the suite) on 127.0.0.1 and a free port. It accepts every
message for any recipient and relays nothing. Each message becomes one file in the mail folder
(``<data dir>/mail/``), named by arrival so the names sort oldest first: the UTC time, then a
counter that continues from the files already there::

    20250102T123456.789012Z-000007.eml

The file is the message exactly as received, under three lines the sink puts on top (as a mail
server adds ``Return-Path``), so any mail program opens it and the envelope is not lost::

    X-Roofline-Received-At: 2025-01-02T12:34:56.789012+00:00
    X-Roofline-Envelope-From: roofline@localhost
    X-Roofline-Envelope-To: tina@metal.example

It is written under a temporary name and renamed, so a reader never sees half a message. The
files are kept between runs, like the database; delete the folder to start empty.

Reading needs no aiosmtpd: ``read_mailbox`` parses the folder with the standard ``email``
package.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.cli.embedded import free_port

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

RECEIVED_AT = "X-Roofline-Received-At"
ENVELOPE_FROM = "X-Roofline-Envelope-From"
ENVELOPE_TO = "X-Roofline-Envelope-To"
SUFFIX = ".eml"
_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-(\d+)\.eml$")


def _one_line(value: str) -> str:
    """Envelope addresses come from SMTP command lines; never let one break a header."""
    return " ".join(value.split())


class MaildirHandler:
    """The aiosmtpd handler: ``handle_DATA`` stores each accepted message in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        numbers = (_NAME.match(path.name) for path in self.folder.iterdir())
        self.counter = max((int(match.group(1)) for match in numbers if match), default=0)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or b""
        # The message's own line ending for the added lines (aiosmtpd keeps what was sent).
        first_line = content.split(b"\n", 1)[0]
        ending = b"\r\n" if first_line.endswith(b"\r") or not content else b"\n"
        received = datetime.now(UTC)
        added = [
            f"{RECEIVED_AT}: {received.isoformat()}",
            f"{ENVELOPE_FROM}: {_one_line(envelope.mail_from or '') or '<>'}",
            f"{ENVELOPE_TO}: {', '.join(_one_line(r) for r in envelope.rcpt_tos)}",
        ]
        data = b"".join(line.encode("utf-8") + ending for line in added) + content
        self.counter += 1  # handle_DATA runs on the controller's one event loop: no race
        name = f"{received:%Y%m%dT%H%M%S.%f}Z-{self.counter:06d}{SUFFIX}"
        temporary = self.folder / f".{name}.tmp"
        try:
            temporary.write_bytes(data)
            temporary.replace(self.folder / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            # Temporary: the sender keeps the message and tries again later.
            return f"451 4.3.0 Could not store the message: {exc.strerror or exc}"
        return "250 OK: kept in the local sink"


class MailSink:
    """An SMTP server on ``host:port`` keeping every message it accepts in ``folder``."""

    START_ATTEMPTS = 3  # a free port taken by someone else before we bind it: pick another

    def __init__(self, folder: Path, port: int | None = None, *, host: str = "127.0.0.1") -> None:
        self.folder = Path(folder).resolve()
        self.host = host
        self.port = port or 0  # 0 until started: a free port then
        self.handler = MaildirHandler(self.folder)
        self._controller: Controller | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        chosen = self.port  # given by the caller: that one or an error
        for attempt in range(1, self.START_ATTEMPTS + 1):
            port = chosen or free_port(self.host)
            controller = Controller(
                self.handler,
                hostname=self.host,
                port=port,
                server_hostname="roofline-mail-sink",  # not socket.getfqdn(): a DNS lookup
                # A port someone took first is reported only when this has passed (aiosmtpd).
                ready_timeout=10,
                enable_SMTPUTF8=True,
            )
            try:
                controller.start()
            except OSError:
                with contextlib.suppress(Exception):
                    controller.stop(no_assert=True)
                with contextlib.suppress(Exception):
                    controller.loop.close()
                if chosen or attempt == self.START_ATTEMPTS:
                    raise
                continue
            self._controller = controller
            self.port = port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None


# -- reading the folder -----------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivedEmail:
    number: int  # 1 for the oldest file in the folder
    path: Path
    message: EmailMessage

    @property
    def received_at(self) -> datetime:
        try:
            moment = datetime.fromisoformat(str(self.message[RECEIVED_AT]).strip())
        except ValueError:
            moment = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @property
    def envelope_from(self) -> str:
        return str(self.message[ENVELOPE_FROM] or "").strip()

    @property
    def recipients(self) -> list[str]:
        """Who the message was delivered to: the envelope (Bcc included), else To and Cc."""
        envelope = self.message[ENVELOPE_TO]
        if envelope is not None:
            return [part.strip() for part in str(envelope).split(",") if part.strip()]
        headers = [str(value) for name in ("To", "Cc") for value in self.message.get_all(name, [])]
        return [address for _, address in getaddresses(headers) if address]

    @property
    def sender(self) -> str:
        return str(self.message["From"] or "") or self.envelope_from

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def is_to(self, address: str) -> bool:
        wanted = (parseaddr(address)[1] or address).strip().lower()
        return any(recipient.lower() == wanted for recipient in self.recipients)

    def summary(self) -> dict[str, object]:
        return {
            "number": self.number,
            "received_at": self.received_at.isoformat(),
            "from": self.sender,
            "to": self.recipients,
            "subject": self.subject,
            "file": str(self.path),
        }

    def headers(self) -> list[tuple[str, str]]:
        """The message's own headers, decoded (RFC 2047), without the sink's envelope lines."""
        ours = {RECEIVED_AT.lower(), ENVELOPE_FROM.lower(), ENVELOPE_TO.lower()}
        return [
            (name, str(value)) for name, value in self.message.items() if name.lower() not in ours
        ]

    def text(self) -> str:
        """The plain-text body, decoded; else the HTML as sent; else a note saying there is none."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        if body is None:
            return "(no text part)"
        assert isinstance(body, EmailMessage)
        try:
            content = body.get_content()
        except (LookupError, ValueError) as exc:  # an unknown charset, a broken encoding
            return f"(the text part could not be decoded: {exc})"
        text = str(content).replace("\r\n", "\n")  # SMTP's line endings, not the reader's
        if body.get_content_subtype() == "html":
            return f"(HTML only, as sent)\n{text}"
        return text

    def attachments(self) -> list[str]:
        found: list[str] = []
        for part in self.message.iter_attachments():
            assert isinstance(part, EmailMessage)
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            name = part.get_filename() or "(unnamed)"
            found.append(f"{name} ({part.get_content_type()}, {size} bytes)")
        return found


def read_mailbox(folder: Path) -> list[ArrivedEmail]:
    """Every message in ``folder``, oldest first, numbered from 1; none if it does not exist."""
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    paths = sorted(path for path in folder.iterdir() if path.name.endswith(SUFFIX))
    emails: list[ArrivedEmail] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # removed while we read
        message = parser.parsebytes(data)
        assert isinstance(message, EmailMessage)
        emails.append(ArrivedEmail(len(emails) + 1, path, message))
    return emails


def count_mailbox(folder: Path) -> int:
    with contextlib.suppress(OSError):
        return sum(1 for name in os.listdir(folder) if name.endswith(SUFFIX))
    return 0
