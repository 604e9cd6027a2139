"""Tickets handlers: one function per command or consumed event, by area (``tickets``,
``follow_ups``, ``routing``, ``past_jobs``); ``common`` holds what the commands share."""
