"""Billing handlers: one function per command, query or consumed event."""
