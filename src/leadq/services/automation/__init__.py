"""Automation: the rules that react, inside the same transaction, to what happened to a lead
(routing, tasks, segment membership, notifications), the outbox the worker delivers at least
once, follow-up tasks with their speed-to-lead SLA, and saved segments."""
