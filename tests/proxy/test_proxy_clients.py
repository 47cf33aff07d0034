"""What clients of a LiteLLM proxy see, through the official ``openai`` SDK: the proxy runs the
example config verbatim with two workers, in front of the emulator."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List

import openai
import pytest
from proxy_harness import (
    KEY,
    MASTER_KEY,
    OPENAI_SENTINEL,
    STARTUP_HOOK,
    Launch,
    Proxy,
    assert_contains,
    assert_lacks,
    example_config,
    loads_through_success_callback,
    redact,
)

import litellm_compactifai
from litellm_compactifai import catalog
from litellm_compactifai.emulator import Emulator

TOOL = {
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
HELLO = [{"role": "user", "content": "Say hello to Bilbao"}]
CONFIGURED = [
    "compactifai/hypernova-60b",
    "compactifai/gpt-oss-120b",
    "compactifai/cai-mistral-small-3-1-slim",
    "compactifai/mistral-small-3-1",
]
# CompactifAI's published prices, USD per 1M tokens (input, output): pricing page 2026-08.
PUBLISHED = {
    "compactifai/hypernova-60b": (0.04, 0.14),
    "compactifai/gpt-oss-120b": (0.05, 0.23),
    "compactifai/cai-mistral-small-3-1-slim": (0.05, 0.08),
    "compactifai/mistral-small-3-1": (0.11, 0.17),
    "compactifai/glm-5-1": (0.95, 3.15),
}
NO_TOOLS_MESSAGE = (
    "CompactifAI model 'cai-mistral-small-3-1-slim' does not support tool calling, so ['tools'] cannot be "
    "sent to it. Use a tool-capable model (compactifai/hypernova-60b, compactifai/gpt-oss-120b, "
    "compactifai/quasar-438b, compactifai/glm-5-1), remove the tool parameters, or pass drop_params=True to "
    "drop them and send the call without tools."
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(launch: Launch, emu: Emulator) -> Proxy:
    # INFO: more than the default, for the key-leak check at the end of this module. (At DEBUG, LiteLLM
    # <= 1.76 prints each deployment's resolved api_key itself: see docs/proxy.md.)
    text, env = example_config()
    return launch(text, emu.base_url, workers=2, LITELLM_LOG="INFO", **env)


@pytest.fixture(scope="module")
def client(proxy: Proxy) -> Any:
    return proxy.openai()


@pytest.fixture(autouse=True)
def _clean(emu: Emulator) -> Iterator[None]:
    emu.clear_faults()
    emu.clear_requests()
    yield
    emu.clear_faults()
    emu.api_keys = {KEY}


def chats(emu: Emulator) -> List[Any]:
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


# --- loading -------------------------------------------------------------------------------------------


def test_every_worker_imported_the_package(proxy: Proxy) -> None:
    if not loads_through_success_callback():
        # The startup hook instead (LiteLLM 1.84 - 1.93): one success line per worker.
        assert proxy.log().count(f"Worker startup hook '{STARTUP_HOOK}' executed successfully") == 2
        return
    expected = "builtin-replaced" if litellm_compactifai.has_builtin_provider() else "custom-provider"
    lines = proxy.handler_lines()
    pids = {pid for pid, _ in lines}
    # One "Initialized Success Callbacks" line per worker, each printed by a different process.
    assert len(pids) == 2, lines
    assert {route for _, route in lines} == {expected}
    for pid in pids:
        assert pid != proxy.pid
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            assert int(stat.read().rsplit(")", 1)[1].split()[1]) == proxy.pid, "not a worker of this proxy"


def test_the_master_key_guards_the_proxy(proxy: Proxy, emu: Emulator) -> None:
    # Without a database, LiteLLM answers any other key with 400 "No connected db.".
    with pytest.raises(openai.BadRequestError) as info:
        proxy.openai(api_key="sk-not-the-master-key").chat.completions.create(model=CONFIGURED[0], messages=HELLO)
    assert info.value.status_code == 400
    assert info.value.response.json()["error"]["message"] == "No connected db."
    assert chats(emu) == [], "a request without the master key reached CompactifAI"


# --- chat, streaming, tools ----------------------------------------------------------------------------


def test_chat(client: Any, emu: Emulator) -> None:
    response = client.chat.completions.create(model="compactifai/hypernova-60b", messages=HELLO, max_tokens=40)
    assert response.choices[0].message.content.startswith("[hypernova-60b] You said: Say hello to Bilbao")
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    (request,) = chats(emu)
    assert request.body["model"] == "hypernova-60b"
    assert request.body["max_tokens"] == 40
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_streaming(client: Any, emu: Emulator) -> None:
    whole = client.chat.completions.create(model="compactifai/cai-mistral-small-3-1-slim", messages=HELLO)
    stream = client.chat.completions.create(
        model="compactifai/cai-mistral-small-3-1-slim",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3, "not streamed"
    assert text == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage and usage[-1].completion_tokens == whole.usage.completion_tokens
    streamed = chats(emu)[-1]
    assert streamed.body["stream"] is True
    assert streamed.body["stream_options"] == {"include_usage": True}


def test_tool_call(client: Any, emu: Emulator) -> None:
    response = client.chat.completions.create(
        model="compactifai/hypernova-60b",
        messages=[{"role": "user", "content": "What's the weather like in Bilbao?"}],
        tools=[TOOL],
        tool_choice="required",
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["location"], str)
    (request,) = chats(emu)
    assert request.body["tools"] == [TOOL]
    assert request.body["tool_choice"] == "required"


def test_streamed_tool_call(client: Any) -> None:
    stream = client.chat.completions.create(
        model="compactifai/gpt-oss-120b",
        messages=[{"role": "user", "content": "What's the weather like in Bilbao?"}],
        tools=[TOOL],
        tool_choice="required",
        stream=True,
    )
    calls: Dict[int, Dict[str, str]] = {}
    finish = []
    for chunk in stream:
        if not chunk.choices:
            continue
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"name": "", "arguments": ""})
            call["name"] += (delta.function and delta.function.name) or ""
            call["arguments"] += (delta.function and delta.function.arguments) or ""
        if chunk.choices[0].finish_reason:
            finish.append(chunk.choices[0].finish_reason)
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    assert isinstance(json.loads(calls[0]["arguments"])["location"], str)
    assert finish == ["tool_calls"]


def test_tools_to_a_model_without_tool_support_are_rejected(client: Any, emu: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="compactifai/cai-mistral-small-3-1-slim", messages=HELLO, tools=[TOOL])
    assert info.value.status_code == 400
    message = info.value.response.json()["error"]["message"]
    assert NO_TOOLS_MESSAGE in message
    # The configured fallback (mistral-small-3-1) has no tool support either: gated the same way.
    assert "CompactifAI model 'mistral-small-3-1' does not support tool calling" in message
    assert chats(emu) == [], "the gate answers before any request"


def test_drop_params_sends_the_call_without_tools(client: Any, emu: Emulator) -> None:
    response = client.chat.completions.create(
        model="compactifai/cai-mistral-small-3-1-slim", messages=HELLO, tools=[TOOL], extra_body={"drop_params": True}
    )
    assert response.choices[0].message.content.startswith("[cai-mistral-small-3-1-slim]")
    (request,) = chats(emu)
    assert "tools" not in request.body


def test_wildcard_route_serves_a_model_not_listed(client: Any, emu: Emulator) -> None:
    response = client.chat.completions.create(
        model="compactifai/glm-5-1",
        messages=[{"role": "user", "content": "What's the weather like in Bilbao?"}],
        tools=[TOOL],
    )
    assert response.choices[0].message.tool_calls[0].function.name == "get_weather"
    (request,) = chats(emu)
    assert request.body["model"] == "glm-5-1"
    assert request.headers["authorization"] == f"Bearer {KEY}"


# --- model list, model info, costs ---------------------------------------------------------------------


def test_models_lists_the_configured_models(client: Any) -> None:
    ids = [m.id for m in client.models.list().data]
    assert set(CONFIGURED) <= set(ids), ids


def test_model_info_shows_the_catalog(proxy: Proxy) -> None:
    with proxy.http() as http:
        response = http.get("/model/info")
    assert response.status_code == 200
    info = {entry["model_name"]: entry["model_info"] for entry in response.json()["data"]}
    for model in CONFIGURED:
        record = catalog.get(model)
        assert record is not None
        entry = info[model]
        assert entry["litellm_provider"] == "compactifai"
        assert entry["mode"] == "chat"
        assert entry["supports_function_calling"] is record.supports_tools
        assert entry["max_input_tokens"] == record.context_window
        price_in, price_out = PUBLISHED[model]
        assert entry["input_cost_per_token"] == pytest.approx(price_in / 1e6, rel=1e-12)
        assert entry["output_cost_per_token"] == pytest.approx(price_out / 1e6, rel=1e-12)
    assert info["compactifai/hypernova-60b"]["supports_function_calling"] is True
    assert info["compactifai/cai-mistral-small-3-1-slim"]["supports_function_calling"] is False
    assert info["compactifai/hypernova-60b"]["max_input_tokens"] == 131_072


@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_response_cost_header_is_the_published_price(client: Any, model: str) -> None:
    raw = client.chat.completions.with_raw_response.create(model=model, messages=HELLO)
    usage = raw.parse().usage
    price_in, price_out = PUBLISHED[model]
    expected = (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1e6
    assert expected > 0
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(expected, rel=1e-9)


# --- fallbacks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slim", "original"),
    [("hypernova-60b", "gpt-oss-120b"), ("cai-mistral-small-3-1-slim", "mistral-small-3-1")],
)
def test_a_failing_slim_model_falls_back_to_its_original(client: Any, emu: Emulator, slim: str, original: str) -> None:
    emu.inject("server_error", model=slim)
    raw = client.chat.completions.with_raw_response.create(model=f"compactifai/{slim}", messages=HELLO)
    assert raw.status_code == 200
    assert raw.parse().choices[0].message.content.startswith(f"[{original}] You said:")
    assert raw.headers["x-litellm-attempted-fallbacks"] == "1"
    # LiteLLM's default retries on the slim model first (three attempts, each answered 500), then one
    # call to the original.
    assert [r.body["model"] for r in chats(emu)] == [slim, slim, slim, original]
    # Once the slim model recovers, it serves again (a single deployment is never cooled down).
    emu.clear_faults()
    emu.clear_requests()
    again = client.chat.completions.create(model=f"compactifai/{slim}", messages=HELLO)
    assert again.choices[0].message.content.startswith(f"[{slim}]")


# --- the key -------------------------------------------------------------------------------------------


def test_an_upstream_auth_error_does_not_echo_the_key(client: Any, emu: Emulator) -> None:
    emu.api_keys = {"some-other-key"}
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="compactifai/hypernova-60b", messages=HELLO)
    assert info.value.status_code == 401
    body = info.value.response.text
    assert_contains(body, "Token is not associated with a valid user")
    assert_contains(body, "COMPACTIFAI_API_KEY")
    assert_lacks(body, KEY)
    assert_lacks(body, KEY[-12:])
    assert chats(emu), "the request reached CompactifAI"


def test_server_errors_do_not_echo_the_key(client: Any, emu: Emulator) -> None:
    emu.inject("server_error")
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="compactifai/glm-5-1", messages=HELLO)
    assert info.value.status_code == 500
    body = info.value.response.text
    assert_contains(body, "Unexpected server error")
    assert_lacks(body, KEY)
    assert_lacks(body, KEY[-12:])


def test_zz_the_key_never_reaches_the_logs(proxy: Proxy, emu: Emulator) -> None:
    """Runs last in this module: everything above went through this proxy."""
    log = proxy.log()
    # The capture holds what the proxy printed: its startup, the requests and the errors above.
    assert log.count("Application startup complete.") >= 2
    assert_contains(log, "POST /v1/chat/completions")
    assert_contains(log, "does not support tool calling")
    # Lines, redacted, so that a failure does not print the key itself.
    leaks = [redact(line)[:300] for line in log.splitlines() if redact(line) != line]
    assert leaks == []
    assert_lacks(log, OPENAI_SENTINEL)
    assert_lacks(log, MASTER_KEY)
