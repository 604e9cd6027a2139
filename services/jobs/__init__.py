"""The jobs service (domain lands with its issue)."""
