"""Benchmarks (not tests): `python -m bench [NAME ...]`; results go to docs/performance.md."""
