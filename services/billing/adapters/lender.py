"""Calling the lender (``ROOFLINE_LENDER_URL``, a Hearth-like API): the adapter behind the
``Lender`` port. ``shared/cli/fake_lender.py`` serves the same API for tests and ``roofline up``.

    POST /v1/applications                          {amount, reference, applicant} -> 201
    GET  /v1/applications/{id}                     -> 200
    POST /v1/applications/{id}/offers/{offer}/select -> 200

each answered with the application: ``{id, status, applicant_url, amount, reference, offers:
[{id, amount, apr, term_months, monthly_payment}], selected_offer_id}``; money as decimal
strings, the key as ``Authorization: Bearer``. A lender that cannot be reached, times out or
fails (5xx) is ``LenderUnavailable``; one that refuses (4xx) or answers what we cannot read is
``LenderError``. Numbers in its JSON are read as Decimal, never float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from services.billing.domain.financing import (
    LenderError,
    LenderStatus,
    LenderUnavailable,
    LoanApplication,
    LoanRequest,
    LoanState,
    Offer,
)
from shared.platform.settings import Settings


class _Offer(BaseModel):
    id: str
    amount: Decimal
    apr: Decimal
    term_months: int
    monthly_payment: Decimal


class _Application(BaseModel):
    """The lender's application, as its API answers it."""

    id: str
    status: LenderStatus
    applicant_url: str
    offers: list[_Offer] = []
    selected_offer_id: str | None = None

    def state(self) -> LoanState:
        offers = tuple(
            Offer(
                offer_id=o.id,
                amount=o.amount,
                apr=o.apr,
                term_months=o.term_months,
                monthly_payment=o.monthly_payment,
            )
            for o in self.offers
        )
        return LoanState(
            status=self.status, offers=offers, selected_offer_id=self.selected_offer_id
        )


class HttpLender:
    def __init__(self, settings: Settings) -> None:
        assert settings.lender_url is not None
        self.url = settings.lender_url.rstrip("/")
        self._name = settings.lender_name
        self.timeout = settings.lender_timeout_s
        key = settings.lender_api_key
        self.headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

    @property
    def name(self) -> str:
        return self._name

    async def apply(self, request: LoanRequest) -> LoanApplication:
        body = {
            "amount": str(request.amount),
            "reference": request.reference,
            "applicant": {
                "name": request.customer_name,
                "email": request.customer_email,
                "phone": request.customer_phone,
            },
        }
        answer = await self._call("POST", "/v1/applications", body)
        return LoanApplication(
            lender_ref=answer.id, link=answer.applicant_url, status=answer.status
        )

    async def state(self, lender_ref: str) -> LoanState:
        return (await self._call("GET", f"/v1/applications/{lender_ref}")).state()

    async def select_offer(self, lender_ref: str, offer_id: str) -> LoanState:
        path = f"/v1/applications/{lender_ref}/offers/{offer_id}/select"
        return (await self._call("POST", path)).state()

    async def _call(self, method: str, path: str, body: Any = None) -> _Application:
        # A client per call: financing calls are a few a day, and nothing is left open to close.
        try:
            async with httpx.AsyncClient(
                base_url=self.url, timeout=self.timeout, headers=self.headers
            ) as client:
                response = await client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise LenderUnavailable(
                f"the lender {self.name} ({self.url}) could not be reached: "
                f"{type(exc).__name__} {exc}".strip()
            ) from exc
        if response.status_code >= 500:
            raise LenderUnavailable(
                f"the lender {self.name} failed: {response.status_code} {_said(response)}"
            )
        if response.status_code >= 400:
            raise LenderError(
                f"the lender {self.name} refused {method} {path}: "
                f"{response.status_code} {_said(response)}"
            )
        try:
            return _Application.model_validate(response.json(parse_float=Decimal))
        except (ValueError, ValidationError) as exc:
            raise LenderError(f"the lender {self.name}'s answer could not be read: {exc}") from exc


def _said(response: httpx.Response) -> str:
    """What a refusal said, short (its ``detail`` if it is JSON with one)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail if isinstance(detail, str) else response.text
    return json.dumps(text[:300]) if text else ""
