"""gunicorn settings for `make run` (gthread: threads suit I/O-bound Flask views)."""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
