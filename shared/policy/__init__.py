"""The policy engine: rule files (format, loader, compiler), the evaluators, decisions and their
log, replay. Services reach it through ``shared.policy.service.PolicyLayer``; policy owners
through ``roofline policy`` (``shared.cli.policy``)."""
