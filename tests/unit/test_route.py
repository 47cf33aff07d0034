"""The compactifai/ route over the wire (respx): bodies, headers, gating, errors, sync and async twins."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Dict, List

import httpx
import litellm
import pytest
import respx

import litellm_compactifai
from litellm_compactifai import catalog, registration

OPENAI_SENTINEL = "sk-openai-sentinel-must-not-leak"

BASE = "http://compactifai.test/v1"
KEY = "cai-test-key-1234"
MSG = [{"role": "user", "content": "Hello"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}


def chat_body(content: Any = "Hi there", model: str = "cai-mistral-small-3-1-slim", **message: Any) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content, **message}}
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }


def sse(chunks: List[Dict[str, Any]]) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def chunk(delta: Dict[str, Any], finish: Any = None) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "hypernova-60b",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


USAGE_CHUNK = {
    "id": "chatcmpl-s",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "hypernova-60b",
    "choices": [],
    "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
}


def run(mode: str, **kwargs: Any) -> Any:
    """litellm.completion or acompletion (the twins), streams collected into a list."""
    kwargs.setdefault("messages", MSG)
    if mode == "sync":
        response = litellm.completion(**kwargs)
        return list(response) if kwargs.get("stream") else response

    async def go() -> Any:
        response = await litellm.acompletion(**kwargs)
        if kwargs.get("stream"):
            return [c async for c in response]
        return response

    return asyncio.run(go())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@pytest.fixture
def api() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def sent(route: Any) -> Dict[str, Any]:
    return json.loads(route.calls.last.request.content)  # type: ignore[no-any-return]


# --- registration ---------------------------------------------------------------------------------


def test_registration_path_matches_litellm_release() -> None:
    expected = "builtin-replaced" if registration.has_builtin_provider() else "custom-provider"
    assert litellm_compactifai.registration_path() == expected
    if expected == "builtin-replaced":
        assert litellm.CompactifAIChatConfig is litellm_compactifai.CompactifAIChatConfig


def test_register_is_idempotent_across_threads() -> None:
    threads = [threading.Thread(target=litellm_compactifai.register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = [e for e in litellm.custom_provider_map if e.get("provider") == "compactifai"]
    assert len(entries) == (0 if registration.has_builtin_provider() else 1)
    assert litellm.utils.get_valid_models.__compactifai__ is True  # type: ignore[attr-defined]


# --- model info from the catalog ------------------------------------------------------------------


def test_capabilities_come_from_litellm_model_info() -> None:
    assert litellm.supports_function_calling("compactifai/cai-mistral-small-3-1-slim") is False
    assert litellm.supports_function_calling("compactifai/glm-5-1") is True
    info = litellm.get_model_info("compactifai/hypernova-60b")
    assert info["input_cost_per_token"] == pytest.approx(0.04e-6)
    assert info["output_cost_per_token"] == pytest.approx(0.14e-6)
    assert info["supports_reasoning"] is True
    assert info["max_input_tokens"] == 131_072


def test_every_catalog_chat_model_is_known_to_litellm() -> None:
    for record in catalog.CATALOG.values():
        if record.mode != "chat":
            continue
        info = litellm.get_model_info(record.litellm_model)
        if record.supports_tools is not None:
            assert info["supports_function_calling"] is record.supports_tools, record.id
        if record.input_cost_per_token is None:
            assert not info.get("input_cost_per_token"), record.id


def test_completion_cost_uses_published_prices(api: Any) -> None:
    api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    response = litellm.completion(
        model="compactifai/cai-mistral-small-3-1-slim", messages=MSG, api_key=KEY, api_base=BASE
    )
    expected = 12 * 0.05 / 1_000_000 + 7 * 0.08 / 1_000_000
    assert litellm.completion_cost(completion_response=response) == pytest.approx(expected, rel=1e-9)


def test_user_register_model_overrides_catalog(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    key = "compactifai/mistral-small-3-1"
    before = dict(litellm.model_cost[key])
    try:
        litellm.register_model({key: {**before, "supports_function_calling": True}})
        run("sync", model=key, api_key=KEY, api_base=BASE, tools=[TOOL])
        assert sent(route)["tools"] == [TOOL]
    finally:
        litellm.register_model({key: before})


# --- key and base -----------------------------------------------------------------------------------


@MODES
def test_missing_key_fails_before_any_request(api: Any, mode: str) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    with pytest.raises(litellm.AuthenticationError, match="COMPACTIFAI_API_KEY"):
        run(mode, model="compactifai/glm-5-1", api_base=BASE)
    assert route.call_count == 0


@MODES
def test_key_from_env_and_never_another_providers_key(api: Any, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_KEY", KEY)
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run(mode, model="compactifai/glm-5-1", api_base=BASE)
    headers = route.calls.last.request.headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert OPENAI_SENTINEL not in str(headers) and OPENAI_SENTINEL not in route.calls.last.request.content.decode()


@MODES
def test_per_call_key_wins_over_env(api: Any, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_KEY", "env-key")
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run(mode, model="compactifai/glm-5-1", api_base=BASE, api_key=KEY)
    assert route.calls.last.request.headers["authorization"] == f"Bearer {KEY}"


def test_base_from_env_then_per_call(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", BASE + "/")
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/glm-5-1", api_key=KEY)
    assert str(route.calls.last.request.url) == f"{BASE}/chat/completions"
    other = api.post("/other/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE + "/other")
    assert other.call_count == 1


def test_malformed_base_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", "api.compactif.ai/v1")
    with pytest.raises(litellm.BadRequestError, match="COMPACTIFAI_API_BASE"):
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY)


def test_key_never_in_error_messages(api: Any) -> None:
    api.post("/chat/completions").mock(
        return_value=httpx.Response(401, json={"detail": "Token is not associated with a valid user"})
    )
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY, api_base=BASE)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


# --- parameters --------------------------------------------------------------------------------------

PASSTHROUGH = [
    ("temperature", 0.3),
    ("top_p", 0.9),
    ("stop", ["###"]),
    ("max_tokens", 64),
    ("presence_penalty", 0.5),
    ("frequency_penalty", 0.25),
    ("logit_bias", {"50256": -100}),
    ("user", "user-123"),
    ("seed", 7),
    ("response_format", {"type": "json_object"}),
    ("n", 1),
]


@pytest.mark.parametrize("name,value", PASSTHROUGH)
def test_supported_params_reach_the_wire_unchanged(api: Any, name: str, value: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, **{name: value})
    assert sent(route)[name] == value


OLD_MAPPING = pytest.mark.skipif(
    not hasattr(litellm, "MidStreamFallbackError"),
    reason="LiteLLM 1.67's generic mapping renames max_completion_tokens and drops reasoning_effort (README)",
)


@OLD_MAPPING
def test_max_completion_tokens_reaches_the_wire(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, max_completion_tokens=50)
    body = sent(route)
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body


@OLD_MAPPING
def test_reasoning_effort_for_reasoning_models(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/hypernova-60b", api_key=KEY, api_base=BASE, reasoning_effort="low")
    assert sent(route)["reasoning_effort"] == "low"


@MODES
def test_unsupported_param_raises_before_request(api: Any, mode: str) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    with pytest.raises(litellm.UnsupportedParamsError, match="logprobs"):
        run(mode, model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, logprobs=True)
    assert route.call_count == 0


def test_unsupported_param_dropped_with_drop_params(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, logprobs=True, drop_params=True)
    assert "logprobs" not in sent(route)


def test_n_other_than_one_is_refused(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    with pytest.raises(litellm.UnsupportedParamsError, match="n=2"):
        run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, n=2)
    assert route.call_count == 0


# --- tool gating ----------------------------------------------------------------------------------


@MODES
@pytest.mark.parametrize(
    "tool_kwargs",
    [
        {"tools": [TOOL]},
        {"tools": [TOOL], "tool_choice": "auto"},
        {"functions": [TOOL["function"]]},
    ],
)
def test_tools_to_a_model_without_tool_support_fail_before_request(
    api: Any, mode: str, tool_kwargs: Dict[str, Any]
) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        run(mode, model="compactifai/cai-mistral-small-3-1-slim", api_key=KEY, api_base=BASE, **tool_kwargs)
    message = str(info.value)
    assert "cai-mistral-small-3-1-slim" in message
    assert "does not support tool calling" in message
    assert "compactifai/hypernova-60b" in message
    assert "drop_params=True" in message
    assert route.call_count == 0


@MODES
def test_gated_tools_dropped_with_drop_params(api: Any, mode: str) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run(
        mode,
        model="compactifai/mistral-small-3-1",
        api_key=KEY,
        api_base=BASE,
        tools=[TOOL],
        tool_choice="auto",
        drop_params=True,
    )
    assert {"tools", "tool_choice"}.isdisjoint(sent(route))


def test_global_drop_params_drops_gated_tools(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "drop_params", True)
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/mistral-small-3-1", api_key=KEY, api_base=BASE, tools=[TOOL])
    assert "tools" not in sent(route)


def test_tool_capable_model_gets_tools_and_returns_tool_calls(api: Any) -> None:
    call = {
        "id": "call-1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": "Bilbao"}'},
    }
    route = api.post("/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_body(None, model="glm-5-1", tool_calls=[call]))
    )
    response = run(
        "sync",
        model="compactifai/glm-5-1",
        api_key=KEY,
        api_base=BASE,
        tools=[TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
    )
    body = sent(route)
    assert body["tools"] == [TOOL] and body["tool_choice"] == "required" and body["parallel_tool_calls"] is False
    tool_call = response.choices[0].message.tool_calls[0]
    assert tool_call.function.name == "get_weather"
    assert json.loads(tool_call.function.arguments) == {"location": "Bilbao"}


def test_legacy_functions_become_tools_for_tool_models(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run(
        "sync",
        model="compactifai/glm-5-1",
        api_key=KEY,
        api_base=BASE,
        functions=[TOOL["function"]],
        function_call={"name": "get_weather"},
    )
    body = sent(route)
    assert body["tools"] == [TOOL]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_unknown_model_passes_tools_through(api: Any) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body()))
    run("sync", model="compactifai/brand-new-model-9b", api_key=KEY, api_base=BASE, tools=[TOOL])
    assert sent(route)["tools"] == [TOOL]


# --- responses, reasoning, streaming --------------------------------------------------------------


@MODES
@pytest.mark.parametrize(
    "content,extra",
    [
        ("The answer", {"reasoning_content": "Let me think"}),
        ("The answer", {"reasoning": "Let me think"}),
        ("<think>Let me think</think>The answer", {}),
    ],
)
def test_reasoning_lands_in_reasoning_content(api: Any, mode: str, content: str, extra: Dict[str, Any]) -> None:
    api.post("/chat/completions").mock(return_value=httpx.Response(200, json=chat_body(content, **extra)))
    response = run(mode, model="compactifai/hypernova-60b", api_key=KEY, api_base=BASE)
    message = response.choices[0].message
    assert message.content == "The answer"
    assert message.reasoning_content == "Let me think"


@MODES
def test_stream_content_tool_calls_and_usage(api: Any, mode: str) -> None:
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Checking"}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Bilbao"}'}}]}),
        chunk({}, finish="tool_calls"),
        USAGE_CHUNK,
    ]
    route = api.post("/chat/completions").mock(
        return_value=httpx.Response(200, text=sse(chunks), headers={"content-type": "text/event-stream"})
    )
    out = run(
        mode,
        model="compactifai/hypernova-60b",
        api_key=KEY,
        api_base=BASE,
        tools=[TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    body = sent(route)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    text = "".join(c.choices[0].delta.content or "" for c in out if c.choices)
    args = "".join(
        tc.function.arguments or "" for c in out if c.choices for tc in (c.choices[0].delta.tool_calls or [])
    )
    assert text == "Checking"
    assert json.loads(args) == {"location": "Bilbao"}
    assert [c.choices[0].finish_reason for c in out if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    usage = [c.usage for c in out if getattr(c, "usage", None)]
    assert usage and usage[-1].total_tokens == 11


def test_streams_always_ask_for_usage(api: Any) -> None:
    route = api.post("/chat/completions").mock(
        return_value=httpx.Response(200, text=sse([chunk({"content": "Hi"}), chunk({}, finish="stop"), USAGE_CHUNK]))
    )
    out = run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, stream=True)
    assert sent(route)["stream_options"] == {"include_usage": True}
    assert "".join(c.choices[0].delta.content or "" for c in out if c.choices) == "Hi"


@pytest.mark.skipif(not registration.has_builtin_provider(), reason="streamed reasoning needs LiteLLM >= 1.77.3")
@pytest.mark.parametrize(
    "deltas",
    [
        [{"reasoning_content": "Let me "}, {"reasoning_content": "think"}, {"content": "Answer"}],
        [{"reasoning": "Let me think"}, {"content": "Answer"}],
        [{"content": "<think>Let me "}, {"content": "think</think>Ans"}, {"content": "wer"}],
    ],
)
def test_streamed_reasoning_lands_in_reasoning_content(api: Any, deltas: List[Dict[str, Any]]) -> None:
    chunks = [chunk(d) for d in deltas] + [chunk({}, finish="stop"), USAGE_CHUNK]
    api.post("/chat/completions").mock(return_value=httpx.Response(200, text=sse(chunks)))
    out = run("sync", model="compactifai/hypernova-60b", api_key=KEY, api_base=BASE, stream=True)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in out if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in out if c.choices)
    assert reasoning == "Let me think"
    assert content == "Answer"


# --- errors ---------------------------------------------------------------------------------------

ERRORS = [
    (401, {"detail": "Token is not associated with a valid user"}, litellm.AuthenticationError, "valid user"),
    (
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "message": "Invalid request: Model 'nope' not found; available: [a]",
                "param": None,
                "code": None,
            }
        },
        litellm.NotFoundError,
        "Model 'nope' not found",
    ),
    (
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "message": "This model's maximum context length is 8192 tokens",
                "param": None,
                "code": None,
            }
        },
        litellm.ContextWindowExceededError,
        "maximum context length",
    ),
    (
        422,
        {
            "detail": [
                {
                    "loc": ["body", "temperature"],
                    "msg": "Input should be less than or equal to 2",
                    "type": "less_than_equal",
                }
            ]
        },
        litellm.BadRequestError,
        "temperature: Input should be less than or equal to 2",
    ),
    (
        429,
        {"error": {"type": "rate_limit_error", "message": "Rate limit exceeded", "param": None, "code": None}},
        litellm.RateLimitError,
        "Rate limit exceeded",
    ),
    (500, {"detail": "Unexpected server error"}, litellm.InternalServerError, "Unexpected server error"),
    (
        503,
        {"error": {"type": "server_error", "message": "Service temporarily unavailable"}},
        litellm.ServiceUnavailableError,
        "temporarily unavailable",
    ),
]


@MODES
@pytest.mark.parametrize("status,body,exc,text", ERRORS)
def test_error_envelopes_map_to_litellm_exceptions(
    api: Any, mode: str, status: int, body: Dict[str, Any], exc: type, text: str
) -> None:
    api.post("/chat/completions").mock(
        return_value=httpx.Response(status, json=body, headers={"x-request-id": "req-abc-123"})
    )
    with pytest.raises(exc) as info:
        run(
            mode,
            model="compactifai/nope" if status == 400 else "compactifai/glm-5-1",
            api_key=KEY,
            api_base=BASE,
            num_retries=0,
        )
    assert text in str(info.value)
    assert "req-abc-123" in str(info.value)


def test_html_502_maps_to_a_server_error(api: Any) -> None:
    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(
        (getattr(litellm, "BadGatewayError", litellm.InternalServerError), litellm.InternalServerError)
    ) as info:
        run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, num_retries=0)
    assert "502 Bad Gateway" in str(info.value) and "<h1>" not in str(info.value)


def test_truncated_json_is_a_clean_error(api: Any) -> None:
    api.post("/chat/completions").mock(return_value=httpx.Response(200, text='{"id": "x", "choi'))
    with pytest.raises(litellm.InternalServerError, match="malformed response"):
        run("sync", model="compactifai/glm-5-1", api_key=KEY, api_base=BASE, num_retries=0)


# --- text completions -------------------------------------------------------------------------------

TEXT_BODY = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1700000000,
    "model": "cai-mistral-small-3-1-slim",
    "choices": [{"index": 0, "text": "Paris.", "finish_reason": "stop", "logprobs": None}],
    "usage": {"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8},
}


@MODES
def test_text_completion_uses_native_completions(api: Any, mode: str) -> None:
    route = api.post("/completions").mock(return_value=httpx.Response(200, json=TEXT_BODY))
    kwargs = dict(
        model="compactifai/cai-mistral-small-3-1-slim",
        prompt="Capital of France?",
        api_key=KEY,
        api_base=BASE,
        max_tokens=8,
        stop=["\n"],
        temperature=0.2,
        top_p=0.9,
        user="u-1",
    )
    if mode == "sync":
        response = litellm.text_completion(**kwargs)
    else:
        response = asyncio.run(litellm.atext_completion(**kwargs))
    assert sent(route) == {
        "model": "cai-mistral-small-3-1-slim",
        "prompt": "Capital of France?",
        "max_tokens": 8,
        "stop": ["\n"],
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "u-1",
    }
    assert response.choices[0].text == "Paris."
    assert route.calls.last.request.headers["authorization"] == f"Bearer {KEY}"


def test_text_completion_never_uses_another_providers_key(api: Any) -> None:
    route = api.post("/completions").mock(return_value=httpx.Response(200, json=TEXT_BODY))
    with pytest.raises(litellm.AuthenticationError, match="COMPACTIFAI_API_KEY"):
        litellm.text_completion(model="compactifai/cai-mistral-small-3-1-slim", prompt="x", api_base=BASE)
    assert route.call_count == 0


def test_text_completion_stream_delivers_the_answer(api: Any) -> None:
    api.post("/completions").mock(return_value=httpx.Response(200, json=TEXT_BODY))
    stream = litellm.text_completion(
        model="compactifai/cai-mistral-small-3-1-slim",
        prompt="Capital of France?",
        api_key=KEY,
        api_base=BASE,
        stream=True,
    )
    text = "".join(c.choices[0].text or "" for c in stream if c.choices)
    assert text == "Paris."
