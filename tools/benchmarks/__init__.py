"""The benchmark's figure groups, one module each (tools/bench.py runs them)."""
