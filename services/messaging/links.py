"""Signed links in emails: a survey's link (its token names the tenant and the survey; the
survey's row says whether it expired or was answered, so a token is single-use) and the open
pixel's (so nobody can mark someone else's email opened). Signed with ``link_signing_key``."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

SURVEY_SALT = "roofline.survey"
PIXEL_SALT = "roofline.open-pixel"


@dataclass(frozen=True)
class SurveyRef:
    tenant_id: str
    survey_id: str


class Links:
    def __init__(self, key: str, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._survey = URLSafeSerializer(key, salt=SURVEY_SALT)
        self._pixel = URLSafeSerializer(key, salt=PIXEL_SALT)

    def survey_token(self, tenant_id: str, survey_id: str) -> str:
        return str(self._survey.dumps([tenant_id, survey_id]))

    def survey_url(self, tenant_id: str, survey_id: str) -> str:
        return f"{self.public_url}/surveys/{self.survey_token(tenant_id, survey_id)}"

    def survey_of(self, token: str) -> SurveyRef | None:
        """The survey a token names, or None if it was not signed with our key."""
        try:
            tenant_id, survey_id = self._survey.loads(token)
        except (BadData, ValueError, TypeError):
            return None
        return SurveyRef(str(tenant_id), str(survey_id))

    def pixel_url(self, email_id: str) -> str:
        return f"{self.public_url}/email/open/{self._pixel.dumps(email_id)}.gif"

    def pixel_email(self, token: str) -> str | None:
        try:
            return str(self._pixel.loads(token))
        except BadData:
            return None
