"""ciharness: build and test a compiled project in per-platform containers."""

__version__ = "0.1.0"
