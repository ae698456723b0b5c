"""Benchmarks and evaluation corpora; run the scripts with ``python -m bench.<name>``."""
