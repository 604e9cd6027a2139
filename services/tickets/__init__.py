"""The tickets service (domain lands with its issue)."""
