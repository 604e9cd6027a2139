"""The messaging domain's errors as HTTP problems: the one place they are mapped.

A thread, message or job the caller may not read is ``404`` (as if it did not exist: an
installer unassigned from a job finds nothing); a client read time that cannot be true and
answers that do not fit the survey are ``422`` naming the field; a delivery report not signed
with our key is ``403``.
"""

from __future__ import annotations

from services.messaging.domain.surveys import InvalidAnswers
from services.messaging.domain.threads import InvalidReadTime, MessageNotFound, ThreadNotFound
from services.messaging.domain.webhooks import BadSignature
from shared.platform.http.problems import Forbidden, InvalidInput, NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {
    ThreadNotFound: NotFound,
    MessageNotFound: NotFound,
    InvalidReadTime: InvalidInput,
    InvalidAnswers: InvalidInput,
    BadSignature: Forbidden,
}
