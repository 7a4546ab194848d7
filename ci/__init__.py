"""ciharness: build and test a compiled project in per-platform containers."""

__version__ = "0.1.0"

from pathlib import Path

# The checkout build.py runs from: the default docker/, runtime_functions.sh and xsum/ live here.
REPO_ROOT = Path(__file__).resolve().parent.parent
