"""Alembic environment and revisions of this service's schema (``roofline migrate``)."""
