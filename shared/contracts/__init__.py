"""The contracts between services: roles, and per service the events it publishes and the facts
of the decision points it owns.

Importing any part of this package registers every catalogued event type
(``shared.contracts.base.catalog()``) and every decision point
(``shared.contracts.base.decision_points()``). It depends on pydantic only.
"""

from shared.contracts import billing, commissions, jobs, messaging, policy, roles, tickets

__all__ = ["billing", "commissions", "jobs", "messaging", "policy", "roles", "tickets"]
