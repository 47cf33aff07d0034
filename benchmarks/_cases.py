"""One benchmark case, run in a fresh process by ``benchmarks/run.py`` (not meant to be run by hand).

    python benchmarks/_cases.py CASE '<json params>'     # one measurement, one ``RESULT {...}`` line
    python benchmarks/_cases.py serve CASE PATH          # a worker: ``READY``, then one RESULT per stdin line

Cases:

* ``latency``     sequential short chat completions through one path, sync then async (p50/p99);
* ``throughput``  ``acompletion``-style async calls at several concurrencies (req/s, p99);
* ``stream``      a streamed ``words=N`` answer, sync then async (time to first token, total);
* ``import``      ``import litellm`` [then ``import litellm_compactifai``] (wall, peak RSS);
* ``hooks``       the provider-config hooks alone, this package's vs the config it replaces (us/call);
* ``load``        a raw keep-alive HTTP/1.1 load generator (the proxy and emulator-headroom cases).

The five paths to the emulator (``PATHS``):

* ``httpx``            raw ``httpx.Client`` / ``httpx.AsyncClient``: the floor;
* ``openai-sdk``       the ``openai`` SDK (``OpenAI`` / ``AsyncOpenAI``);
* ``litellm-openai``   LiteLLM's generic ``openai/<id>`` route with ``api_base`` and ``api_key``;
* ``litellm-builtin``  LiteLLM's own ``compactifai/`` route (>= 1.77.3), this package NOT imported;
* ``package``          ``compactifai/`` after ``import litellm_compactifai``.

Every LiteLLM path runs with LiteLLM's defaults (async HTTP through aiohttp on LiteLLM >= 1.7x).
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    FrozenSet,
    Iterator,
    List,
    Literal,
    Optional,
    Tuple,
    TypeVar,
    cast,
)

MODEL = "carina-60b"
API_KEY = "bench-key"
SHORT_MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the benchmark."},
]
MAX_TOKENS = 32
SHORT_ANSWER_WORDS = 12  # the emulator pads a short answer to 12 words

PATHS = ("httpx", "openai-sdk", "litellm-openai", "litellm-builtin", "package")
LITELLM_PATHS = ("litellm-openai", "litellm-builtin", "package")

SyncCall = Callable[[], str]
AsyncCall = Callable[[], Awaitable[str]]
SyncStream = Callable[[], Iterator[str]]
AsyncStream = Callable[[], AsyncIterator[str]]


class Skip(Exception):
    """The path does not exist in this environment (LiteLLM without a built-in compactifai route)."""


def percentile(values: List[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; the values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


_LOOP: Optional[asyncio.AbstractEventLoop] = None
T = TypeVar("T")


def run_async_in_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on this process's one event loop (a serving worker measures many times, and
    LiteLLM and the SDKs keep clients bound to the loop that created them)."""
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        asyncio.set_event_loop(_LOOP)
    return _LOOP.run_until_complete(coro)


def prepare(path: str) -> None:
    """Everything a path imports, before a serving worker says it is ready."""
    if path == "httpx":
        import httpx  # noqa: F401
    elif path == "openai-sdk":
        import openai  # noqa: F401
    else:
        _litellm_route(path, "http://127.0.0.1:9/v1")


# --- the paths -------------------------------------------------------------------------------------


def _litellm_route(path: str, base_url: str) -> Dict[str, Any]:
    """Import LiteLLM (and the package for ``package``) and return the call's routing kwargs."""
    import litellm

    if path == "litellm-openai":
        return {"model": f"openai/{MODEL}", "api_base": base_url, "api_key": API_KEY}
    if path == "litellm-builtin":
        providers = {p.value for p in getattr(litellm, "LlmProviders", [])}
        if "compactifai" not in providers:
            raise Skip(f"LiteLLM {_version('litellm')} has no built-in compactifai route (added in 1.77.3)")
        # The key comes from COMPACTIFAI_API_KEY (set by run.py), as a user of the built-in would do.
        return {"model": f"compactifai/{MODEL}", "api_base": base_url}
    if path == "package":
        import litellm_compactifai

        litellm_compactifai.register()
        return {"model": f"compactifai/{MODEL}", "api_base": base_url}
    raise ValueError(path)


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _check_answer(text: Optional[str], words: int) -> str:
    if not text or len(text.split()) != words:
        raise RuntimeError(f"unexpected answer ({words} words expected): {text!r}")
    return text


def sync_call(path: str, base_url: str) -> SyncCall:
    """A zero-argument function making one short chat completion through ``path``."""
    if path == "httpx":
        import httpx

        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        body = {"model": MODEL, "messages": SHORT_MESSAGES, "max_tokens": MAX_TOKENS}

        def call_httpx() -> str:
            r = client.post("/chat/completions", json=body)
            r.raise_for_status()
            return str(r.json()["choices"][0]["message"]["content"])

        return call_httpx
    if path == "openai-sdk":
        import openai

        sdk = openai.OpenAI(base_url=base_url, api_key=API_KEY)

        def call_openai() -> str:
            r = sdk.chat.completions.create(model=MODEL, messages=cast(Any, SHORT_MESSAGES), max_tokens=MAX_TOKENS)
            return str(r.choices[0].message.content)

        return call_openai
    route = _litellm_route(path, base_url)
    import litellm

    def call_litellm() -> str:
        r = litellm.completion(messages=SHORT_MESSAGES, max_tokens=MAX_TOKENS, **route)
        return str(r.choices[0].message.content)

    return call_litellm


def async_call(path: str, base_url: str, connections: int = 100) -> AsyncCall:
    """An async zero-argument function making one short chat completion through ``path``.

    Create it inside the event loop that will use it.
    """
    if path == "httpx":
        import httpx

        # Keep-alive for every concurrent request: httpx's default keeps 20 connections alive.
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60, limits=limits
        )
        body = {"model": MODEL, "messages": SHORT_MESSAGES, "max_tokens": MAX_TOKENS}

        async def call_httpx() -> str:
            r = await client.post("/chat/completions", json=body)
            r.raise_for_status()
            return str(r.json()["choices"][0]["message"]["content"])

        return call_httpx
    if path == "openai-sdk":
        import openai

        sdk = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY)

        async def call_openai() -> str:
            r = await sdk.chat.completions.create(
                model=MODEL, messages=cast(Any, SHORT_MESSAGES), max_tokens=MAX_TOKENS
            )
            return str(r.choices[0].message.content)

        return call_openai
    route = _litellm_route(path, base_url)
    import litellm

    async def call_litellm() -> str:
        r = await litellm.acompletion(messages=SHORT_MESSAGES, max_tokens=MAX_TOKENS, **route)
        return str(r.choices[0].message.content)

    return call_litellm


def _stream_messages(words: int) -> List[Dict[str, str]]:
    return [{"role": "user", "content": f"words={words} Tell the benchmark a long story."}]


def _sse_piece(line: str) -> Optional[str]:
    """The content of one SSE line of a chat stream ("" for non-content lines, None at [DONE])."""
    if not line.startswith("data: "):
        return ""
    data = line[6:]
    if data == "[DONE]":
        return None
    chunk = json.loads(data)
    choices = chunk.get("choices") or []
    return (choices[0].get("delta") or {}).get("content") or "" if choices else ""


def sync_stream(path: str, base_url: str, words: int) -> SyncStream:
    """A function returning an iterator over the content pieces of one streamed answer."""
    messages = _stream_messages(words)
    if path == "httpx":
        import httpx

        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        body = {"model": MODEL, "messages": messages, "stream": True}

        def stream_httpx() -> Iterator[str]:
            with client.stream("POST", "/chat/completions", json=body) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    piece = _sse_piece(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece

        return stream_httpx
    if path == "openai-sdk":
        import openai

        sdk = openai.OpenAI(base_url=base_url, api_key=API_KEY)

        def stream_openai() -> Iterator[str]:
            for chunk in sdk.chat.completions.create(model=MODEL, messages=cast(Any, messages), stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        return stream_openai
    route = _litellm_route(path, base_url)
    import litellm

    def stream_litellm() -> Iterator[str]:
        for chunk in litellm.completion(messages=messages, stream=True, **route):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    return stream_litellm


def async_stream(path: str, base_url: str, words: int) -> AsyncStream:
    """Async twin of :func:`sync_stream`; create it inside the event loop that will use it."""
    messages = _stream_messages(words)
    if path == "httpx":
        import httpx

        client = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        body = {"model": MODEL, "messages": messages, "stream": True}

        async def stream_httpx() -> AsyncIterator[str]:
            async with client.stream("POST", "/chat/completions", json=body) as r:
                r.raise_for_status()
                async for line in r.aiter_lines():
                    piece = _sse_piece(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece

        return stream_httpx
    if path == "openai-sdk":
        import openai

        sdk = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY)

        async def stream_openai() -> AsyncIterator[str]:
            response = await sdk.chat.completions.create(model=MODEL, messages=cast(Any, messages), stream=True)
            async for chunk in response:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        return stream_openai
    route = _litellm_route(path, base_url)
    import litellm

    async def stream_litellm() -> AsyncIterator[str]:
        response = await litellm.acompletion(messages=messages, stream=True, **route)
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    return stream_litellm


def _environment(path: str) -> Dict[str, Any]:
    """What the process actually ran: the package loaded or not, and the LiteLLM async transport."""
    info: Dict[str, Any] = {"package_imported": "litellm_compactifai" in sys.modules}
    if path in LITELLM_PATHS:
        import litellm

        info["aiohttp_transport"] = not getattr(litellm, "disable_aiohttp_transport", True)
    if path == "package":
        import litellm_compactifai

        info["registration_path"] = litellm_compactifai.registration_path()
    if path != "package" and info["package_imported"]:
        raise RuntimeError(f"path {path} must run without litellm_compactifai, but it was imported")
    return info


# --- the cases ---------------------------------------------------------------------------------------


def case_latency(params: Dict[str, Any]) -> Dict[str, Any]:
    path, base_url = params["path"], params["base_url"]
    calls, warmup = int(params["calls"]), int(params["warmup"])
    profile = params.get("profile")
    call = sync_call(path, base_url)
    for _ in range(warmup):
        _check_answer(call(), SHORT_ANSWER_WORDS)
    profiler = _start_profiler() if profile else None
    sync_times: List[float] = []
    cpu0 = time.process_time()  # every thread of the process: LiteLLM logs and prices calls in the background
    for _ in range(calls):
        t0 = time.perf_counter()
        text = call()
        sync_times.append(time.perf_counter() - t0)
    sync_cpu = time.process_time() - cpu0
    _check_answer(text, SHORT_ANSWER_WORDS)
    if profiler is not None:
        _stop_profiler(profiler, f"{profile}.sync.txt")

    async def run_async() -> Tuple[List[float], float]:
        acall = async_call(path, base_url)
        for _ in range(warmup):
            _check_answer(await acall(), SHORT_ANSWER_WORDS)
        aprofiler = _start_profiler(async_mode="enabled") if profile else None
        times: List[float] = []
        cpu0 = time.process_time()
        for _ in range(calls):
            t0 = time.perf_counter()
            text = await acall()
            times.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
        _check_answer(text, SHORT_ANSWER_WORDS)
        if aprofiler is not None:
            _stop_profiler(aprofiler, f"{profile}.async.txt")
        return times, cpu

    async_times, async_cpu = run_async_in_loop(run_async())
    return {
        "sync_p50_ms": percentile(sync_times, 0.5) * 1e3,
        "sync_p99_ms": percentile(sync_times, 0.99) * 1e3,
        "async_p50_ms": percentile(async_times, 0.5) * 1e3,
        "async_p99_ms": percentile(async_times, 0.99) * 1e3,
        "sync_cpu_ms": sync_cpu / calls * 1e3,
        "async_cpu_ms": async_cpu / calls * 1e3,
        "calls": calls,
        **_environment(path),
    }


def _start_profiler(async_mode: Literal["enabled", "disabled"] = "disabled") -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002, async_mode=async_mode)
    profiler.start()
    return profiler


def _stop_profiler(profiler: Any, out: str) -> None:
    """pyinstrument's call tree, then inclusive/self time per function (this package's and the top 30)."""
    session = profiler.stop()
    root = session.root_frame()
    total = root.time if root is not None else 0.0
    inclusive: Dict[str, float] = {}
    own: Dict[str, float] = {}

    def walk(frame: Any, ancestors: FrozenSet[str]) -> None:
        name = f"{frame.function} ({_short_path(frame.file_path or '')}:{frame.line_no})"
        if frame.function.startswith("["):  # pyinstrument's synthetic [self] / [await] frames
            return
        if name not in ancestors:  # recursion counts once
            inclusive[name] = inclusive.get(name, 0.0) + frame.time
        own[name] = own.get(name, 0.0) + frame.total_self_time
        for child in frame.children:
            walk(child, ancestors | {name})

    if root is not None:
        walk(root, frozenset())
    lines = [profiler.output_text(unicode=True, color=False, show_all=False)]
    lines.append(f"\nthis package's functions (inclusive, of {total * 1e3:.0f} ms profiled):")
    for name, t in sorted(inclusive.items(), key=lambda kv: -kv[1]):
        if "litellm_compactifai" in name:
            lines.append(f"  {100 * t / total:5.1f}%  {name}")
    lines.append("\ntop 30 functions by self time:")
    for name, t in sorted(own.items(), key=lambda kv: -kv[1])[:30]:
        lines.append(f"  {100 * t / total:5.1f}%  {name}")
    lines.append("\ntop 40 functions by inclusive time:")
    for name, t in sorted(inclusive.items(), key=lambda kv: -kv[1])[:40]:
        lines.append(f"  {100 * t / total:5.1f}%  {name}")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(out.replace(".txt", ".json"), "w", encoding="utf-8") as f:
        json.dump({"total_s": total, "inclusive_s": inclusive, "self_s": own}, f)


def _short_path(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


async def _timed_workers(acall: AsyncCall, concurrency: int, seconds: float, max_calls: int) -> Dict[str, float]:
    latencies: List[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline and len(latencies) < max_calls:
            t0 = time.perf_counter()
            await acall()
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    return {
        "rps": len(latencies) / elapsed,
        "cpu_ms": cpu / max(len(latencies), 1) * 1e3,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "calls": len(latencies),
    }


def case_throughput(params: Dict[str, Any]) -> Dict[str, Any]:
    path, base_url = params["path"], params["base_url"]
    seconds, warmup_seconds = float(params["seconds"]), float(params["warmup_seconds"])
    levels = [int(c) for c in params["concurrency"]]
    max_calls = int(params.get("max_calls", 200_000))

    async def run() -> Dict[str, Any]:
        acall = async_call(path, base_url, connections=max(levels) * 2)
        _check_answer(await acall(), SHORT_ANSWER_WORDS)
        out: Dict[str, Any] = {}
        for level in levels:
            await _timed_workers(acall, level, warmup_seconds, max_calls)
            measured = await _timed_workers(acall, level, seconds, max_calls)
            for key, value in measured.items():
                out[f"c{level}_{key}"] = value
        return out

    return {**run_async_in_loop(run()), **_environment(path)}


def case_stream(params: Dict[str, Any]) -> Dict[str, Any]:
    path, base_url = params["path"], params["base_url"]
    streams, warmup, words = int(params["streams"]), int(params["warmup"]), int(params["words"])

    def measure_sync() -> Dict[str, float]:
        open_stream = sync_stream(path, base_url, words)
        ttft: List[float] = []
        total: List[float] = []
        for i in range(warmup + streams):
            t0 = time.perf_counter()
            first: Optional[float] = None
            pieces: List[str] = []
            for piece in open_stream():
                if first is None:
                    first = time.perf_counter() - t0
                pieces.append(piece)
            elapsed = time.perf_counter() - t0
            _check_answer("".join(pieces), words)
            if i >= warmup and first is not None:
                ttft.append(first)
                total.append(elapsed)
        return {"sync_ttft_ms": statistics.median(ttft) * 1e3, "sync_total_ms": statistics.median(total) * 1e3}

    async def measure_async() -> Dict[str, float]:
        open_stream = async_stream(path, base_url, words)
        ttft: List[float] = []
        total: List[float] = []
        for i in range(warmup + streams):
            t0 = time.perf_counter()
            first: Optional[float] = None
            pieces: List[str] = []
            async for piece in open_stream():
                if first is None:
                    first = time.perf_counter() - t0
                pieces.append(piece)
            elapsed = time.perf_counter() - t0
            _check_answer("".join(pieces), words)
            if i >= warmup and first is not None:
                ttft.append(first)
                total.append(elapsed)
        return {"async_ttft_ms": statistics.median(ttft) * 1e3, "async_total_ms": statistics.median(total) * 1e3}

    return {**measure_sync(), **run_async_in_loop(measure_async()), "streams": streams, **_environment(path)}


def case_import(params: Dict[str, Any], started: float) -> Dict[str, Any]:
    """Import LiteLLM, then (``with_package``) this package; ``started`` is taken before any import.

    Wall and CPU time of each import: on a machine shared with other work the CPU time is the
    steadier measure of what an import costs."""
    t0, c0 = time.perf_counter(), time.process_time()
    import litellm  # noqa: F401

    t1, c1 = time.perf_counter(), time.process_time()
    if params["with_package"]:
        import litellm_compactifai  # noqa: F401
    t2, c2 = time.perf_counter(), time.process_time()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "import_litellm_ms": (t1 - t0) * 1e3,
        "import_litellm_cpu_ms": (c1 - c0) * 1e3,
        "import_package_ms": (t2 - t1) * 1e3,
        "import_package_cpu_ms": (c2 - c1) * 1e3,
        "imports_ms": (t2 - started) * 1e3,
        "maxrss_mb": maxrss_kb / 1024,
    }


# --- the config hooks alone -------------------------------------------------------------------------


class _NullLogging:
    """Stands in for LiteLLM's logging object in ``transform_response`` (its ``post_call`` is LiteLLM's)."""

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        return None


def case_hooks(params: Dict[str, Any]) -> Dict[str, Any]:
    """Microseconds per call of each provider-config hook LiteLLM calls per completion, for this
    package's ``CompactifAIChatConfig`` and for the config it replaces (LiteLLM's built-in
    ``CompactifAIChatConfig`` on >= 1.77.3, else ``OpenAIGPTConfig``), plus ``capabilities.info``."""
    import httpx
    import litellm
    from litellm.types.utils import ModelResponse

    theirs: Any
    try:  # taken before the package replaces it
        from litellm.llms.compactifai.chat.transformation import CompactifAIChatConfig

        theirs, theirs_name = CompactifAIChatConfig(), "LiteLLM built-in CompactifAIChatConfig"
    except ImportError:
        theirs, theirs_name = litellm.OpenAIGPTConfig(), "LiteLLM OpenAIGPTConfig"
    import litellm_compactifai
    from litellm_compactifai import capabilities

    base_url, repeat = params["base_url"], int(params["repeat"])
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(["word"] * SHORT_ANSWER_WORDS)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 14, "completion_tokens": 12, "total_tokens": 26},
        }
    ).encode()
    request = httpx.Request("POST", base_url + "/chat/completions")
    raw = httpx.Response(200, content=body, headers={"content-type": "application/json"}, request=request)
    litellm_params: Dict[str, Any] = {"api_base": base_url}

    def hooks(config: Any) -> Dict[str, Callable[[], Any]]:
        return {
            "map_openai_params": lambda: config.map_openai_params({"max_tokens": MAX_TOKENS}, {}, MODEL, False),
            "validate_environment": lambda: config.validate_environment(
                {}, MODEL, SHORT_MESSAGES, {"max_tokens": MAX_TOKENS}, litellm_params, API_KEY, base_url
            ),
            "get_complete_url": lambda: config.get_complete_url(base_url, API_KEY, MODEL, {}, litellm_params),
            "transform_request": lambda: config.transform_request(
                MODEL, SHORT_MESSAGES, {"max_tokens": MAX_TOKENS}, litellm_params, {}
            ),
            "transform_response": lambda: config.transform_response(
                model=MODEL,
                raw_response=raw,
                model_response=ModelResponse(),
                logging_obj=_NullLogging(),
                request_data={},
                messages=SHORT_MESSAGES,
                optional_params={},
                litellm_params=litellm_params,
                encoding=None,
                api_key=API_KEY,
            ),
        }

    def per_call_us(fn: Callable[[], Any]) -> float:
        fn()
        best = float("inf")
        for _ in range(5):  # the best of 5 batches: the least disturbed by other work on the machine
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            best = min(best, (time.perf_counter() - t0) / repeat)
        return best * 1e6

    ours_hooks, theirs_hooks = hooks(litellm_compactifai.CompactifAIChatConfig()), hooks(theirs)
    out: Dict[str, Any] = {"theirs": theirs_name}
    for name in ours_hooks:
        out[f"{name}_ours_us"] = per_call_us(ours_hooks[name])
        out[f"{name}_theirs_us"] = per_call_us(theirs_hooks[name])
    out["capabilities.info_ours_us"] = per_call_us(lambda: capabilities.info(MODEL))
    return out


# --- raw HTTP/1.1 load generator (proxy and emulator headroom) ------------------------------------


async def _raw_worker(
    host: str, port: int, request: bytes, deadline: float, latencies: List[float], max_calls: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
    try:
        while time.perf_counter() < deadline and len(latencies) < max_calls:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"load: non-200 answer: {head[:300]!r}")
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:
                await reader.readuntil(b"\r\n0\r\n\r\n")
            else:
                i = lower.index(b"content-length: ") + 16
                await reader.readexactly(int(lower[i : lower.index(b"\r\n", i)]))
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def _raw_load(params: Dict[str, Any], seconds: float) -> Dict[str, float]:
    payload = json.dumps(params["body"]).encode()
    headers = "".join(f"{k}: {v}\r\n" for k, v in params.get("headers", {}).items())
    request = (
        f"POST {params['target']} HTTP/1.1\r\nhost: {params['host']}:{params['port']}\r\n{headers}"
        f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    latencies: List[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    max_calls = int(params.get("max_calls", 1_000_000))
    await asyncio.gather(
        *(
            _raw_worker(params["host"], int(params["port"]), request, deadline, latencies, max_calls)
            for _ in range(int(params["concurrency"]))
        )
    )
    elapsed = time.perf_counter() - start
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "calls": len(latencies),
    }


def case_load(params: Dict[str, Any]) -> Dict[str, Any]:
    warmup = asyncio.run(_raw_load(params, float(params["warmup_seconds"])))
    return {**asyncio.run(_raw_load(params, float(params["seconds"]))), "warmup_calls": warmup["calls"]}


CASES: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "latency": case_latency,
    "throughput": case_throughput,
    "stream": case_stream,
    "load": case_load,
    "hooks": case_hooks,
}


def serve(name: str, path: str) -> int:
    """A worker for one case and one path: imports once, says ``READY``, then runs the case once per
    line of JSON params on stdin, answering one ``RESULT`` line each, until stdin closes."""
    try:
        prepare(path)
    except Skip as skip:
        print("READY " + json.dumps({"skipped": str(skip)}), flush=True)
        return 0
    print("READY {}", flush=True)
    for line in sys.stdin:
        if line.strip():
            print("RESULT " + json.dumps(CASES[name](json.loads(line))), flush=True)
    return 0


def main(argv: List[str]) -> int:
    started = time.perf_counter()
    if len(argv) == 4 and argv[1] == "serve":
        return serve(argv[2], argv[3])
    if len(argv) != 3:
        print("usage: _cases.py CASE JSON_PARAMS | _cases.py serve CASE PATH", file=sys.stderr)
        return 2
    name, params = argv[1], json.loads(argv[2])
    try:
        result = case_import(params, started) if name == "import" else CASES[name](params)
    except Skip as skip:
        result = {"skipped": str(skip)}
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
