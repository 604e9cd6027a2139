"""Run the tallyview consumer as its own process: ``python -m tests.support.view_process PORT``.

Settings come from the environment (``ROOFLINE_*``), like a real service; the source topic from
``TALLY_SOURCE_TOPIC``. Serves /metrics and /health on 127.0.0.1:PORT.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from shared.platform.logging import configure_logging
from shared.platform.settings import load_settings
from tests.support.tally import view_platform


def main() -> None:
    port = int(sys.argv[1])
    settings = load_settings("tallyview")
    configure_logging("tallyview", "WARNING")
    platform = view_platform(settings, os.environ["TALLY_SOURCE_TOPIC"])
    app = platform.http_app(title="tallyview", create_tables=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
