"""A stand-in for QuickBooks Online: a real HTTP server on a free 127.0.0.1 port (a thread) that
takes what billing's accounting export sends and checks it as QuickBooks would.

- ``POST /v3/company/{realm}/{customer|invoice|salesreceipt|payment}?requestid=&minorversion=``
  with ``Authorization: Bearer <token>`` and a JSON body. Each entity's shape is checked: the
  required fields, a customer's unique DisplayName, lines of ``SalesItemLineDetail`` with an
  ItemRef, Amount = Qty x UnitPrice when both are given, amounts in whole cents (a float's
  0.30000000000000004 is refused), a CustomerRef to a customer it has, a payment's lines linking
  invoices of its customer, never applying more than their balance or than its TotalAmt.
  Answers as QuickBooks does: ``{"Invoice": {..., "Id": "12"}, "time": ...}``, or a fault
  ``{"Fault": {"Error": [{"Message", "Detail", "code"}], "type": "ValidationFault"}}``.
- A requestid it has seen succeed is refused ("Duplicate request"), where QuickBooks would
  replay its first answer: the exporter must recognise the repeat and look the entity up.
- ``GET /v3/company/{realm}/query?query=SELECT * FROM Invoice WHERE DocNumber = 'X' AND ...``:
  equality conditions joined by AND (a ``Ref`` field compares its ``value``).
- ``fail_next(n)``: the next n requests (of one entity, if named) are answered 503;
  ``lose_next(n)``: the next n creates are done, then the connection is dropped unanswered (a
  lost response).

Amounts are read and written as ``Decimal``; nothing passes through a float.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from services.billing.adapters.quickbooks import encode_json
from shared.cli.embedded import free_port

ENTITIES = {"customer": "Customer", "invoice": "Invoice", "salesreceipt": "SalesReceipt"}
ENTITIES["payment"] = "Payment"
CENT = Decimal("0.01")
_QUERY = re.compile(r"^\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+(.+?))?\s*$", re.I | re.S)
_CONDITION = re.compile(r"^\s*(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$", re.S)


class Fault(Exception):
    def __init__(self, message: str, detail: str, code: str, status: int = 400) -> None:
        super().__init__(f"{message}: {detail}")
        self.body = {
            "Fault": {
                "Error": [{"Message": message, "Detail": detail, "code": code}],
                "type": "ValidationFault" if status == 400 else "SystemFault",
            },
            "time": _now(),
        }
        self.status = status


@dataclass
class Seen:
    """A request as it arrived (``body`` as sent, for checks on the raw JSON)."""

    method: str
    entity: str | None
    request_id: str | None
    minor_version: str | None
    body: str
    status: int = 0


@dataclass
class State:
    entities: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in ENTITIES.values()}
    )
    request_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    fail: list[tuple[str | None, int]] = field(default_factory=list)
    lose: list[str | None] = field(default_factory=list)
    next_id: int = 1


class QuickBooksStandIn:
    def __init__(self, *, realm_id: str = "9130355555555555", token: str = "qbo-test-token"):
        self.realm_id = realm_id
        self.token = token
        self.state = State()
        self.lock = threading.Lock()
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        stand_in = self

        class Handler(_Handler):
            qbo = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what a test sets up and reads ----------------------------------------------------------

    def fail_next(self, n: int, *, entity: str | None = None, status: int = 503) -> None:
        with self.lock:
            self.state.fail.extend([(entity, status)] * n)

    def lose_next(self, n: int = 1, *, entity: str | None = None) -> None:
        with self.lock:
            self.state.lose.extend([entity] * n)

    def of(self, entity: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.state.entities[entity].values()]

    def find(self, entity: str, **where: str) -> list[dict[str, Any]]:
        return [e for e in self.of(entity) if all(_field(e, k) == v for k, v in where.items())]

    def requests_for(self, request_id: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.state.requests if r.request_id == request_id]

    def rename(self, entity: str, entity_id: str, display_name: str) -> None:
        with self.lock:
            self.state.entities[entity][entity_id]["DisplayName"] = display_name

    # -- the API --------------------------------------------------------------------------------

    def create(self, entity: str, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Check and keep the entity (under the lock): its answer, or raise ``Fault``."""
        if request_id in self.state.request_ids:
            raise Fault(
                "Duplicate request",
                f"requestid {request_id} was processed before; it cannot be used again",
                "6000",
            )
        CHECKS[entity](self.state, body)
        created = {
            **body,
            "Id": str(self.state.next_id),
            "SyncToken": "0",
            "domain": "QBO",
            "MetaData": {"CreateTime": _now(), "LastUpdatedTime": _now()},
        }
        if entity in ("Invoice", "SalesReceipt"):
            total = sum((Decimal(line["Amount"]) for line in body["Line"]), Decimal("0.00"))
            created["TotalAmt"] = total
            created["Balance"] = total if entity == "Invoice" else Decimal("0.00")
        if entity == "Payment":
            applied = Decimal("0.00")
            for line in body.get("Line", []):
                for link in line["LinkedTxn"]:
                    invoice = self.state.entities["Invoice"][link["TxnId"]]
                    invoice["Balance"] = invoice["Balance"] - line["Amount"]
                applied += line["Amount"]
            created["UnappliedAmt"] = body["TotalAmt"] - applied
        self.state.next_id += 1
        self.state.entities[entity][created["Id"]] = created
        self.state.request_ids[request_id] = (entity, created["Id"])
        return {entity: created, "time": _now()}

    def query(self, statement: str) -> dict[str, Any]:
        matched = _QUERY.match(statement)
        if not matched or matched.group(1) not in self.state.entities:
            raise Fault("Invalid query", f"cannot parse or unknown entity: {statement}", "4000")
        entity, where = matched.group(1), matched.group(2)
        conditions: list[tuple[str, str]] = []
        for part in re.split(r"\s+and\s+", where or "", flags=re.I) if where else []:
            condition = _CONDITION.match(part)
            if not condition:
                raise Fault("Invalid query", f"unsupported condition: {part}", "4000")
            value = re.sub(r"\\(.)", r"\1", condition.group(2))
            conditions.append((condition.group(1), value))
        rows = [
            e
            for e in self.state.entities[entity].values()
            if all(_field(e, name) == value for name, value in conditions)
        ]
        if not rows:
            return {"QueryResponse": {}, "time": _now()}
        return {
            "QueryResponse": {entity: rows, "startPosition": 1, "maxResults": len(rows)},
            "time": _now(),
        }


class _Handler(BaseHTTPRequestHandler):
    qbo: QuickBooksStandIn

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        return

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        qbo = self.qbo
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        prefix = f"/v3/company/{qbo.realm_id}/"
        resource = url.path[len(prefix) :] if url.path.startswith(prefix) else None
        entity = ENTITIES.get(resource or "")
        with qbo.lock:
            seen = Seen(method, entity, params.get("requestid"), params.get("minorversion"), raw)
            qbo.state.requests.append(seen)
            failing = next((f for f in qbo.state.fail if f[0] is None or f[0] == entity), None)
            if failing is not None:
                qbo.state.fail.remove(failing)
                seen.status = failing[1]
                return self._answer(
                    failing[1], Fault("Service unavailable", "try later", "503", failing[1]).body
                )
            try:
                status, answer = 200, self._handle(method, resource, entity, params, raw)
            except Fault as fault:
                status, answer = fault.status, fault.body
            seen.status = status
            losing = next((x for x in qbo.state.lose if x is None or x == entity), "none")
            if status == 200 and method == "POST" and losing != "none":
                qbo.state.lose.remove(losing)
                self.close_connection = True  # done, and the answer never arrives
                return
        self._answer(status, answer)

    def _handle(
        self,
        method: str,
        resource: str | None,
        entity: str | None,
        params: dict[str, str],
        raw: str,
    ) -> dict[str, Any]:
        qbo = self.qbo
        if self.headers.get("Authorization") != f"Bearer {qbo.token}":
            raise Fault("AuthenticationFailed", "bad or missing bearer token", "100", 401)
        if "minorversion" not in params:
            raise Fault("Missing minorversion", "minorversion is required here", "4001")
        if method == "GET" and resource == "query":
            return qbo.query(params.get("query", ""))
        if method != "POST" or entity is None:
            raise Fault("Unsupported operation", f"{method} {self.path}", "500", 404)
        if not params.get("requestid"):
            raise Fault("Missing requestid", "every create carries a requestid here", "4002")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            raise Fault("Unsupported media type", "send application/json", "4003")
        try:
            body = json.loads(raw, parse_float=Decimal, parse_int=Decimal)
        except ValueError as exc:
            raise Fault("Request has invalid or unsupported property", str(exc), "2010") from exc
        if not isinstance(body, dict):
            raise Fault("Request has invalid or unsupported property", "not an object", "2010")
        return qbo.create(entity, params["requestid"], body)

    def _answer(self, status: int, answer: dict[str, Any]) -> None:
        data = encode_json(answer)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# -- the shapes ---------------------------------------------------------------------------------


def _required(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, "", [], {}):
        raise Fault(
            "Required param missing, need to supply the required value for the API",
            f"Required parameter {name} is missing in the request",
            "2020",
        )
    return body[name]


def _money(value: Any, name: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Fault("Invalid Number", f"{name} is not a number: {value!r}", "2040")
    if value != value.quantize(CENT):
        raise Fault("Invalid Amount", f"{name} {value} has more than 2 decimal places", "2040")
    return value


def _date(body: dict[str, Any], name: str) -> None:
    value = _required(body, name)
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Fault("Invalid Date", f"{name} {value!r} is not YYYY-MM-DD", "2050") from exc


def _customer_ref(state: State, body: dict[str, Any]) -> str:
    ref = _required(body, "CustomerRef")
    value = ref.get("value") if isinstance(ref, dict) else None
    if value not in state.entities["Customer"]:
        raise Fault("Invalid Reference Id", f"Customer {value!r} does not exist", "2500")
    return str(value)


def _check_customer(state: State, body: dict[str, Any]) -> None:
    name = _required(body, "DisplayName")
    if not isinstance(name, str) or any(c in name for c in ":\t\n") or len(name) > 500:
        raise Fault("Invalid DisplayName", f"{name!r}: no colon, tab or newline", "2040")
    for other in state.entities["Customer"].values():
        if other["DisplayName"].casefold() == name.casefold():
            raise Fault(
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Another customer is using this name: "
                f"Id={other['Id']}",
                "6240",
            )
    email = (body.get("PrimaryEmailAddr") or {}).get("Address")
    if email is not None and ("@" not in email or "." not in email):
        raise Fault("Invalid Email", f"{email!r} is not an email address", "2040")
    phone = (body.get("PrimaryPhone") or {}).get("FreeFormNumber")
    if phone is not None and len(phone) > 30:
        raise Fault(
            "String length is either shorter or longer than supported by specification",
            "PrimaryPhone.FreeFormNumber: max 30",
            "2050",
        )


def _check_sale(state: State, body: dict[str, Any], entity: str) -> None:
    _customer_ref(state, body)
    _date(body, "TxnDate")
    number = body.get("DocNumber")
    if number is not None:
        if len(number) > 21:
            raise Fault(
                "String length is either shorter or longer than supported by specification",
                f"DocNumber {number!r}: max 21",
                "2050",
            )
        for other in state.entities[entity].values():
            if other.get("DocNumber") == number:
                raise Fault(
                    "Duplicate Document Number Error",
                    f"You must specify a different number. This number has already been used. "
                    f"DocNumber={number} is assigned to TxnType={entity} with TxnId={other['Id']}",
                    "6140",
                )
    lines = _required(body, "Line")
    for n, line in enumerate(lines, 1):
        amount = _money(line.get("Amount"), f"Line {n} Amount")
        if line.get("DetailType") != "SalesItemLineDetail":
            raise Fault("Invalid DetailType", f"Line {n}: {line.get('DetailType')!r}", "2040")
        detail = line.get("SalesItemLineDetail")
        if not isinstance(detail, dict) or not (detail.get("ItemRef") or {}).get("value"):
            raise Fault("Required param missing", f"Line {n}: SalesItemLineDetail.ItemRef", "2020")
        qty, price = detail.get("Qty"), detail.get("UnitPrice")
        if (
            qty is not None
            and price is not None
            and (Decimal(qty) * Decimal(price)).quantize(CENT, ROUND_HALF_UP) != amount
        ):
            raise Fault(
                "Amount is not equal to UnitPrice * Qty",
                f"Line {n}: {qty} x {price} != {amount}",
                "6070",
            )


def _check_payment(state: State, body: dict[str, Any]) -> None:
    customer = _customer_ref(state, body)
    _date(body, "TxnDate")
    total = _money(body.get("TotalAmt"), "TotalAmt")
    if total <= 0:
        raise Fault("Invalid Amount", "TotalAmt must be more than zero", "2040")
    reference = body.get("PaymentRefNum")
    if reference is not None and len(reference) > 21:
        raise Fault(
            "String length is either shorter or longer than supported by specification",
            f"PaymentRefNum {reference!r}: max 21",
            "2050",
        )
    applied = Decimal("0.00")
    for n, line in enumerate(body.get("Line") or [], 1):
        amount = _money(line.get("Amount"), f"Line {n} Amount")
        links = line.get("LinkedTxn")
        if not links:
            raise Fault("Required param missing", f"Line {n}: LinkedTxn", "2020")
        for link in links:
            invoice = state.entities["Invoice"].get(link.get("TxnId"))
            if link.get("TxnType") != "Invoice" or invoice is None:
                raise Fault("Invalid Reference Id", f"Line {n}: no Invoice {link!r}", "2500")
            if invoice["CustomerRef"]["value"] != customer:
                raise Fault(
                    "Invalid Reference Id",
                    f"Line {n}: Invoice {invoice['Id']} is another customer's",
                    "2500",
                )
            if amount > invoice["Balance"]:
                raise Fault(
                    "Invalid Amount",
                    f"Line {n}: {amount} is more than Invoice {invoice['Id']}'s balance "
                    f"{invoice['Balance']}",
                    "6000",
                )
        applied += amount
    if applied > total:
        raise Fault("Invalid Amount", f"lines apply {applied}, more than TotalAmt {total}", "6000")


CHECKS = {
    "Customer": _check_customer,
    "Invoice": lambda state, body: _check_sale(state, body, "Invoice"),
    "SalesReceipt": lambda state, body: _check_sale(state, body, "SalesReceipt"),
    "Payment": _check_payment,
}


def _field(entity: dict[str, Any], name: str) -> str | None:
    value = entity.get(name)
    if isinstance(value, dict):
        value = value.get("value")
    return None if value is None else str(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
