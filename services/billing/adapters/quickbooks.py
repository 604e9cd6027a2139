"""QuickBooks Online, the accounting system billing exports to (``AccountingExport``).

Each document is created with ``POST {url}/v3/company/{realm}/{entity}?requestid=...&
minorversion=...`` and a bearer token. The request id never changes for a document: QuickBooks
answers a repeat with the first answer, and a server that refuses a repeat instead ("Duplicate
request", as the tests' stand-in does) makes the adapter look the document up through the query
endpoint (by DisplayName, DocNumber, or the payment's customer, date and reference number) and
report the Id it has. Amounts go out as JSON numbers written from ``Decimal`` digit for digit
(``encode_json``), and answers are read with ``Decimal``: never a float in between.

A ``ValidationFault`` (or any other 4xx but 401/403/429) is ``ExportRejected``: retrying the same
will not help. A 5xx, 401/403 (a token to renew), 429, a ``SystemFault``, a timeout or a lost
connection is ``ExportUnavailable``: the worker tries again later.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from services.billing.domain.exports import (
    CustomerDocument,
    Document,
    Exported,
    ExportRejected,
    ExportUnavailable,
    PaymentDocument,
    Refs,
    SaleDocument,
)
from shared.contracts.money import to_cents
from shared.platform.settings import Settings

# QuickBooks refuses these characters in a DisplayName.
_NAME_FORBIDDEN = str.maketrans({":": " ", "\t": " ", "\n": " ", "\r": " "})
_RETRYABLE_STATUSES = (401, 403, 408, 429)
_PERMANENT_FAULTS = ("ValidationFault",)


class QuickBooksOnline:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        if not settings.quickbooks_url:
            raise ValueError("quickbooks_url is not set: the accounting export is off")
        self.base = (
            f"{settings.quickbooks_url.rstrip('/')}/v3/company/{settings.quickbooks_realm_id}"
        )
        self.minor_version = str(settings.quickbooks_minor_version)
        self.item_id = settings.quickbooks_item_id
        self.timeout_s = settings.quickbooks_timeout_s
        # Opened on first use (and again after ``aclose``: a service stopped and started).
        self._client = client
        self.headers = {
            "Authorization": f"Bearer {settings.quickbooks_token.get_secret_value()}",
            "Accept": "application/json",
        }

    async def export(self, document: Document, refs: Refs, request_id: str) -> Exported:
        entity, body = qbo_body(document, refs, self.item_id)
        answer = await self._call(
            "POST",
            entity.lower(),
            params={"requestid": request_id},
            content=encode_json(body),
        )
        fault = answer.get("Fault")
        if fault is None:
            return Exported(external_id=_id_of(answer, entity))
        if not _duplicate_request(fault):
            raise _fault_error(fault)
        # An earlier attempt landed and its answer was lost: find what it created.
        found = await self._find(entity, body)
        if found is None:
            raise ExportRejected(
                f"QuickBooks reports request {request_id} as done before, but no {entity} "
                f"matching it was found: {fault_text(fault)}"
            )
        return Exported(external_id=found, resolved=True)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        return self._client

    async def _find(self, entity: str, body: dict[str, Any]) -> str | None:
        """The Id of the entity an earlier request with this body created, if QuickBooks has it."""
        if entity == "Customer":
            rows = await self._query(entity, {"DisplayName": body["DisplayName"]})
            email = body.get("PrimaryEmailAddr", {}).get("Address")
            rows = [r for r in rows if email is None or _email_of(r) == email.casefold()]
        elif entity == "Payment":
            rows = await self._query(
                entity, {"CustomerRef": body["CustomerRef"]["value"], "TxnDate": body["TxnDate"]}
            )
            rows = [r for r in rows if r.get("PaymentRefNum") == body["PaymentRefNum"]]
        else:
            rows = await self._query(entity, {"DocNumber": body["DocNumber"]})
        return str(rows[0]["Id"]) if len(rows) == 1 else None

    async def _query(self, entity: str, where: dict[str, str]) -> list[dict[str, Any]]:
        condition = " AND ".join(f"{field} = '{_quoted(value)}'" for field, value in where.items())
        answer = await self._call(
            "GET", "query", params={"query": f"SELECT * FROM {entity} WHERE {condition}"}
        )
        if "Fault" in answer:
            raise _fault_error(answer["Fault"])
        rows = answer.get("QueryResponse", {}).get(entity, [])
        return list(rows)

    async def _call(
        self, method: str, path: str, *, params: dict[str, str], content: bytes | None = None
    ) -> dict[str, Any]:
        headers = dict(self.headers)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self.client.request(
                method,
                f"{self.base}/{path}",
                params={**params, "minorversion": self.minor_version},
                content=content,
                headers=headers,
            )
        except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
            raise ExportUnavailable(
                f"QuickBooks unreachable: {exc.__class__.__name__}: {exc}"
            ) from exc
        answer = _json_of(response)
        if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUSES:
            raise ExportUnavailable(
                f"QuickBooks answered {response.status_code}: "
                + (fault_text(answer["Fault"]) if "Fault" in answer else response.reason_phrase)
            )
        if response.status_code >= 400 and "Fault" not in answer:
            raise ExportRejected(
                f"QuickBooks answered {response.status_code}: {response.text[:500]}"
            )
        return answer


def qbo_body(document: Document, refs: Refs, item_id: str) -> tuple[str, dict[str, Any]]:
    """The QuickBooks entity and the JSON body creating ``document`` (amounts as ``Decimal``)."""
    if isinstance(document, CustomerDocument):
        return "Customer", _customer(document)
    if refs.customer is None:
        raise ValueError("a transaction needs its customer's QuickBooks id")
    if isinstance(document, SaleDocument):
        return document.entity, _sale(document, refs.customer, item_id)
    return "Payment", _payment(document, refs)


def _customer(customer: CustomerDocument) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": customer.name.translate(_NAME_FORBIDDEN).strip()[:500]}
    if customer.email:
        body["PrimaryEmailAddr"] = {"Address": customer.email}
    if customer.phone:
        body["PrimaryPhone"] = {"FreeFormNumber": customer.phone[:30]}
    return body


def _sale(sale: SaleDocument, customer_id: str, item_id: str) -> dict[str, Any]:
    lines = []
    for line in sale.lines:
        detail: dict[str, Any] = {"ItemRef": {"value": item_id}}
        # QuickBooks checks Amount = Qty x UnitPrice: a line whose total was rounded otherwise
        # (or priced as a lump sum) goes as its amount alone.
        if to_cents(line.quantity * line.unit_price) == line.amount:
            detail["Qty"] = line.quantity
            detail["UnitPrice"] = line.unit_price
        lines.append(
            {
                "Amount": line.amount,
                "Description": line.description[:4000],
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": detail,
            }
        )
    body: dict[str, Any] = {
        "DocNumber": sale.number,
        "TxnDate": sale.on.isoformat(),
        "CustomerRef": {"value": customer_id},
        "Line": lines,
    }
    if sale.memo:
        body["PrivateNote"] = sale.memo[:4000]
    return body


def _payment(payment: PaymentDocument, refs: Refs) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TotalAmt": payment.amount,
        "TxnDate": payment.on.isoformat(),
        "CustomerRef": {"value": refs.customer},
        "PaymentRefNum": payment.reference,
        "Line": [],
    }
    if refs.invoice is not None and payment.applied > 0:
        body["Line"] = [
            {
                "Amount": payment.applied,
                "LinkedTxn": [{"TxnId": refs.invoice, "TxnType": "Invoice"}],
            }
        ]
    if payment.memo:
        body["PrivateNote"] = payment.memo[:4000]
    return body


def encode_json(value: Any) -> bytes:
    """JSON with every ``Decimal`` written as the number it is ("0.10", never 0.1000000000001);
    a float is refused, so none can slip in."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a number JSON can carry: {value}")
        return format(value, "f")
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        raise TypeError("a float in an accounting document: amounts are Decimal")
    if isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def fault_text(fault: dict[str, Any]) -> str:
    """A fault as a person reads it: each error's message, detail and code."""
    errors = fault.get("Error") or []
    parts = [
        f"{e.get('Message', '')}: {e.get('Detail', '')} (code {e.get('code', '?')})".strip()
        for e in errors
        if isinstance(e, dict)
    ]
    return f"{fault.get('type', 'Fault')}: " + ("; ".join(parts) or "no detail")


def _fault_error(fault: dict[str, Any]) -> ExportRejected | ExportUnavailable:
    if fault.get("type") in _PERMANENT_FAULTS:
        return ExportRejected(fault_text(fault))
    return ExportUnavailable(fault_text(fault))


def _duplicate_request(fault: dict[str, Any]) -> bool:
    return any(
        isinstance(e, dict) and str(e.get("Message", "")).casefold().startswith("duplicate request")
        for e in fault.get("Error") or []
    )


def _json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _id_of(answer: dict[str, Any], entity: str) -> str:
    created = answer.get(entity)
    if not isinstance(created, dict) or "Id" not in created:
        raise ExportUnavailable(f"QuickBooks answered without the {entity} it created")
    return str(created["Id"])


def _email_of(row: dict[str, Any]) -> str | None:
    address = (row.get("PrimaryEmailAddr") or {}).get("Address")
    return str(address).casefold() if address else None


def _quoted(value: str) -> str:
    """A value inside single quotes in QuickBooks' query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
