"""The database: engine and schema helpers, Alembic migrations, the unit of work and
repositories."""
