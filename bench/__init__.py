"""``make bench``: performance benchmarks on their own database (see bench/README.md)."""
