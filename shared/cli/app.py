"""The ``roofline`` command line.

A subcommand imports the heavy parts it runs (the supervisor and embedded servers, the Kafka and
PostgreSQL clients, the relay, the policy engine) when it runs: importing them all up front made
every invocation, ``roofline token`` included, take 1.3 s instead of 0.3 s. What is cheap is
imported here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar, cast

import typer

from shared.cli.policy import app as policy_app
from shared.cli.suites import SuiteChoiceNeeded, not_found_message
from shared.cli.timeparse import parse_since
from shared.platform.settings import SERVICES, load_settings

T = TypeVar("T")

app = typer.Typer(
    help="Roofline: run the suite, mint tokens, operate the outbox, work on policies.",
    no_args_is_help=True,
)
DATA_DIR_HELP = (
    "Data directory of the running suite (ROOFLINE_DATA_DIR). Default: .roofline if a suite runs "
    "there, else the one suite `roofline up` registered."
)


def located(call: Callable[[], T]) -> T:
    """Run ``call``; several running suites and none chosen: say which, exit 2."""

    try:
        return call()
    except SuiteChoiceNeeded as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


outbox_app = typer.Typer(help="Operate a service's transactional outbox.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(policy_app, name="policy")


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User id (the token's subject).")],
    tenant: Annotated[str, typer.Option(help="Tenant the user works for.")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    hours: Annotated[float, typer.Option(help="Lifetime in hours.")] = 12.0,
) -> None:
    """Mint a development bearer token signed with ROOFLINE_JWT_SECRET."""
    from shared.platform.http.auth import mint_token

    try:
        value = mint_token(
            load_settings(), user=user, tenant=tenant, roles=role, ttl=timedelta(hours=hours)
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(value)


@outbox_app.command("replay")
def outbox_replay(
    service: Annotated[str, typer.Option(help=f"One of: {', '.join(SERVICES)}.")],
    since: Annotated[str, typer.Option(help="ISO time, or a duration ago such as 2h or 7d.")],
    until: Annotated[
        str | None, typer.Option(help="ISO time or duration ago; default now.")
    ] = None,
    data_dir: Annotated[str | None, typer.Option(help=DATA_DIR_HELP)] = None,
) -> None:
    """Re-publish events the service already sent (e.g. after the broker lost its log).

    Rows created in [since, until) are queued again, in their original order; the service's relay
    publishes them. Consumers' inboxes make the copies harmless.
    """
    from shared.platform.messaging.relay import replay_outbox

    try:
        start = parse_since(since)
        end = parse_since(until) if until else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    import asyncpg

    from shared.cli.supervisor import cli_settings, data_root, suite_running

    settings = located(lambda: cli_settings(service, data_dir))
    try:
        count = asyncio.run(replay_outbox(settings, start, end))
    except asyncpg.UndefinedTableError as exc:
        typer.echo(
            f"error: no outbox table in schema {settings.schema_name!r}: is {service!r} the "
            "right service, and has it been migrated?",
            err=True,
        )
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.echo(f"error: cannot reach the database of {service}: {exc}", err=True)
        if not suite_running(data_dir):
            typer.echo(not_found_message(data_dir, data_root(data_dir)), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{service}: {count} event(s) queued for re-publication since {start.isoformat()}")


@app.command()
def up(
    data_dir: Annotated[
        str | None, typer.Option(help="Where data lives (ROOFLINE_DATA_DIR).")
    ] = None,
    broker: Annotated[
        str,
        typer.Option(
            help="tansu: the embedded memory-only broker (light default); kafka: a local Apache "
            "Kafka cluster from Maven Central (needs Java and Maven), topics replicated 3 ways, "
            "min.insync.replicas=2, the idempotent producer on."
        ),
    ] = "tansu",
    brokers: Annotated[
        int, typer.Option(min=1, max=5, help="Brokers in the local Kafka cluster.")
    ] = 3,
    replicas: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SERVICE=N",
            help="Run N processes of SERVICE in its one consumer group (scale-out); repeat for "
            "several services. More replicas than partitions leaves some idle.",
        ),
    ] = None,
) -> None:
    """Run the suite on the embedded default servers until Ctrl-C."""
    from shared.cli.supervisor import BROKERS, parse_replicas, run_up

    if broker not in BROKERS:
        typer.echo(f"error: --broker must be one of {', '.join(BROKERS)}", err=True)
        raise typer.Exit(2)
    try:
        scale = parse_replicas(replicas or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--replicas") from exc
    raise typer.Exit(run_up(data_dir, broker=broker, brokers=brokers, replicas=scale))


@app.command()
def events(
    service: Annotated[
        list[str] | None, typer.Option(help="Only this service's events; repeat for several.")
    ] = None,
    from_beginning: Annotated[bool, typer.Option(help="Replay what the topics hold.")] = False,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events.")] = None,
    limit: Annotated[int, typer.Option(help="Stop after this many events (0: follow).")] = 0,
    data_dir: Annotated[str | None, typer.Option(help=DATA_DIR_HELP)] = None,
) -> None:
    """Watch the events the services publish: one line per event, in the order they happened
    across services (--from-beginning: what the topics hold first, merged by time)."""
    from shared.cli.supervisor import data_root
    from shared.cli.watch import find_suite, watch_events

    names = service or list(SERVICES)
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise typer.BadParameter(f"unknown service(s): {', '.join(sorted(unknown))}")
    suite = located(lambda: find_suite(data_dir))
    if not suite.found and "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        typer.echo(not_found_message(data_dir, data_root(data_dir)), err=True)
        typer.echo("(or name a broker with ROOFLINE_KAFKA_BOOTSTRAP_SERVERS)", err=True)
        raise typer.Exit(1)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            watch_events(
                names,
                from_beginning=from_beginning,
                limit=limit,
                tenant=tenant,
                data_dir=data_dir,
                echo=typer.echo,
            )
        )


@app.command("status")
def status_command(
    data_dir: Annotated[str | None, typer.Option(help=DATA_DIR_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What `roofline up` runs and whether it is healthy; exits 0 only when all five are ready."""
    from shared.cli.supervisor import status

    code, report = located(lambda: status(data_dir))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    elif not report.get("running"):
        typer.echo(str(report["message"]))
    else:
        typer.echo(f"data      {report['data_dir']}")
        typer.echo(f"kafka     {report['kafka_bootstrap_servers']}")
        broker = cast(dict[str, Any], report.get("broker") or {})
        for node in broker.get("brokers", []):
            name = f"{broker['kind']} broker {node['node_id']}"
            typer.echo(f"  {name:<16} {node['address']:<21} {node['state']}")
        typer.echo(f"database  {report['database_url']}")
        mail = cast(dict[str, Any], report.get("mail") or {})
        if mail.get("kind") == "sink":
            typer.echo(
                f"mail      {mail['smtp']:<21} {mail['state']}, local sink: {mail['emails']} "
                f"email(s) in {mail['folder']} (`roofline mail`)"
            )
        elif mail:
            typer.echo(f"mail      {mail['smtp']:<21} {mail['state']}, ROOFLINE_SMTP_*")
        services = cast(list[dict[str, str]], report["services"])
        for service in services:
            replica = int(service.get("replica", 1))
            label = service["name"] if replica == 1 else f"{service['name']}#{replica}"
            typer.echo(f"{label:<12} {service['url']:<24} {service['state']}")
    raise typer.Exit(code)


@app.command("mail")
def mail_command(
    show: Annotated[
        int | None,
        typer.Option(metavar="N", min=1, help="Print email N in full: headers and text, decoded."),
    ] = None,
    to: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only email delivered to ADDRESS.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    data_dir: Annotated[str | None, typer.Option(help=DATA_DIR_HELP)] = None,
) -> None:
    """The email the services sent, as `roofline up`'s local SMTP sink received it: one line per
    email, oldest first (number, time received in UTC, to, subject)."""
    from pathlib import Path

    from shared.cli.mail_sink import read_mailbox
    from shared.cli.suites import read_state
    from shared.cli.supervisor import suite_root

    root = located(lambda: suite_root(data_dir))
    state = read_state(root)
    if state is None:
        typer.echo(not_found_message(data_dir, root), err=True)
        raise typer.Exit(1)
    mail = cast(dict[str, Any], state.get("mail") or {})
    if mail.get("kind") != "sink":
        where = f"to {mail['smtp']} (ROOFLINE_SMTP_*)" if mail.get("smtp") else "elsewhere"
        typer.echo(
            f"error: the suite in {root} hands email {where}, not to a local sink: look there. "
            "`roofline up` starts the sink when no ROOFLINE_SMTP_HOST/_PORT is set.",
            err=True,
        )
        raise typer.Exit(1)
    folder = Path(mail["folder"])
    emails = read_mailbox(folder)
    arrived = len(emails)
    if to:
        emails = [email for email in emails if email.is_to(to)]
    if show is not None:
        chosen = next((email for email in emails if email.number == show), None)
        if chosen is None:
            found = (
                f"no email {show} to {to}: {len(emails)} of the {arrived} that arrived are; "
                f"`roofline mail --to {to}` lists them"
                if to
                else f"no email {show}: {arrived} have arrived; `roofline mail` lists them"
            )
            typer.echo(f"error: {found}", err=True)
            raise typer.Exit(2)
        if as_json:
            full = {
                **chosen.summary(),
                "envelope_from": chosen.envelope_from,
                "headers": [list(header) for header in chosen.headers()],
                "text": chosen.text(),
                "attachments": chosen.attachments(),
            }
            typer.echo(json.dumps(full, indent=2))
            return
        typer.echo(f"Email {chosen.number} of {arrived}, received {_utc(chosen.received_at)}")
        typer.echo(f"File: {chosen.path}")
        typer.echo(f"Envelope-From: {chosen.envelope_from}")
        typer.echo(f"Envelope-To: {', '.join(chosen.recipients)}")
        for name, value in chosen.headers():
            typer.echo(f"{name}: {value}")
        for attachment in chosen.attachments():
            typer.echo(f"Attachment: {attachment}")
        typer.echo("")
        typer.echo(chosen.text().rstrip("\n"))
        return
    if as_json:
        typer.echo(json.dumps([email.summary() for email in emails], indent=2))
        return
    if not emails:
        if arrived:
            typer.echo(f"No email to {to} among the {arrived} that arrived.")
        else:
            typer.echo(
                f"No email has arrived yet. The services hand it to the local SMTP sink at "
                f"{mail['smtp']}, which keeps each message in {folder}. Email goes to the "
                "people in messaging's directory (PUT /people) whose role a notify or escalate "
                "names, such as the trade manager at a metal job's hand-off."
            )
        return
    for email in emails:
        recipients = ", ".join(email.recipients)
        typer.echo(
            f"{email.number:>3}  {_utc(email.received_at)}  {recipients:<28}  {email.subject}"
        )


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
