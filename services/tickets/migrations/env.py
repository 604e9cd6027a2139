from services.tickets.tables import metadata
from shared.platform.storage.migrations import run_env

run_env(metadata)
