"""gunicorn settings for `make run` (gthread: threads suit I/O-bound Flask views)."""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
accesslog = "-" if os.environ.get("ACCESS_LOG") else None


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Once the app is loaded: keep its objects out of the garbage collector's scans and collect
    less often. A request allocates thousands of short-lived objects (rows, template nodes);
    the default thresholds run a collection every few requests, over the whole loaded app."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    """Hand the request object to perfapp.core.connection: an answer given without reading the
    whole body (413, 401, 429) marks it to close, so gunicorn says `Connection: close` instead
    of announcing keep-alive and then closing after its 64 KB drain."""
    from perfapp.core.connection import server_request

    server_request.request = req


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]
    from perfapp.core.connection import server_request

    server_request.request = None
