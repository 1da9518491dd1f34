"""sockviz: see the packets behind every socket API call."""

__version__ = "0.1.0"
