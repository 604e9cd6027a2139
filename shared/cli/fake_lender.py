"""A fake lender: a Hearth-like financing API on real HTTP, for the tests and ``roofline up``.

It stands in for the lender billing's ``HttpLender`` (``services/billing/adapters/lender.py``)
calls, and checks what it is sent as the real one would: the API key (``Authorization: Bearer
<key>``, else 401), an amount that is a positive decimal string with two places (a JSON number is
refused: money never travels as a float), a reference, the applicant's name and an email or a
phone (else 422, naming the field).

    POST /v1/applications                              open one: pending, with its applicant link
    GET  /v1/applications/{id}                         the application, its status and offers
    POST /v1/applications/{id}/offers/{offer}/select   the customer's choice (409 unless qualified)
    POST /v1/applications/{id}/fund                    the lender sends its check (a test's hook)
    GET  /apply/{id}                                   the applicant's page
    POST /apply/{id}                                   the applicant completes it: qualified or not
    POST /apply/{id}/offers/{offer}                    the applicant chooses an offer on the page

The rule it qualifies by: an amount up to ``QUALIFYING_LIMIT`` ($25,000.00) qualifies, anything
above does not. A qualified applicant is offered one loan per ``TERMS`` (12 months at 0% APR, 60
at 7.99%, 120 at 9.99%) of the whole amount, the monthly payment amortized exactly in Decimal and
rounded half up to the cent.

The server is the standard library's threading HTTP server, in a daemon thread of the process
that starts it; it keeps its applications in memory.
"""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shared.cli.embedded import free_port

QUALIFYING_LIMIT = Decimal("25000.00")
TERMS: tuple[tuple[int, Decimal], ...] = (
    (12, Decimal("0.00")),
    (60, Decimal("7.99")),
    (120, Decimal("9.99")),
)
CENT = Decimal("0.01")
AMOUNT = re.compile(r"^\d{1,10}\.\d{2}$")
DEV_LENDER_KEY = "roofline-development-lender-key"


def monthly_payment(amount: Decimal, apr: Decimal, months: int) -> Decimal:
    """The amortized monthly payment, to the cent (half up): amount * r / (1 - (1 + r)^-n)."""
    if apr == 0:
        return (amount / months).quantize(CENT, rounding=ROUND_HALF_UP)
    with localcontext() as context:
        context.prec = 34
        rate = apr / Decimal(1200)
        payment = amount * rate / (1 - (1 + rate) ** -months)
    return payment.quantize(CENT, rounding=ROUND_HALF_UP)


def offers_for(amount: Decimal) -> list[dict[str, Any]]:
    return [
        {
            "id": f"offer-{months}m",
            "amount": str(amount),
            "apr": str(apr),
            "term_months": months,
            "monthly_payment": str(monthly_payment(amount, apr, months)),
        }
        for months, apr in TERMS
    ]


class Refused(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


@dataclass
class FakeLender:
    """The server: ``start()`` it, give billing its ``url`` and ``api_key``; ``applications``
    is what it holds, ``received`` every API request's method, path and JSON body."""

    api_key: str = DEV_LENDER_KEY
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free one, when started
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[tuple[str, str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeLender:
        lender = self

        class Handler(_Handler):
            fake = lender

        self.port = self.port or free_port(self.host)
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-lender", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what the API does -----------------------------------------------------------------------

    def open(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise Refused(422, "the body must be a JSON object")
        amount = body.get("amount")
        if not isinstance(amount, str) or not AMOUNT.match(amount) or Decimal(amount) <= 0:
            raise Refused(422, "amount must be a positive decimal string (1234.50)", "amount")
        reference = body.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            raise Refused(422, "reference is required", "reference")
        applicant = body.get("applicant")
        if not isinstance(applicant, dict):
            raise Refused(422, "applicant must be an object", "applicant")
        name = applicant.get("name")
        if not isinstance(name, str) or not name.strip():
            raise Refused(422, "the applicant's name is required", "applicant.name")
        if not any(isinstance(applicant.get(k), str) and applicant[k] for k in ("email", "phone")):
            raise Refused(422, "an email or a phone is required", "applicant.email")
        with self._lock:
            if any(a["reference"] == reference for a in self.applications.values()):
                raise Refused(409, f"an application with reference {reference} exists")
            application_id = f"app_{uuid.uuid4().hex[:16]}"
            application: dict[str, Any] = {
                "id": application_id,
                "status": "pending",
                "amount": amount,
                "reference": reference,
                "applicant": {k: applicant.get(k) for k in ("name", "email", "phone")},
                "applicant_url": f"{self.url}/apply/{application_id}",
                "offers": [],
                "selected_offer_id": None,
            }
            self.applications[application_id] = application
            return dict(application)

    def get(self, application_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._application(application_id))

    def complete(self, application_id: str) -> dict[str, Any]:
        """The applicant completed their information: qualified (with offers) or not."""
        with self._lock:
            application = self._application(application_id)
            if application["status"] == "pending":
                amount = Decimal(application["amount"])
                if amount <= QUALIFYING_LIMIT:
                    application.update(status="qualified", offers=offers_for(amount))
                else:
                    application["status"] = "not_qualified"
            return dict(application)

    def select(self, application_id: str, offer_id: str) -> dict[str, Any]:
        with self._lock:
            application = self._application(application_id)
            if application["status"] not in ("qualified", "offer_selected"):
                raise Refused(409, f"the application is {application['status']}")
            if not any(o["id"] == offer_id for o in application["offers"]):
                raise Refused(404, f"no offer {offer_id}")
            application.update(status="offer_selected", selected_offer_id=offer_id)
            return dict(application)

    def fund(self, application_id: str) -> dict[str, Any]:
        with self._lock:
            application = self._application(application_id)
            if application["status"] != "offer_selected":
                raise Refused(409, f"the application is {application['status']}")
            application["status"] = "funded"
            return dict(application)

    def _application(self, application_id: str) -> dict[str, Any]:
        application = self.applications.get(application_id)
        if application is None:
            raise Refused(404, f"no application {application_id}")
        return application

    def page(self, application_id: str) -> str:
        """The applicant's page: complete the application, then choose an offer."""
        application = self.get(application_id)
        amount = html.escape(application["amount"])
        parts = [f"<h1>Finance ${amount}</h1><p>Status: {application['status']}</p>"]
        if application["status"] == "pending":
            parts.append(
                f'<form method="post" action="/apply/{application_id}">'
                "<button>Complete my application</button></form>"
            )
        for offer in application["offers"]:
            parts.append(
                f'<form method="post" action="/apply/{application_id}/offers/{offer["id"]}">'
                f"{offer['term_months']} months at {offer['apr']}% APR: "
                f"${offer['monthly_payment']} a month <button>Choose</button></form>"
            )
        return "<html><body>" + "".join(parts) + "</body></html>"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLender

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``received``."""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        try:
            if parts[:1] == ["apply"] and len(parts) >= 2:
                self._applicant(method, parts[1:])
                return
            body = self._body()
            self.fake.received.append((method, self.path, body))
            if self.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
                raise Refused(401, "missing or wrong API key")
            self._json(*self._api(method, parts, body))
        except Refused as refused:
            self._json(refused.status, {"detail": refused.detail, "field": refused.field})

    def _api(self, method: str, parts: list[str], body: Any) -> tuple[int, dict[str, Any]]:
        if parts[:2] != ["v1", "applications"]:
            raise Refused(404, f"no route {self.path}")
        rest = parts[2:]
        if method == "POST" and not rest:
            return 201, self.fake.open(body)
        if method == "GET" and len(rest) == 1:
            return 200, self.fake.get(rest[0])
        if method == "POST" and len(rest) == 4 and rest[1] == "offers" and rest[3] == "select":
            return 200, self.fake.select(rest[0], rest[2])
        if method == "POST" and len(rest) == 2 and rest[1] == "fund":
            return 200, self.fake.fund(rest[0])
        raise Refused(404, f"no route {method} {self.path}")

    def _applicant(self, method: str, rest: list[str]) -> None:
        if method == "POST" and len(rest) == 1:
            self.fake.complete(rest[0])
        elif method == "POST" and len(rest) == 3 and rest[1] == "offers":
            self.fake.select(rest[0], rest[2])
        elif method != "GET" or len(rest) != 1:
            raise Refused(404, f"no route {method} {self.path}")
        page = self.fake.page(rest[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            # Numbers as Decimal: a float amount is then seen, and refused, for what it is.
            return json.loads(self.rfile.read(length), parse_float=Decimal)
        except ValueError as exc:
            raise Refused(400, f"the body is not JSON: {exc}") from exc

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
