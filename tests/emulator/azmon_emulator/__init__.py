"""A local Azure emulator for the azmon.metrics collection's tests: sign-in, Graph, ARM, metrics ingestion, WAP."""

__version__ = "1.0.0"
