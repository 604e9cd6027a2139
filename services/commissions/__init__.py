"""The commissions service (domain lands with its issue)."""
