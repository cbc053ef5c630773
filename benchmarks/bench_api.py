"""Load benchmark of the realtime API: GET /predict on loopback at fixed request rates.

What it does:
1. builds a workspace with a trained, ACTIVE detector (small generated data, the real engine);
2. starts ``fraudpipe serve --workers N`` in a second process on 127.0.0.1 (API key on, as in
   real use; N = one worker per core unless ``--workers`` says otherwise);
3. drives ``GET /predict`` open-loop (requests are sent on a fixed schedule whether or not earlier
   ones have answered, so a slow server cannot slow the load down and hide its latency) at each
   rate for ``--seconds`` seconds, over a pool of keep-alive connections;
4. prints p50 / p90 / p99 / max latency and errors per rate, and writes them to
   ``benchmarks/output/bench_api.json``.

Latency is measured from the *scheduled* send time to the last byte of the response.

    .venv/bin/python benchmarks/bench_api.py                   # 200 and 500 req/s, 20 s each
    .venv/bin/python benchmarks/bench_api.py --rates 100 --seconds 5
    .venv/bin/python benchmarks/bench_api.py --workers 1    # what one process holds
    .venv/bin/python benchmarks/bench_api.py --repeat 3 --customers 180   # the run-to-run spread
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_api.json"
REQUEST_FIELDS = ("trans_num", "amt", "zip", "city", "first", "job", "street", "category",
                  "city_pop", "gender", "cc_num", "last", "state", "merchant")  # fmt: skip


# --- set-up -----------------------------------------------------------------------------------
def prepare_workspace(root: Path, customers: int, source: Path | None = None) -> list[str]:
    """Train and activate a detector in ``root`` (or copy ``source``, a workspace trained the
    same way, without its entity store); return request paths built from test events."""
    from fraudpipe.workspace import get_workspace
    from tests.api.trained import test_events, train_active_detector

    ws = get_workspace(root)
    if source is None:
        train_active_detector(ws, customers=customers)
    else:
        skip = shutil.ignore_patterns("entity_store.sqlite*", "*.lock", "jobs")
        shutil.copytree(source, root, ignore=skip)
    paths = []
    for event in test_events(ws):
        query = {name: event[name] for name in REQUEST_FIELDS}
        query["event_timestamp"] = event["EVENT_TIMESTAMP"]
        paths.append("/predict?" + urlencode(query))
    return paths


def start_server(root: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FRAUDPIPE_HOME": str(root), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "fraudpipe.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"serve exited: {server.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("serve did not start listening within 60 s")


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (``serve --workers N`` runs N worker processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (Linux ``/proc``; 0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def preemption_floor(seconds: float = 2.0, work: float = 100e-6) -> dict:
    """How long ``work`` seconds of pure computation take here: on a machine shared with other
    jobs the scheduler preempts a process for whole time slices (4 ms each at HZ=250), which no
    server can avoid; a p99 below this floor cannot be measured."""
    spans = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        begin = time.perf_counter()
        while time.perf_counter() - begin < work:
            pass
        spans.append(time.perf_counter() - begin)
    spans.sort()
    return {"work_us": round(work * 1e6), "p50_ms": round(spans[len(spans) // 2] * 1e3, 2),
            "p99_ms": round(spans[int(len(spans) * 0.99)] * 1e3, 2),
            "max_ms": round(spans[-1] * 1e3, 2)}  # fmt: skip


def steal_ms() -> float:
    """Time the hypervisor ran something else while this machine's vCPUs wanted to run
    ("steal" of ``/proc/stat``, all CPUs), in ms."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


class StealWatch:
    """Samples :func:`steal_ms` every 50 ms in a thread: how much time the host took during a
    run and when most of it went (a stolen time slice stalls whatever server worker or
    client ran on that vCPU, whatever the code does)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.samples = every, [(time.perf_counter(), steal_ms())]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="steal-watch", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append((time.perf_counter(), steal_ms()))

    def __enter__(self) -> StealWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), steal_ms()))

    def summary(self, start: float) -> dict:
        """Total steal, and the largest in one sample interval with its time after ``start``."""
        steps = [(t1 - start, s1 - s0) for (_, s0), (t1, s1) in
                 zip(self.samples, self.samples[1:], strict=False)]
        at, most = max(steps, key=lambda step: step[1], default=(0.0, 0.0))
        return {"total_ms": round(self.samples[-1][1] - self.samples[0][1], 1),
                "largest_ms": round(most, 1), "largest_at_s": round(at, 2)}


def measured(server_pids: list[int], coroutine: Any) -> dict:
    """Run one driver coroutine; add the server's and this client's CPU per request, and the
    time the hypervisor stole meanwhile."""
    before, client_before = {pid: cpu_seconds(pid) for pid in server_pids}, time.process_time()
    with GcPauses() as pauses, StealWatch() as steal:
        result = run(coroutine)
    used = [cpu_seconds(pid) - cpu for pid, cpu in before.items()]
    # the steal's times after the driver's start (its perf_counter reading, not written out)
    result["steal"] = steal.summary(result.pop("start_clock"))
    # how the work split over the workers (the supervisor of --workers N uses ~0)
    result["server_cpu_s_per_process"] = sorted((round(cpu, 2) for cpu in used), reverse=True)
    result["client_gc"] = pauses.summary()
    requests = max(result["requests"], 1)
    result["server_cpu_us_per_request"] = round(sum(used) / requests * 1e6)
    result["client_cpu_us_per_request"] = round(
        (time.process_time() - client_before) / requests * 1e6)
    return result


# --- the open-loop driver ---------------------------------------------------------------------
try:  # the client shares the CPUs with the server: the leaner event loop when installed
    from uvloop import run
except ImportError:  # pragma: no cover
    from asyncio import run

#: Timestamps of the driver (uvloop's ``loop.time()`` counts whole milliseconds).
clock = time.perf_counter

class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: a bare protocol (no stream objects) so the client
    spends little of the CPU it shares with the server. Handles Content-Length answers."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False

    @classmethod
    async def open(cls, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, "127.0.0.1", port)
        conn.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        length = content_length(bytes(self.buffer[:end]))
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[:end + 4 + length]
        self.waiter.set_result(status)

    async def get(self, request: bytes) -> int:
        """Send one pre-encoded request and wait for its status."""
        if self.closed or self.transport is None:
            raise ConnectionResetError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def encode(path: str, key: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n\r\n".encode()


class GcPauses:
    """The client's own garbage collections (``gc.callbacks``): a collection stops the driver,
    so requests due meanwhile leave late and their answers are read late, and that wait counts
    in their latency as if the server had been slow."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, ms)
        self._began = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._began) * 1e3))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> dict:
        return {"collections": len(self.pauses),
                "full": sum(1 for generation, _ in self.pauses if generation == 2),
                "max_ms": round(max((ms for _, ms in self.pauses), default=0.0), 1),
                "total_ms": round(sum(ms for _, ms in self.pauses), 1)}  # fmt: skip


#: The issue's target for the p99 at 500 requests/s (ms): the spread of repeated runs is
#: reported against it.
TARGET_P99_MS = 10.0
#: A request slower than this (ms) is listed by when it was scheduled (see ``drive``).
SLOW_MS = 20.0


def connections_per_process(pids: list[int], port: int) -> dict[str, int]:
    """Established TCP connections to ``port`` held by each of ``pids`` (Linux ``/proc``):
    uvicorn's workers share one listening socket, and which accepts a connection is up to
    the kernel, so a run may load one worker more than the other."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    held = {}
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        count = sum(1 for link in links if link[8:-1] in inodes and link.startswith("socket:"))
        if count:
            held[str(pid)] = count
    return held


async def drive(port: int, key: str, paths: list[str], rate: float, seconds: float,
                max_connections: int = 64, timeout: float = 5.0,
                server_pids: list[int] | None = None) -> dict:
    """Send ``rate`` requests per second for ``seconds``; latency from the scheduled time.

    At most ``max_connections`` keep-alive connections; a request that finds none idle waits
    for one (its wait counts in its latency). A request unanswered after ``timeout`` seconds
    counts as an error.
    """
    requests = [encode(path, key) for path in paths]
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    total = int(rate * seconds)
    slow: list[tuple[float, float, bool]] = []  # (scheduled s after start, latency ms, new conn)

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors, opened
        conn = None
        try:
            async with asyncio.timeout(timeout):
                fresh = idle.empty() and opened < max_connections
                if fresh:
                    opened += 1
                    conn = await Connection.open(port)
                else:
                    conn = await idle.get()
                status = await conn.get(requests[index % len(requests)])
            latencies.append(clock() - scheduled)
            if latencies[-1] * 1000 > SLOW_MS:
                slow.append((scheduled - start, latencies[-1] * 1000, fresh))
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status != 200:
                errors += 1
            idle.put_nowait(conn)
        except (OSError, ValueError, TimeoutError) as exc:
            errors += 1
            if isinstance(exc, TimeoutError):  # censored: counts in the percentiles as timeout
                latencies.append(timeout)
            kind = type(exc).__name__
            statuses[kind] = statuses.get(kind, 0) + 1
            if conn is not None:
                conn.close()
                opened -= 1

    start = clock() + 0.2
    start_epoch = time.time() + (start - clock())
    # Only the unanswered requests' tasks are kept: a gather of all of them at the end
    # scheduled one callback per finished task (10,000 at 500/s for 20 s) in one turn of the
    # loop, ~20-30 ms during which the last answers waited unread.
    pending: set[asyncio.Task[None]] = set()
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    sent_in = clock() - start
    await asyncio.gather(*pending)
    held = connections_per_process(server_pids or [], port)
    while not idle.empty():
        idle.get_nowait().close()
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "rate": rate,
        "seconds": seconds,
        "start_epoch": round(start_epoch, 4),
        "start_clock": start,
        "requests": total,
        "sent_rate": round(total / sent_in, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "errors": errors,
        "statuses": statuses,
        "connections": opened,
        "connections_per_worker": sorted(held.values(), reverse=True),
        "slow": slow_summary(slow),
    }


def slow_summary(slow: list[tuple[float, float, bool]]) -> dict:
    """When the requests over :data:`SLOW_MS` were scheduled: in the first second (connections
    opening, the rate's first queue) or later, how many on a connection opened for them, and
    the slowest few with their time."""
    worst = sorted(slow, key=lambda s: -s[1])[:5]
    return {"over_ms": SLOW_MS, "count": len(slow),
            "in_first_second": sum(1 for at, _, _ in slow if at < 1.0),
            "on_new_connection": sum(1 for _, _, fresh in slow if fresh),
            "worst": [{"at_s": round(at, 3), "ms": round(ms, 1), "new_connection": fresh}
                      for at, ms, fresh in worst]}  # fmt: skip


async def sequential(port: int, key: str, paths: list[str], n: int = 300) -> dict:
    """One request at a time: the floor of the latency (service time + loopback)."""
    conn = await Connection.open(port)
    out = {}
    for label, batch in (("predict", paths[:n]), ("bad_request", ["/predict?amt=1"] * n)):
        times = []
        for path in batch:
            request = encode(path, key)
            begin = clock()
            await conn.get(request)
            times.append(clock() - begin)
        times.sort()
        out[label] = {"p50_ms": round(times[len(times) // 2] * 1000, 2),
                      "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 2)}  # fmt: skip
    conn.close()
    return out


async def capacity(port: int, key: str, feed: EventFeed, clients: int = 4,
                   seconds: float = 3.0) -> float:
    """Closed loop: ``clients`` connections each sending the next event on an answer;
    the requests per second the server sustains."""
    end = clock() + seconds
    done = 0

    async def client() -> None:
        nonlocal done
        conn = await Connection.open(port)
        while clock() < end:
            await conn.get(encode(feed.take(1)[0], key))
            done += 1
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return round(done / seconds, 1)


class EventFeed:
    """The test events in time order, each handed out once (as real traffic would send them):
    scoring an event appends it to its card's history, so replaying events would grow the
    histories with duplicates. Wraps around only if a run needs more events than the file has
    (``replayed`` counts those)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths, self.next, self.replayed = paths, 0, 0

    def take(self, n: int) -> list[str]:
        out = []
        for _ in range(n):
            if self.next >= len(self.paths):
                self.next, self.replayed = 0, self.replayed + 1
            out.append(self.paths[self.next])
            self.next += 1
        return out


def revision() -> str | None:
    """The measured code's commit (``+`` if the tree had changes), so figures can be traced."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty.strip() else "")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(results: list[dict], floor: dict) -> None:
    print(f"{'run':>3} {'rate/s':>7} {'sent':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>9} {'errors':>7} {'server CPU/req':>15} {'client CPU/req':>15}")  # fmt: skip
    for r in results:
        print(f"{r['run']:>3} {r['rate']:>7.0f} {r['requests']:>6} "
              f"{_ms(r['p50_ms']):>8} {_ms(r['p90_ms']):>8} {_ms(r['p99_ms']):>8} "
              f"{_ms(r['max_ms']):>9} {r['errors']:>7} "
              f"{r['server_cpu_us_per_request']:>12} µs "
              f"{r['client_cpu_us_per_request']:>12} µs")  # fmt: skip
    for r in results:
        s = r["slow"]
        worst = ", ".join(f"{w['ms']:.0f} ms at {w['at_s']:.2f} s"
                          + (" (new conn.)" if w["new_connection"] else "") for w in s["worst"])
        label = f"run {r['run']}, {r['rate']:.0f}/s"
        print(f"  {label}: {s['count']} requests over {s['over_ms']:.0f} ms "
              f"({s['in_first_second']} in the first second, {s['on_new_connection']} on a new "
              f"connection); worst {worst}; connections {r['connections']}, per worker "
              f"{r['connections_per_worker']}; server CPU s per process "
              f"{r['server_cpu_s_per_process']}")
        st = r["steal"]
        print(f"  {label}: the host stole {st['total_ms']} ms of CPU time, at most "
              f"{st['largest_ms']} ms within 50 ms (at {st['largest_at_s']} s)")
        g = r["client_gc"]
        print(f"  {label}: the client's garbage collections: {g['collections']} "
              f"({g['full']} full), longest {g['max_ms']} ms, {g['total_ms']} ms in all")
    if len(results) > len({r["rate"] for r in results}):  # repeated: the spread per rate
        for rate in sorted({r["rate"] for r in results}):
            p99 = sorted(r["p99_ms"] for r in results if r["rate"] == rate)
            errors = sum(r["errors"] for r in results if r["rate"] == rate)
            within = sum(1 for value in p99 if value <= TARGET_P99_MS)
            print(f"  {rate:.0f}/s over {len(p99)} runs: p99 {p99[0]:.2f} / "
                  f"{p99[len(p99) // 2]:.2f} / {p99[-1]:.2f} ms (min / median / max), "
                  f"<= {TARGET_P99_MS:.0f} ms in {within} of {len(p99)}, errors {errors}")
    print("one request at a time: " + ", ".join(
        f"{k} p50 {v['p50_ms']} ms p99 {v['p99_ms']} ms"
        for k, v in floor.items() if k in ("predict", "bad_request")))
    print(f"capacity (4 connections, closed loop): {floor['capacity_rps']} requests/s")
    spin = floor["preemption"]
    print(f"machine noise floor: {spin['work_us']} µs of computation took p50 {spin['p50_ms']} ms,"
          f" p99 {spin['p99_ms']} ms, max {spin['max_ms']} ms")
    print("latency percentiles count a timed-out request (5 s) as 5 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[200, 500])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure every rate this many times (one server, fresh events): "
                             "how much the percentiles move from run to run")
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="serve --workers (default: one per core, as a server is run)")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="reuse this trained workspace (made by an earlier run's "
                             "tests.api.trained.train_active_detector) instead of training")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the set-up's objects to the client's garbage collector "
                             "(as before: shows its pauses in the latencies)")
    args = parser.parse_args(argv)

    from fraudpipe.api.keys import ensure_api_key
    from fraudpipe.workspace import get_workspace
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory(prefix="fraudpipe-bench-api-") as tmp:
        root = Path(tmp) / "ws"
        t0 = time.perf_counter()
        paths = prepare_workspace(root, args.customers, args.workspace)
        print(f"trained and activated a detector in {time.perf_counter() - t0:.1f} s; "
              f"{len(paths)} distinct requests")  # fmt: skip
        key = ensure_api_key(get_workspace(root))
        if not args.no_freeze:
            # This process trained the model: its heap holds the engine's libraries and data,
            # and a full collection over them stopped the driver for ~85-100 ms once or more a
            # run (the max latency of every run). Frozen, a collection sees the driver's own
            # objects only.
            gc.collect()
            gc.freeze()
        port = free_port()
        server = start_server(root, port, args.workers)
        try:
            # warm up: the first request loads the model
            feed = EventFeed(paths)
            run(drive(port, key, feed.take(50), rate=50, seconds=1))
            floor = run(sequential(port, key, feed.take(300)))
            load_before = os.getloadavg()
            floor["preemption"] = preemption_floor()
            pids = process_tree(server.pid)
            results = []
            for run_number in range(1, args.repeat + 1):  # each rate in turn, then again
                for rate in args.rates:
                    result = measured(pids, drive(port, key, feed.take(int(rate * args.seconds)),
                                                  rate, args.seconds, server_pids=pids))
                    results.append({"run": run_number, **result})
            replayed_in_rates = feed.replayed
            # after the rates: a fast server's closed loop may use up the events the rates need
            floor["capacity_rps"] = run(capacity(port, key, feed))
            # the same schedule with requests refused before scoring: the HTTP stack alone
            reference = [measured(pids, drive(port, key, ["/predict?amt=1"], rate, 5))
                         for rate in args.rates]  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print_table(results, floor)
    print("reference, 400 answers without scoring (5 s each):")
    for r in reference:
        print(f"  {r['rate']:>5.0f}/s  p50 {_ms(r['p50_ms'])} ms  p99 {_ms(r['p99_ms'])} ms  "
              f"timeouts {r['statuses'].get('TimeoutError', 0)}  "
              f"server CPU {r['server_cpu_us_per_request']} µs/request")
    if feed.replayed:
        print(f"note: the run needed more events than the test file's {len(paths)}: "
              f"{feed.replayed} pass(es) replayed events already scored, "
              f"{replayed_in_rates} of them during the rates")
    code = revision()
    print(f"load average before / after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs; fraudpipe serve --workers {args.workers}; code {code}"
          + ("; client heap not frozen" if args.no_freeze else ""))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    figures = {"benchmark": "bench_api", "revision": code, "endpoint": "GET /predict",
               "transport": "loopback",
               "server": f"fraudpipe serve --workers {args.workers} (uvicorn)",
               "cpus": os.cpu_count(), "client_heap_frozen": not args.no_freeze,
               "load_average_before": load_before, "load_average_at_end": os.getloadavg(),
               "sequential": floor, "results": results,
               "events": len(paths), "event_passes_restarted": feed.replayed,
               "event_passes_restarted_during_rates": replayed_in_rates,
               "reference_400_without_scoring": reference}  # fmt: skip
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
