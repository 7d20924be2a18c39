"""Benchmarks that print figures next to their targets (run with ``python -m gradlab.benchmarks``)."""
