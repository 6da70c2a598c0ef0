"""WSGI entry point for gunicorn (settings in gunicorn.conf.py): ``gunicorn wsgi:app``."""

import gc
import logging
import threading
import time

from cbt.app import create_app

# cbt's own warnings (slow collections, slow writer batches, failures) as gunicorn writes its lines
logging.basicConfig(
    format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
    datefmt="%Y-%m-%d %H:%M:%S %z",
    level=logging.WARNING,
)
app = create_app()
_log = logging.getLogger("cbt.gc")
_started: list[float] = []

FREEZE_EVERY = 1.0  # seconds
SWEEP_EVERY = 600.0  # seconds: a full collection over everything, once in a while
COLLECT_AT_MOST = 40_000  # objects arrived since the last freeze: about 25 ms of collection


def _time_collections(phase: str, info: dict) -> None:
    """Log a collection that held every connection up for more than 50 ms (a tail-latency suspect)."""
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started and (took := time.perf_counter() - _started[0]) > 0.05:
        _log.warning("garbage collection of generation %s took %.0f ms", info.get("generation"), took * 1000)


def _keep_the_collector_short() -> None:
    """With thousands of connections a full collection walks every connection's objects: 200-400 ms
    with 2 000 candidates, every few seconds while they arrive (measured: docs/performance.md). So
    the collector's own full collections are off (the young generations still run); every second,
    what arrived since the last freeze is collected (its cycles freed) and the rest frozen out of
    the collector's way; every ten minutes everything is walked once, so cycles among frozen objects
    that died meanwhile (a closed connection's) are still freed.

    In a storm a second's arrivals are mostly the objects of thousands of requests in flight:
    collecting them would hold every connection up for 50-170 ms and free almost nothing (they are
    alive). Then they are frozen without the walk; the requests' ends free them as usual, and
    the few cycles among them wait for the sweep."""
    last_sweep = time.monotonic()
    while True:
        time.sleep(FREEZE_EVERY)
        if time.monotonic() - last_sweep > SWEEP_EVERY:
            gc.unfreeze()  # this round's collection walks everything
            last_sweep = time.monotonic()
        elif len(gc.get_objects()) > COLLECT_AT_MOST:
            gc.freeze()
            continue
        gc.collect()  # what arrived since the last freeze, and only that: cycles among it are freed
        gc.freeze()


# Everything loaded at start-up lives for the whole process: out of the collector's way at once.
gc.set_threshold(700, 10, 1_000_000)  # generations 0 and 1 as by default; generation 2 only in the sweep
gc.collect()
gc.freeze()
gc.callbacks.append(_time_collections)
threading.Thread(target=_keep_the_collector_short, name="cbt-gc", daemon=True).start()
