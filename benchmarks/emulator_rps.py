"""Throughput check for the CompactifAI emulator (not a test).

Starts ``python -m litellm_compactifai.emulator`` in a subprocess (recording is
off there), then drives it from this process with many keep-alive
connections sending small non-streaming chat requests, and prints a table of
requests/s.  Two client flavours: a raw asyncio HTTP/1.1 client (measures the
server) and httpx.AsyncClient (what tests use; client-bound).

    python benchmarks/emulator_rps.py [--seconds 5] [--connections 32] [--httpx-connections 8]

Run it from a directory where ``litellm_compactifai`` is importable (installed
or on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

BODY = {
    "model": "carina-60b",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello to the benchmark."},
    ],
    "max_tokens": 32,
}
STREAM_BODY = {
    "model": "carina-60b",
    "messages": [{"role": "user", "content": "words=500 stream please"}],
    "stream": True,
}


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "litellm_compactifai.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
    return proc, port


async def raw_worker(port: int, payload: bytes, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"authorization: Bearer bench\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%b" % (len(payload), payload)
    )
    n = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:200])
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:
                await reader.readuntil(b"\r\n0\r\n\r\n")
            else:
                i = lower.index(b"content-length: ") + 16
                length = int(lower[i : lower.index(b"\r\n", i)])
                await reader.readexactly(length)
            n += 1
    finally:
        counts.append(n)
        writer.close()


async def httpx_worker(client: Any, payload: dict[str, Any], deadline: float, counts: list[int]) -> None:
    n = 0
    while time.perf_counter() < deadline:
        r = await client.post("/chat/completions", json=payload)
        r.raise_for_status()
        n += 1
    counts.append(n)


async def run_raw(port: int, body: dict[str, Any], conns: int, seconds: float) -> float:
    payload = json.dumps(body).encode()
    counts: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(raw_worker(port, payload, deadline, counts) for _ in range(conns)))
    return sum(counts) / (time.perf_counter() - start)


async def run_httpx(port: int, conns: int, seconds: float) -> float:
    import httpx

    counts: list[int] = []
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/v1",
        headers={"Authorization": "Bearer bench"},
        limits=limits,
    ) as client:
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(httpx_worker(client, BODY, deadline, counts) for _ in range(conns)))
        return sum(counts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    # httpx's async pool degrades sharply beyond ~8 concurrent connections (client-bound).
    parser.add_argument("--httpx-connections", type=int, default=8)
    args = parser.parse_args()
    proc, port = start_server()
    rows: list[tuple[str, int, float]] = []
    try:
        asyncio.run(run_raw(port, BODY, 4, 1.0))  # warm-up
        rows.append(
            (
                "raw keep-alive, chat JSON",
                args.connections,
                asyncio.run(run_raw(port, BODY, args.connections, args.seconds)),
            )
        )
        rows.append(
            (
                "raw keep-alive, chat stream 500 words",
                args.connections,
                asyncio.run(run_raw(port, STREAM_BODY, args.connections, args.seconds)),
            )
        )
        rows.append(
            (
                "httpx.AsyncClient, chat JSON",
                args.httpx_connections,
                asyncio.run(run_httpx(port, args.httpx_connections, args.seconds)),
            )
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"{'client':<42}{'conns':>6}{'req/s':>10}")
    for name, conns, rps in rows:
        print(f"{name:<42}{conns:>6}{rps:>10.0f}")


if __name__ == "__main__":
    main()
