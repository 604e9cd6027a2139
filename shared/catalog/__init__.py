"""The public event catalog: every event a service publishes, one pydantic model per type.

Importing this package registers every catalogued type
(``shared.platform.messaging.envelope.catalog()`` lists them).
A published model never changes: a change is a new ``.vN`` type beside the old one.
"""

from shared.catalog import billing, commissions, jobs, messaging, policy, tickets

__all__ = ["billing", "commissions", "jobs", "messaging", "policy", "tickets"]
