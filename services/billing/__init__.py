"""The billing service (domain lands with its issue)."""
