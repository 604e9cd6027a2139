"""`roofline up`'s local SMTP sink and `roofline mail`: real SMTP over 127.0.0.1, no mocks.

The supervisor here starts only the sink (``start_mail``) and writes its state file, as
`roofline up` does after starting PostgreSQL and the broker; the command finds it through
``--data-dir`` like every command beside the suite."""

from __future__ import annotations

import asyncio
import json
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.messaging.domain.email import OutgoingEmail
from services.messaging.links import Links
from services.messaging.mail import SmtpMailer
from shared.cli.app import app
from shared.cli.embedded import port_open
from shared.cli.mail_sink import MailSink, read_mailbox
from shared.cli.supervisor import SMTP_VARIABLES, Supervisor
from shared.platform.settings import load_settings

runner = CliRunner()


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (*SMTP_VARIABLES, "ROOFLINE_DATA_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ROOFLINE_REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.chdir(tmp_path)


def start_suite(root: Path) -> Supervisor:
    """The supervisor's mail step and state file, as `roofline up` runs them."""
    supervisor = Supervisor(root, load_settings())
    root.mkdir()
    supervisor.start_mail()
    supervisor.write_state()
    return supervisor


@pytest.fixture
def suite(tmp_path: Path, clean_env: None) -> Iterator[Supervisor]:
    supervisor = start_suite(tmp_path / "data")
    try:
        yield supervisor
    finally:
        supervisor.shutdown()


def mail(suite: Supervisor, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["mail", "--data-dir", str(suite.root), *args])
    return result.exit_code, result.output


def send(
    sink: MailSink, to: list[str], subject: str, body: str, *, header_to: str | None = None
) -> None:
    message = EmailMessage()
    message["From"] = "Roofline <roofline@localhost>"
    message["To"] = header_to or ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(message, to_addrs=to)


def test_the_sink_starts_with_the_suite_and_the_services_are_told(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = start_suite(tmp_path / "data")
    try:
        sink = suite.mail_sink
        assert sink is not None and port_open(sink.host, sink.port)
        assert f"[3/6] Mail: local SMTP sink on {sink.address}" in capsys.readouterr().out
        env = suite.service_env()
        assert (env["ROOFLINE_SMTP_HOST"], env["ROOFLINE_SMTP_PORT"]) == (
            "127.0.0.1",
            str(sink.port),
        )
        assert sink.folder == (suite.root / "mail").resolve()
        state = json.loads((suite.root / "state.json").read_text())
        assert state["mail"] == {"kind": "sink", "smtp": sink.address, "folder": str(sink.folder)}
    finally:
        suite.shutdown()


def test_nothing_arrived_yet_says_so(suite: Supervisor) -> None:
    code, output = mail(suite)
    assert code == 0
    assert output.startswith("No email has arrived yet.")
    assert suite.mail_sink is not None and suite.mail_sink.address in output
    code, output = mail(suite, "--json")
    assert (code, json.loads(output)) == (0, [])


def test_mail_lists_shows_and_filters_what_arrived(suite: Supervisor) -> None:
    sink = suite.mail_sink
    assert sink is not None
    # What the messaging service's own mailer sends, through the env the suite gives it.
    env = suite.service_env()
    settings = load_settings(
        "messaging", smtp_host=env["ROOFLINE_SMTP_HOST"], smtp_port=env["ROOFLINE_SMTP_PORT"]
    )
    mailer = SmtpMailer(settings, Links("key", settings.public_url))
    handoff = OutgoingEmail(
        email_id="e-1",
        tenant_id="acme",
        to_user="tina",
        to_address="tina@metal.example",
        subject="[Roofline] Übergabe: metal hand-off on job j-7",
        body="Tina, the metal job j-7 is yours — 3 squares of standing seam.\n\n(metal_handoff)",
    )
    asyncio.run(mailer.send(handoff))
    # Two recipients, one of them only in the envelope (a Bcc).
    send(
        sink,
        ["pat@acme.example", "ivan@acme.example"],
        "Escalate: crew late",
        "Nobody on site by 9.",
        header_to="pat@acme.example",
    )

    code, output = mail(suite)
    assert code == 0, output
    lines = output.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "1" and "tina@metal.example" in lines[0]
    assert lines[0].endswith("[Roofline] Übergabe: metal hand-off on job j-7")
    assert lines[1].split()[0] == "2" and "pat@acme.example, ivan@acme.example" in lines[1]

    code, output = mail(suite, "--show", "1")
    assert code == 0, output
    assert "Subject: [Roofline] Übergabe: metal hand-off on job j-7" in output
    assert "To: tina@metal.example" in output
    assert "Message-ID: <e-1@roofline>" in output
    assert "Envelope-From: roofline@localhost" in output
    assert "the metal job j-7 is yours — 3 squares of standing seam." in output
    assert "X-Roofline" not in output

    code, output = mail(suite, "--json")
    assert code == 0, output
    listed = json.loads(output)
    assert [e["number"] for e in listed] == [1, 2]
    assert listed[0]["to"] == ["tina@metal.example"]
    assert listed[0]["from"] == "Roofline <roofline@localhost>"
    assert listed[1]["to"] == ["pat@acme.example", "ivan@acme.example"]
    assert listed[1]["subject"] == "Escalate: crew late"
    assert Path(listed[0]["file"]).parent == sink.folder
    assert listed[0]["received_at"] <= listed[1]["received_at"]

    # The Bcc'd recipient got it; numbers stay those of the whole list.
    code, output = mail(suite, "--to", "Ivan <IVAN@acme.example>")
    assert code == 0 and output.splitlines() == [lines[1]]
    code, output = mail(suite, "--to", "tina@metal.example", "--json")
    assert [e["number"] for e in json.loads(output)] == [1]
    code, output = mail(suite, "--to", "nobody@acme.example")
    assert (code, output.strip()) == (
        0,
        "No email to nobody@acme.example among the 2 that arrived.",
    )

    code, output = mail(suite, "--show", "2", "--json")
    shown = json.loads(output)
    assert shown["text"] == "Nobody on site by 9.\n"
    assert shown["envelope_from"] == "roofline@localhost"
    code, output = mail(suite, "--show", "3")
    assert code == 2 and "no email 3: 2 have arrived" in output
    code, output = mail(suite, "--show", "2", "--to", "tina@metal.example")
    assert code == 2 and "no email 2 to tina@metal.example: 1 of the 2" in output


def test_status_shows_the_sink_and_what_it_kept(suite: Supervisor) -> None:
    assert suite.mail_sink is not None
    send(suite.mail_sink, ["tina@metal.example"], "one", "body")
    result = runner.invoke(app, ["status", "--json", "--data-dir", str(suite.root)])
    report = json.loads(result.output)
    assert report["mail"]["kind"] == "sink"
    assert (report["mail"]["state"], report["mail"]["emails"]) == ("running", 1)
    text = runner.invoke(app, ["status", "--data-dir", str(suite.root)]).output
    assert f"mail      {suite.mail_sink.address}" in text and "1 email(s)" in text


def test_the_sink_stops_with_the_suite(suite: Supervisor) -> None:
    sink = suite.mail_sink
    assert sink is not None
    suite.shutdown()
    assert not port_open(sink.host, sink.port)
    code, output = mail(suite)
    assert code == 1 and "roofline is not running" in output
    suite.mail_sink = None  # the fixture's shutdown: nothing left to stop


def test_a_restarted_sink_numbers_on_after_what_is_kept(tmp_path: Path) -> None:
    first = MailSink(tmp_path / "mail").start()
    try:
        send(first, ["a@acme.example"], "first", "1")
        send(first, ["a@acme.example"], "second", "2")
    finally:
        first.stop()
    again = MailSink(tmp_path / "mail").start()
    try:
        send(again, ["a@acme.example"], "third", "3")
    finally:
        again.stop()
    emails = read_mailbox(tmp_path / "mail")
    assert [e.subject for e in emails] == ["first", "second", "third"]
    assert [e.path.name[-10:] for e in emails] == ["000001.eml", "000002.eml", "000003.eml"]
    assert [e.number for e in emails] == [1, 2, 3]


def test_a_configured_smtp_server_is_used_instead(
    tmp_path: Path,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROOFLINE_SMTP_HOST", "mail.acme.example")
    monkeypatch.setenv("ROOFLINE_SMTP_PORT", "2525")
    supervisor = start_suite(tmp_path / "data")
    try:
        assert supervisor.mail_sink is None
        assert "[3/6] Mail: using ROOFLINE_SMTP_* (mail.acme.example:2525)" in (
            capsys.readouterr().out
        )
        assert supervisor.service_env()["ROOFLINE_SMTP_HOST"] == "mail.acme.example"
        code, output = mail(supervisor)
        assert code == 1
        assert "hands email to mail.acme.example:2525 (ROOFLINE_SMTP_*)" in output
    finally:
        supervisor.shutdown()
