"""WSGI entry point for gunicorn: ``gunicorn --worker-class gevent wsgi:app``."""

import gc

from cbt.web import create_app

app = create_app()
# Everything loaded at start-up lives for the whole process: move it out of the collector's way, so
# collections during an exam only walk what requests create (the worst tail pauses otherwise).
gc.collect()
gc.freeze()
