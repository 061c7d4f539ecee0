"""uptimed: uptime monitoring with exact availability figures."""

__version__ = "0.1.0"
