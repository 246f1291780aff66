"""Benchmarks: `make bench` (python -m benchmarks). Each figure is reported with the physical
limit measured in the same run on the same machine, as a ratio."""
