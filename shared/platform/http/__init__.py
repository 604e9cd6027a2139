"""HTTP: bearer-token auth, per-router access tables, the edge's input checks, problem responses."""
