"""The web server's start-up heap, moved out of the cycle collector once the app is loaded."""

import gc


def heap_freeze() -> None:
    """What is loaded by now lives as long as the process: out of the collector's generations
    with it (gc.freeze), so a full collection (about one per ten requests) walks only what
    requests allocate, not the ~90k start-up objects again (~40 ms each time). Called by
    smartplex/wsgi.py, and by the page benchmarks so they measure what production serves."""
    gc.collect()
    gc.freeze()
