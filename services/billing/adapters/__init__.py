"""Billing's adapters to systems outside the suite: the accounting system, the lender."""
