"""The wire: the envelope and catalog, the broker, the outbox relay, the consumer pipeline,
dead letters."""
