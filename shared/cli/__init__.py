"""The ``roofline`` command: ``up`` (the supervisor and the embedded servers), ``status``,
``events``, ``token``, and the ``outbox`` and ``policy`` subcommands.

Developer and operator tooling on top of the platform; nothing in ``shared`` outside this
package imports it.
"""
