"""Chat Desk's benchmarks: ``python -m bench`` (``make bench``), results in ``bench/results``."""
