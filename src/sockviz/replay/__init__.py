"""Replay: a saved capture through the same correlator and sinks as a live run."""
