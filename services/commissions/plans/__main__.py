"""``python -m services.commissions.plans``: see ``cli``."""

from services.commissions.plans.cli import main

main()
