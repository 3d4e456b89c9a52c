"""leadq — self-hosted lead qualification and lead scoring."""

__version__ = "0.1.0"
