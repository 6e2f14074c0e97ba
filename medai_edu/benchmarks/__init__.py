"""Benchmarks behind `medai-edu bench ...`: each prints what it measured and can write JSON."""
