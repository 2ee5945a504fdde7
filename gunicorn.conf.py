"""gunicorn settings for `make run` (gthread: threads suit I/O-bound Flask views)."""
import os
import time

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# 2 threads: a request waiting on the database lets the other run. 4 measured worse on 2 cores
# (bench.load, 300 viewers, PostgreSQL: home 466 -> 544 req/s and p99 45 -> 30 ms at 2 threads,
# profile 134 -> 260 req/s; SQLite: home 753 -> 774, p99 36 -> 21 ms): more threads only queue
# on the GIL and on PostgreSQL's backends, which share the same cores.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
# Each worker listens on its own socket and the kernel spreads new connections over them. On one
# shared socket the worker that wakes first accepts most of a burst: with a few long keep-alive
# connections (a proxy's, a benchmark's) one worker got nearly all and the other core idled
# (/healthz at 1,650 instead of 3,400 req/s in 2 of 12 runs; with reuse_port 12 of 12 at 2,950+).
# The price: connections waiting in a worker's own queue when that worker dies are reset (the
# client retries), where a shared queue would hand them to the next worker.
reuse_port = True
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
# SLOW_REQUEST_MS=50 logs each request that took 50 ms or more, with its thread's CPU time.
SLOW_REQUEST_MS = float(os.environ.get("SLOW_REQUEST_MS", "0"))


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Once the app is loaded: keep its objects out of the garbage collector's scans and collect
    less often. A request allocates thousands of short-lived objects (rows, template nodes);
    the default thresholds run a collection every few requests, over the whole loaded app."""
    import gc
    import sys

    gc.collect()
    gc.freeze()
    # A young-generation collection holds the GIL, so it stops every thread of the worker: at a
    # threshold of 20,000 most took 8-17 ms (one 35 ms) on a praise wall under writes, and every
    # request in flight waited that long. At 5,000 they took 1-7 ms (2.5 on average), about four
    # times as often; the older generations are collected as often as before (every million and
    # every hundred million objects). GC_THRESHOLDS overrides the three.
    gc.set_threshold(*(int(n) for n in os.environ.get("GC_THRESHOLDS", "5000,200,100").split(",")))
    # A thread that runs a SQL statement lets go of the GIL and, when the statement is done, waits
    # for it until the thread running Python hands it over: after at most the switch interval
    # (5 ms by default). A page runs about ten statements, so with 4 threads busy a request could
    # wait 50 ms for the GIL alone (a 1,000-viewer benchmark's p99 was 78-97 ms at 4 threads, 39 ms
    # at 1). A shorter interval keeps the threads (for requests that wait on the network) without
    # the queue.
    sys.setswitchinterval(float(os.environ.get("GIL_SWITCH_INTERVAL_MS", "0.5")) / 1000)


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    """Hand the request object to perfapp.core.connection: an answer given without reading the
    whole body (413, 401, 429) marks it to close, so gunicorn says `Connection: close` instead
    of announcing keep-alive and then closing after its 64 KB drain."""
    from perfapp.core.connection import server_request

    server_request.request = req
    if SLOW_REQUEST_MS:
        from perfapp.core import cards, pages

        req.perfapp_started = (time.perf_counter(), time.thread_time(), pages.stats.copy(), cards.stats.copy())


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]
    from perfapp.core.connection import server_request

    server_request.request = None
    started = getattr(req, "perfapp_started", None)
    if started is not None:
        took = (time.perf_counter() - started[0]) * 1000
        if took >= SLOW_REQUEST_MS:
            # Wall time against the thread's own CPU time: a request that took long but used little
            # CPU waited (for the GIL, the database, a lock), one that used it all ran that long.
            # And what the worker's kept pages and cards did meanwhile (all its threads: a making of
            # the praise wall shows as "pages shared made" and its cards as "cards rendered").
            from perfapp.core import cards, pages

            did = [f"{name} {what} {n}" for name, now, before in (("pages", pages.stats, started[2]),
                                                                  ("cards", cards.stats, started[3]))
                   for what, n in (now - before).items()]
            worker.log.warning("slow request: %s %s %s in %.1f ms (%.1f ms of its thread's CPU); %s",
                               req.method, req.path, resp.status, took,
                               (time.thread_time() - started[1]) * 1000, ", ".join(did) or "nothing kept or made")


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """How often this worker found a kept page and a cached card instead of rendering it."""
    from perfapp.core import cards, pages

    for name, counts in (("pages", pages.stats), ("cards", cards.stats)):
        total = sum(counts.values())
        if total:
            worker.log.info("%s: %d found, %d rendered (%.0f%% found)", name, counts["found"], counts["rendered"],
                            100 * counts["found"] / total)
    if pages.stats["found before the view"] or pages.stats["found by its changes"]:
        worker.log.info("pages found before the view: %d by the person's changes, %d by the view's statement",
                        pages.stats["found by its changes"], pages.stats["found before the view"])
