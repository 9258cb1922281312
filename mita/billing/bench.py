"""`mita bench billrun` (registered below; the body is in bench_billrun.py)."""
