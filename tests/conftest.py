"""Both tiers: the suite's rules (tests/rules.py) and pytester, for the tests of those rules."""

pytest_plugins = ["tests.rules", "pytester"]
