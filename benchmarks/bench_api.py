"""Load benchmark of the realtime API: GET /predict on loopback at fixed request rates.

What it does:
1. builds a workspace with a trained, ACTIVE detector (small generated data, the real engine);
2. starts ``fraudpipe serve`` in a second process on 127.0.0.1 (API key on, as in real use);
3. drives ``GET /predict`` open-loop (requests are sent on a fixed schedule whether or not earlier
   ones have answered, so a slow server cannot slow the load down and hide its latency) at each
   rate for ``--seconds`` seconds, over a pool of keep-alive connections;
4. prints p50 / p90 / p99 / max latency and errors per rate, and writes them to
   ``benchmarks/output/bench_api.json``.

Latency is measured from the *scheduled* send time to the last byte of the response.

    .venv/bin/python benchmarks/bench_api.py                   # 200 and 500 req/s, 20 s each
    .venv/bin/python benchmarks/bench_api.py --rates 100 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_api.json"
REQUEST_FIELDS = ("trans_num", "amt", "zip", "city", "first", "job", "street", "category",
                  "city_pop", "gender", "cc_num", "last", "state", "merchant")  # fmt: skip


# --- set-up -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_workspace(root: Path, customers: int) -> list[str]:
    """Train and activate a detector in ``root``; return request paths built from test events."""
    from fraudpipe.workspace import get_workspace
    from tests.api.trained import test_events, train_active_detector

    ws = get_workspace(root)
    train_active_detector(ws, customers=customers)
    paths = []
    for event in test_events(ws, limit=5000):
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


# --- the open-loop driver ---------------------------------------------------------------------
class Connection:
    """One keep-alive HTTP/1.1 connection (minimal client: GET, Content-Length bodies)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def get(self, path: str, key: str) -> int:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status


async def drive(port: int, key: str, paths: list[str], rate: float, seconds: float,
                max_connections: int = 64, timeout: float = 5.0) -> dict:
    """Send ``rate`` requests per second for ``seconds``; latency from the scheduled time.

    At most ``max_connections`` keep-alive connections; a request that finds none idle waits
    for one (its wait counts in its latency). A request unanswered after ``timeout`` seconds
    counts as an error.
    """
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()

    async def connection() -> Connection:
        nonlocal opened
        if idle.empty() and opened < max_connections:
            opened += 1
            return await Connection.open(port)
        return await idle.get()

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors, opened
        conn = None
        try:
            async with asyncio.timeout(timeout):
                conn = await connection()
                status = await conn.get(paths[index % len(paths)], key)
            latencies.append(loop.time() - scheduled)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status != 200:
                errors += 1
            idle.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
            errors += 1
            if isinstance(exc, TimeoutError):  # censored: counts in the percentiles as timeout
                latencies.append(timeout)
            kind = type(exc).__name__
            statuses[kind] = statuses.get(kind, 0) + 1
            if conn is not None:
                conn.writer.close()
                opened -= 1

    start = loop.time() + 0.2
    tasks = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    sent_in = loop.time() - start
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().writer.close()
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "rate": rate,
        "seconds": seconds,
        "requests": total,
        "sent_rate": round(total / sent_in, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "errors": errors,
        "statuses": statuses,
    }


async def sequential(port: int, key: str, paths: list[str], n: int = 300) -> dict:
    """One request at a time: the floor of the latency (service time + loopback)."""
    conn = await Connection.open(port)
    loop = asyncio.get_running_loop()
    out = {}
    for label, batch in (("predict", paths[:n]), ("bad_request", ["/predict?amt=1"] * n)):
        times = []
        for path in batch:
            begin = loop.time()
            await conn.get(path, key)
            times.append(loop.time() - begin)
        times.sort()
        out[label] = {"p50_ms": round(times[len(times) // 2] * 1000, 2),
                      "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 2)}  # fmt: skip
    conn.writer.close()
    return out


async def capacity(port: int, key: str, paths: list[str], clients: int = 4,
                   seconds: float = 5.0) -> float:
    """Closed loop: ``clients`` connections each sending its next request on an answer;
    the requests per second the server sustains."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    done = 0

    async def client(offset: int) -> None:
        nonlocal done
        conn = await Connection.open(port)
        index = offset
        while loop.time() < end:
            await conn.get(paths[index % len(paths)], key)
            index += clients
            done += 1
        conn.writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return round(done / seconds, 1)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(results: list[dict], floor: dict) -> None:
    print(f"{'rate/s':>7} {'sent':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>9} {'errors':>7}")  # fmt: skip
    for r in results:
        print(f"{r['rate']:>7.0f} {r['requests']:>6} {_ms(r['p50_ms']):>8} {_ms(r['p90_ms']):>8} "
              f"{_ms(r['p99_ms']):>8} {_ms(r['max_ms']):>9} {r['errors']:>7}")  # fmt: skip
    print("one request at a time: " + ", ".join(
        f"{k} p50 {v['p50_ms']} ms p99 {v['p99_ms']} ms"
        for k, v in floor.items() if isinstance(v, dict)))
    print(f"capacity (4 connections, closed loop): {floor['capacity_rps']} requests/s")
    print("latency percentiles count a timed-out request (5 s) as 5 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[200, 500])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers")
    args = parser.parse_args(argv)

    from fraudpipe.api.keys import ensure_api_key
    from fraudpipe.workspace import get_workspace

    with tempfile.TemporaryDirectory(prefix="fraudpipe-bench-api-") as tmp:
        root = Path(tmp) / "ws"
        t0 = time.perf_counter()
        paths = prepare_workspace(root, args.customers)
        print(f"trained and activated a detector in {time.perf_counter() - t0:.1f} s; "
              f"{len(paths)} distinct requests")  # fmt: skip
        key = ensure_api_key(get_workspace(root))
        port = free_port()
        server = start_server(root, port, args.workers)
        try:
            # warm up: the first request loads the model
            asyncio.run(drive(port, key, paths, rate=50, seconds=1))
            floor = asyncio.run(sequential(port, key, paths))
            floor["capacity_rps"] = asyncio.run(capacity(port, key, paths[1000:]))
            load_before = os.getloadavg()
            results = [asyncio.run(drive(port, key, paths, rate, args.seconds))
                       for rate in args.rates]  # fmt: skip
            # the same schedule with requests refused before scoring: the HTTP stack alone
            reference = [asyncio.run(drive(port, key, ["/predict?amt=1"], rate, 5))
                         for rate in args.rates]  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print_table(results, floor)
    print("reference, 400 answers without scoring (5 s each):")
    for r in reference:
        print(f"  {r['rate']:>5.0f}/s  p50 {_ms(r['p50_ms'])} ms  p99 {_ms(r['p99_ms'])} ms  "
              f"timeouts {r['statuses'].get('TimeoutError', 0)}")
    print(f"load average before / after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    figures = {"benchmark": "bench_api", "endpoint": "GET /predict", "transport": "loopback",
               "server": f"fraudpipe serve --workers {args.workers} (uvicorn)",
               "cpus": os.cpu_count(),
               "load_average_before": load_before, "load_average_at_end": os.getloadavg(),
               "sequential": floor, "results": results,
               "reference_400_without_scoring": reference}  # fmt: skip
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
