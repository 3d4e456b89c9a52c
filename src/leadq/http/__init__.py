"""What the two HTTP adapters, the JSON API (``leadq.api``) and the web UI (``leadq.web``), share:
the one shape of an error, the path parameters both accept, and the throttles on the doors anyone
can knock on. It sits below both, so neither adapter reaches into the other."""
