"""Bounded input types every request model (and the domain values behind them) uses.

Every string a client sends has a maximum length, so no single field can push a command's event
past the event size limit (``Settings.max_message_bytes``), and every date lies in a range date
arithmetic can work with. What PostgreSQL cannot store at all (NUL, unpaired surrogates) is
refused for every string of every request by the platform's edge
(``shared.platform.http.edge``), not here.

Pure pydantic: the domain uses these types as well as the API models.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import Field

# -- strings ---------------------------------------------------------------------------------------

# An id a client names (a user, a crew, a line item, an approval request): uuids, user names.
Identifier = Annotated[str, Field(min_length=1, max_length=100)]
# A code or number written on a paper (permit, claim, insurance line, roof pitch).
Code = Annotated[str, Field(min_length=1, max_length=60)]
# A short label: a branch, a lead source, a supplier, a manufacturer.
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
# A person's, crew's or document's name.
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A search box.
SearchText = Annotated[str, Field(max_length=200)]
# A sentence or a paragraph: a reason, a note, a description.
Note = Annotated[str, Field(max_length=2000)]
# Where a document is stored.
Location = Annotated[str, Field(min_length=1, max_length=1000)]

# How many ids a list of people may hold (crew members).
MAX_PEOPLE = 100

# -- dates -----------------------------------------------------------------------------------------

# Business-day arithmetic (holidays, durations, deadlines) needs room on both sides of a date;
# no roofing job is signed, measured or scheduled outside this range.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]

# -- what PostgreSQL cannot store ------------------------------------------------------------------

# NUL is refused in text and JSONB; an unpaired surrogate (a JSON "\ud800" decodes to one) has no
# UTF-8 encoding, so the driver cannot send it.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store ``text``, or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (\\u0000)"
    return f"must not contain an unpaired surrogate (\\u{ord(found.group()):04x})"
