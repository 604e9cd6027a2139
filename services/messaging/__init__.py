"""The messaging service (domain lands with its issue)."""
