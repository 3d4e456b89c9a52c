"""The website tracking script (``t.js``), served by leadq at ``/t.js``."""
