"""Benchmarks (not tests): load and page-size scripts that print figures."""
