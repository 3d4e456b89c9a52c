"""Use cases: each runs one business action on the domain and the store in one unit of work.

One package per capability, named alike on every floor (``leadq.cli``, ``leadq.api.routers``):
``intake``, ``scoring``, ``qualification``, ``predictive``, ``automation``, ``privacy``,
``analytics`` and ``people``; ``errors`` are the typed failures every adapter maps to its own
answer, and ``demo`` fills a workspace with a sample that exercises them all.
"""
