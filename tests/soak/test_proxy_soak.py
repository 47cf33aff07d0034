"""A bounded soak through the LiteLLM proxy (issue 6).

The real ``litellm`` proxy CLI, started from ``proxy_config.example.yaml`` with two workers (the
``tests/proxy`` harness), in front of the in-process emulator (``record=False``, so it keeps nothing
per request), takes 20,000 requests from ``openai.AsyncOpenAI`` at concurrency 64: a fixed mix of
plain chat, streamed chat (read to the end), tool calls on a tool-capable model, and tool calls on a
model without tool support, which the package's gate answers with HTTP 400 (expected). Every request
carries a token of its own, which its answer must echo. The proxy's memory (RSS of its whole process
tree) is read after the first 2,000 requests and at the end.

Minutes long, so it runs only when asked: ``COMPACTIFAI_SOAK=1 python -m pytest -q -s -m soak tests/soak``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Set, Tuple

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from proxy_harness import KEY, MASTER_KEY, Launch, Proxy, example_config, redact

from litellm_compactifai.emulator import Emulator

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(
        os.environ.get("COMPACTIFAI_SOAK") != "1",
        reason="soak test (minutes): run it with COMPACTIFAI_SOAK=1 python -m pytest -q -s -m soak tests/soak",
    ),
]

TOTAL = 20_000
WARMUP = 2_000  # the first requests of the TOTAL; the proxy's memory is read after them and at the end
CONCURRENCY = 64
MAX_RSS_GROWTH = 0.10
REQUEST_TIMEOUT = 120.0
SETTLE = 2.0  # seconds between the last answer and a memory reading (logging tasks, garbage)

TOOL_MODEL = "hypernova-60b"
TOOL_LESS_MODEL = "cai-mistral-small-3-1-slim"
# Ten requests in a fixed order, repeated: 4 chat, 3 streamed, 2 tool calls, 1 gated tool call.
PATTERN = ("chat", "stream", "tool", "chat", "gated", "stream", "chat", "tool", "stream", "chat")
KINDS = ("chat", "stream", "tool", "gated")
GATED = "does not support tool calling"
# uvicorn's access log line, which the proxy prints for every request it answers.
ACCESS_LINE = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})')
TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    expected_400: int = 0
    unexpected: int = 0
    latencies: List[float] = field(default_factory=list)


@dataclass
class Soak:
    tallies: Dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    failures: List[str] = field(default_factory=list)  # the first few unexpected outcomes, for the report
    seconds: float = 0.0  # sending, pauses excluded
    proxy_cpu: float = 0.0  # CPU seconds of the proxy's process tree while the requests ran
    own_cpu: float = 0.0  # CPU seconds of this process (client and emulator)

    def unexpected(self, kind: str, index: int, what: str) -> None:
        self.tallies[kind].unexpected += 1
        if len(self.failures) < 10:
            self.failures.append(f"#{index} {kind}: {redact(what)[:500]}")


def token(index: int) -> str:
    # Capitalised: the emulator also takes it as the city of "What's the weather like in <token>?".
    return f"Soak{index:05d}"


def model_for(kind: str, index: int) -> str:
    if kind == "tool":
        return TOOL_MODEL
    if kind == "gated":
        return TOOL_LESS_MODEL
    return TOOL_MODEL if (index // len(PATTERN)) % 2 else TOOL_LESS_MODEL


async def one(client: openai.AsyncOpenAI, index: int, soak: Soak) -> None:
    """Sends request ``index`` and files its outcome; never raises."""
    kind = PATTERN[index % len(PATTERN)]
    model = model_for(kind, index)
    tally = soak.tallies[kind]
    tally.sent += 1
    started = time.perf_counter()
    try:
        if kind in ("chat", "stream"):
            prompt = f"Say hello to {token(index)}"
            messages: List[ChatCompletionMessageParam] = [{"role": "user", "content": prompt}]
            expected = f"[{model}] You said: {prompt} "
            if kind == "chat":
                response = await client.chat.completions.create(model=f"compactifai/{model}", messages=messages)
                text = response.choices[0].message.content or ""
                finish = [response.choices[0].finish_reason]
            else:
                stream = await client.chat.completions.create(
                    model=f"compactifai/{model}", messages=messages, stream=True
                )
                pieces: List[str] = []
                finish = []
                async for chunk in stream:
                    if chunk.choices:
                        pieces.append(chunk.choices[0].delta.content or "")
                        if chunk.choices[0].finish_reason:
                            finish.append(chunk.choices[0].finish_reason)
                text = "".join(pieces)
                if len([p for p in pieces if p]) < 4:
                    return soak.unexpected(kind, index, f"not streamed: {pieces!r}")
            if not text.startswith(expected) or finish != ["stop"]:
                return soak.unexpected(kind, index, f"answer {text!r}, finish {finish!r}, expected {expected!r}...")
        else:
            messages = [{"role": "user", "content": f"What's the weather like in {token(index)}?"}]
            create = client.chat.completions.create
            if kind == "gated":
                try:
                    await create(model=f"compactifai/{model}", messages=messages, tools=[TOOL])
                except openai.BadRequestError as error:
                    if error.status_code == 400 and GATED in str(error) and f"'{model}'" in str(error):
                        tally.expected_400 += 1
                        tally.latencies.append(time.perf_counter() - started)
                        return None
                    raise
                return soak.unexpected(kind, index, "a tool call to a model without tool support was answered")
            response = await create(
                model=f"compactifai/{model}",
                messages=messages,
                tools=[TOOL],
                tool_choice="required",
            )
            choice = response.choices[0]
            calls: List[Tuple[str, object]] = []
            for call in choice.message.tool_calls or []:
                function: Any = getattr(call, "function", None)  # a "custom" tool call has none: wrong too
                calls.append((function.name, json.loads(function.arguments)) if function else (call.type, None))
            if choice.finish_reason != "tool_calls" or calls != [("get_weather", {"location": token(index)})]:
                return soak.unexpected(kind, index, f"tool calls {calls!r}, finish {choice.finish_reason!r}")
    except Exception as error:  # noqa: BLE001 - every failure is counted and reported, none may stop the run
        return soak.unexpected(kind, index, f"{type(error).__name__}: {error}")
    tally.ok += 1
    tally.latencies.append(time.perf_counter() - started)
    return None


async def send(client: openai.AsyncOpenAI, indices: Iterable[int], soak: Soak) -> None:
    """``indices`` in order, at most ``CONCURRENCY`` in flight."""
    queue = iter(indices)

    async def worker() -> None:
        for index in queue:
            await one(client, index, soak)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    soak.seconds += time.perf_counter() - started


# --- the proxy's memory ----------------------------------------------------------------------------------


def children(pid: int) -> Set[int]:
    """Direct children of ``pid``: from /proc/<pid>/task/*/children where the kernel has it
    (CONFIG_PROC_CHILDREN), else from the parent field of every /proc/<pid>/stat."""
    tasks = Path(f"/proc/{pid}/task")
    files = [task / "children" for task in tasks.iterdir()] if tasks.is_dir() else []
    if files and all(f.exists() for f in files):
        found: Set[int] = set()
        for f in files:
            try:
                found.update(int(child) for child in f.read_text().split())
            except OSError:  # the thread ended meanwhile
                pass
        return found
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def process_tree(root: int) -> Set[int]:
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree.add(pid)
            todo.extend(children(pid))
    return tree


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has no VmRSS


def tree_rss(root: int) -> Tuple[Set[int], int]:
    """The pids of ``root``'s process tree and the sum of their RSS in KiB."""
    pids = process_tree(root)
    return pids, sum(rss_kib(pid) for pid in pids)


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by the processes of ``root``'s tree."""
    total = 0
    for pid in process_tree(root):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return total / os.sysconf("SC_CLK_TCK")


# --- fixtures and the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}, record=False) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(launch: Launch, emu: Emulator) -> Proxy:
    text, env = example_config()
    return launch(text, emu.base_url, workers=2, name="soak-proxy", **env)


def percentile(values: List[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else float("nan")


@dataclass
class Memory:
    pids_before: Set[int]
    rss_before: int  # KiB, summed over the proxy's process tree
    pids_after: Set[int]
    rss_after: int

    @property
    def growth(self) -> float:
        return (self.rss_after - self.rss_before) / self.rss_before


def report(soak: Soak, memory: Memory, access: Dict[str, int]) -> str:
    lines = [
        f"proxy soak: litellm {version('litellm')}, proxy_config.example.yaml, 2 workers; "
        f"client openai.AsyncOpenAI {version('openai')}, concurrency {CONCURRENCY}",
        f"{'kind':<8}{'sent':>8}{'ok':>8}{'exp-400':>9}{'unexp':>7}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    rows = [(kind, [t]) for kind, t in soak.tallies.items()] + [("total", list(soak.tallies.values()))]
    for name, tallies in rows:
        latencies = [s for t in tallies for s in t.latencies]
        lines.append(
            f"{name:<8}{sum(t.sent for t in tallies):>8}{sum(t.ok for t in tallies):>8}"
            f"{sum(t.expected_400 for t in tallies):>9}{sum(t.unexpected for t in tallies):>7}"
            f"{percentile(latencies, 0.50) * 1000:>9.1f}{percentile(latencies, 0.99) * 1000:>9.1f}"
        )
    sent = sum(t.sent for t in soak.tallies.values())
    lines += [
        f"proxy access log: {', '.join(f'{n} x {status}' for status, n in sorted(access.items()))}",
        f"throughput: {sent / soak.seconds:.1f} req/s ({sent} requests in {soak.seconds:.1f} s)",
        f"CPU: proxy {soak.proxy_cpu:.0f} s ({soak.proxy_cpu / sent * 1000:.1f} ms/request), test process "
        f"(client + emulator) {soak.own_cpu:.0f} s ({soak.own_cpu / sent * 1000:.1f} ms/request), "
        f"{os.cpu_count()} CPUs",
        f"proxy RSS ({len(memory.pids_after)} processes): {memory.rss_before / 1024:.1f} MiB after {WARMUP} "
        f"requests, {memory.rss_after / 1024:.1f} MiB after {sent}: {memory.growth:+.2%} (limit {MAX_RSS_GROWTH:.0%})",
    ]
    return "\n".join(lines)


def test_proxy_soak(proxy: Proxy) -> None:
    async def run() -> Tuple[Soak, Memory]:
        soak = Soak()
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(trust_env=False, timeout=REQUEST_TIMEOUT, limits=limits) as http:
            client = openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0, http_client=http)
            proxy_cpu, own_cpu = tree_cpu(proxy.pid), time.process_time()
            await send(client, range(WARMUP), soak)
            await asyncio.sleep(SETTLE)
            before = tree_rss(proxy.pid)
            await send(client, range(WARMUP, TOTAL), soak)
            soak.proxy_cpu, soak.own_cpu = tree_cpu(proxy.pid) - proxy_cpu, time.process_time() - own_cpu
            await asyncio.sleep(SETTLE)
            after = tree_rss(proxy.pid)
        return soak, Memory(*before, *after)

    soak, memory = asyncio.run(run())
    access: Dict[str, int] = {}
    for status in ACCESS_LINE.findall(proxy.log()):
        access[status] = access.get(status, 0) + 1
    print("\n" + report(soak, memory, access))

    assert soak.failures == [], "\n".join(soak.failures)
    tallies = soak.tallies
    for kind, tally in tallies.items():
        assert tally.unexpected == 0, kind
        assert tally.sent == tally.ok + tally.expected_400, (kind, tally.sent, tally.ok, tally.expected_400)
        assert (tally.ok if kind == "gated" else tally.expected_400) == 0, kind
    assert {kind: t.sent for kind, t in tallies.items()} == {
        kind: TOTAL // len(PATTERN) * PATTERN.count(kind) for kind in KINDS
    }
    # The proxy's own count: one answer per request, with the status the client saw.
    assert access == {"200": TOTAL - tallies["gated"].sent, "400": tallies["gated"].sent}, access
    # No worker died or was replaced under load (its memory would no longer be comparable).
    assert memory.pids_after == memory.pids_before
    assert len(memory.pids_after) >= 3, f"expected the proxy and its 2 workers, found {sorted(memory.pids_after)}"
    assert memory.growth < MAX_RSS_GROWTH, (memory.rss_before, memory.rss_after)
