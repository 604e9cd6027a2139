"""``python -m shared.cli``: the ``roofline`` command."""

from shared.cli.app import main

main()
