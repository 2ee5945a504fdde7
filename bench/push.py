"""Push fan-out benchmark: one nudge to 10 000 devices through a local push service.

    .venv/bin/python -m bench.push                    # SQLite: bench/out/push.db (made fresh)
    .venv/bin/python -m bench.push --subscriptions 2000
    .venv/bin/python -m bench.push --database-url postgresql://postgres@127.0.0.1:5432/perfapp_bench_push

Runs the `web-push-testing` npm package on a free port as the push service and makes one
subscription per person there (10 000 people, all members of one project). HR marks the
project's milestone reached: every member gets an inbox entry, and push delivery jobs are
queued in huey's SQLite queue. Then a huey consumer with the default settings of `make run`
(2 worker threads) starts in this process and works the queue: decide, claim, encrypt,
sign, POST to the push service (which decrypts every message), exactly as in production,
except that the local test service is admitted (which only tests and benchmarks may do).

Prints pushes per second (all answered 201), the time of the fan-out into the inbox (every
signal handler of "milestone reached" included: recognition awards an automatic badge to each
member too), and the share of time spent in encryption (webpush's aes128gcm and the reused
VAPID token): of the sending threads' time, and of this process's CPU. The push service shares the two cores with us: it decrypts every
message, so the figures are for the whole exchange, not our side alone. Benchmarks are not
tests: this prints figures, it asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SERVER_JS = ROOT / "node_modules" / "web-push-testing" / "src" / "bin" / "server.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, data: dict) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local test service)
        body = response.read()
        return json.loads(body) if body.startswith(b"{") else {}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file bench/out/push.db")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("push.db", "push.db-wal", "push.db-shm", "push-huey.db", "push-huey.db-wal", "push-huey.db-shm"):
        (OUT / name).unlink(missing_ok=True)
    # The environment decides the app's database and huey's queue file before perfapp is imported.
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{OUT / 'push.db'}"
    os.environ["HUEY_SQLITE_PATH"] = str(OUT / "push-huey.db")
    os.environ.pop("REDIS_URL", None)

    port = free_port()
    node = subprocess.Popen(["node", str(SERVER_JS), str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                post(service + "/status", {})
                break
            except OSError:
                time.sleep(0.1)
        run(args.subscriptions, service, node.pid)
    finally:
        node.terminate()
        node.wait(10)


def run(n: int, service: str, node_pid: int) -> None:
    from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR
    from sqlalchemy import delete, func, insert, select

    from perfapp import create_app
    from perfapp import tasks as task_module
    from perfapp.config import Config
    from perfapp.extensions import db
    from perfapp.notify import delivery, push
    from perfapp.notify.models import NotificationPreference, PushSubscription
    from perfapp.people.models import User, search_key_for
    from perfapp.projects.models import Milestone, Project, ProjectMember
    from perfapp.projects.services import reach_milestone
    from perfapp.tasks import huey

    class BenchConfig(Config):
        # Admit the local test push service, as only tests and benchmarks may.
        PUSH_HOST_ALLOWLIST = (*Config.PUSH_HOST_ALLOWLIST, "localhost")
        PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE = True

    app = create_app(BenchConfig)
    task_module._consumer_app = app  # the consumer's jobs run in this app
    with app.app_context():
        db.drop_all()
        db.create_all()
        keys = delivery.vapid_keys()
        db.session.commit()

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            subs = list(pool.map(lambda _i: post(service + "/subscribe", {
                "applicationServerKey": keys.public_key, "userVisibleOnly": "true"})["data"], range(n)))
        print(f"{n} subscriptions made at the push service in {time.perf_counter() - started:.1f} s", flush=True)

        hr = User(email="hr@bench.example", name="HR", search_key=" hr ", role="hr")
        db.session.add(hr)
        db.session.flush()
        db.session.execute(insert(User), [
            {"email": f"p{i}@bench.example", "name": f"Person {i}", "search_key": search_key_for(f"Person {i}"),
             "timezone": "UTC", "locale": "zh_Hans_CN" if i % 2 else "en"} for i in range(n)])
        ids = list(db.session.scalars(select(User.id).where(User.id != hr.id).order_by(User.id)))
        project = Project(name="Apollo")
        project.milestones = [Milestone(name="Launch")]
        db.session.add(project)
        db.session.flush()
        db.session.execute(insert(ProjectMember), [{"project_id": project.id, "user_id": uid} for uid in ids])
        db.session.execute(insert(PushSubscription), [
            {"user_id": uid, "endpoint": s["endpoint"], "p256dh": s["keys"]["p256dh"], "auth": s["keys"]["auth"],
             "user_agent": "bench", "locale": None} for uid, s in zip(ids, subs, strict=True)])
        # Quiet hours off: the figure must not depend on the time of day it runs at. "Received"
        # off: the automatic badge recognition awards for the milestone stays in the inbox, so
        # exactly one push per person goes out (the nudge).
        db.session.execute(insert(NotificationPreference), [
            {**delivery.PREFERENCE_DEFAULTS, "user_id": uid, "quiet_enabled": False, "received": False}
            for uid in ids])
        db.session.commit()
        milestone_id = project.milestones[0].id

        # HR marks the milestone reached: 10 000 inbox entries, delivery jobs queued after commit.
        huey.flush()
        started = time.perf_counter()
        reach_milestone(db.session.get(User, hr.id), db.session.get(Milestone, milestone_id))
        db.session.commit()
        fan_out = time.perf_counter() - started
        jobs = huey.pending_count()
        print(f"fan-out into the inbox: {n} entries and {jobs} delivery jobs queued in {fan_out:.2f} s", flush=True)

    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    send_seconds = [0.0]
    original_send = push.Sender.send

    def counted_send(self: push.Sender, message: push.Prepared) -> push.SendResult:
        t = time.perf_counter()
        result = original_send(self, message)
        with lock:
            statuses[result.status] += 1
            send_seconds[0] += time.perf_counter() - t
        return result

    push.Sender.send = counted_send  # type: ignore[method-assign]
    done = threading.Event()
    finished = Counter[str]()

    @huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def job_done(signal: str, task: object, *_args: object) -> None:
        with lock:
            finished[signal] += 1
            if sum(finished.values()) >= jobs:
                done.set()

    with app.app_context():
        crypto = delivery.encrypter()
    crypto.seconds = 0.0
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    node_cpu, our_cpu = cpu_seconds(node_pid), time.process_time()
    started = time.perf_counter()
    consumer.start()
    done.wait(timeout=3600)
    elapsed = time.perf_counter() - started
    node_cpu, our_cpu = cpu_seconds(node_pid) - node_cpu, time.process_time() - our_cpu
    consumer.stop(graceful=True)

    sent = sum(statuses.values())
    print(f"delivered: {dict(statuses)} in {elapsed:.1f} s (jobs: {dict(finished)})")
    print(f"pushes per second: {sent / elapsed:.0f}")
    print(f"encryption (webpush aes128gcm + VAPID): {crypto.seconds:.1f} s of {crypto.seconds + send_seconds[0]:.1f} s"
          f" spent per push in the sending threads = {crypto.seconds / (crypto.seconds + send_seconds[0]):.0%};"
          f" {crypto.seconds / elapsed:.2f} core-seconds per second of the run")
    print(f"CPU: this process {our_cpu:.1f} s, the push service (node, decrypting) {node_cpu:.1f} s,"
          f" over {elapsed:.1f} s on {os.cpu_count()} cores; encryption ≈ {crypto.seconds / our_cpu:.0%} of this"
          f" process's CPU (an upper bound: time inside encryption, waits for the GIL included)")
    print(f"load average while running: {os.getloadavg()[0]:.1f} (other work on the machine shares the cores)")
    # Spot check: what the push service decrypted is the nudge, in each person's language.
    for sub in (subs[0], subs[1]):
        message = json.loads(post(service + "/get-notifications", {"clientHash": sub["clientHash"]})["data"]["messages"][0])
        print(f"  {message['lang']}: {message['title']} — {message['body']} → {message['url']}")
    with app.app_context():
        left = db.session.scalar(select(func.count()).select_from(PushSubscription))
        db.session.execute(delete(PushSubscription))
        db.session.commit()
        print(f"subscriptions still there: {left}")


if __name__ == "__main__":
    main()
