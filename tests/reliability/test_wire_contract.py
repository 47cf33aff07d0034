"""Property: any call either fails cleanly before the network, or sends a body that validates
against CompactifAI's OpenAPI schema and carries exactly the parameters the caller asked for."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator

import httpx
import jsonschema
import litellm
import pytest
import respx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from litellm_compactifai import capabilities, catalog
from litellm_compactifai.emulator import SPEC_PATH

BASE = "http://contract.test/v1"
KEY = "contract-key-4242"
MSG = [{"role": "user", "content": "Hello"}]
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
CHAT_BODY = {
    "id": "c",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
TEXT_BODY = {
    "id": "t",
    "object": "text_completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def _validator(schema_name: str) -> jsonschema.protocols.Validator:
    spec = json.loads(SPEC_PATH.read_text())
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


CHAT_SCHEMA = _validator("ChatCompletionRequest")
TEXT_SCHEMA = _validator("CompletionRequest")

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
VALUES: Dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.one_of(st.floats(-1, 3, allow_nan=False), st.just("hot")),
    "top_p": st.floats(-0.5, 1.5, allow_nan=False),
    "max_tokens": st.integers(-5, 200_000),
    "max_completion_tokens": st.integers(0, 160_000),
    "stop": st.one_of(
        st.text(min_size=1, max_size=5), st.lists(st.text(min_size=1, max_size=5), max_size=3), st.integers()
    ),
    "presence_penalty": st.floats(-2, 2, allow_nan=False),
    "frequency_penalty": st.floats(-2, 2, allow_nan=False),
    "logit_bias": st.dictionaries(st.sampled_from(["1", "50256", "42"]), st.integers(-100, 100), max_size=2),
    "user": st.one_of(st.text(min_size=1, max_size=12), st.integers()),
    "seed": st.integers(0, 10_000),
    "response_format": st.sampled_from([{"type": "json_object"}, {"type": "text"}, {"type": "xml"}]),
    "n": st.integers(1, 3),
    "reasoning_effort": st.sampled_from(["low", "high", "extreme"]),
    "parallel_tool_calls": st.booleans(),
    # OpenAI parameters CompactifAI does not take
    "logprobs": st.booleans(),
    "top_logprobs": st.integers(0, 5),
}
UNSUPPORTED = {"logprobs", "top_logprobs"}
if not hasattr(litellm.exceptions, "MidStreamFallbackError"):
    # LiteLLM 1.67's generic mapping renames max_completion_tokens and drops reasoning_effort
    # before the route sees them (README, "How it registers"): not the route's contract there.
    VALUES = {k: v for k, v in VALUES.items() if k not in ("max_completion_tokens", "reasoning_effort")}
CHAT_MODELS = sorted(r.id for r in catalog.CATALOG.values() if r.mode == "chat") + ["model-nobody-described"]


@pytest.fixture
def api() -> Iterator[Any]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def _expected_chat_params(model: str, params: Dict[str, Any], tools: bool, drop: bool) -> Dict[str, Any]:
    """What must reach the wire when the call is accepted."""
    expected = dict(params)
    for name in UNSUPPORTED:
        expected.pop(name, None)
    if capabilities.supports_reasoning(model) is False:
        expected.pop("reasoning_effort", None)
    if tools and capabilities.supports_tools(model) is False:
        expected.pop("parallel_tool_calls", None)
    elif tools:
        expected["tools"] = [TOOL]
    elif "parallel_tool_calls" in expected and capabilities.supports_tools(model) is False:
        expected.pop("parallel_tool_calls")
    if expected.get("n", 1) != 1:
        expected.pop("n")
    return expected


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    model=st.sampled_from(CHAT_MODELS),
    params=st.fixed_dictionaries({}, optional=VALUES),
    tools=st.booleans(),
    drop=st.booleans(),
)
def test_chat_calls_fail_before_the_network_or_send_a_valid_exact_body(
    api: Any, model: str, params: Dict[str, Any], tools: bool, drop: bool
) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=CHAT_BODY))
    calls_before = route.call_count
    kwargs = dict(params)
    if tools:
        kwargs["tools"] = [TOOL]
    try:
        litellm.completion(
            model=f"compactifai/{model}", messages=MSG, api_key=KEY, api_base=BASE, drop_params=drop, **kwargs
        )
    except (litellm.BadRequestError, litellm.UnsupportedParamsError) as exc:
        event(f"refused before the network: {type(exc).__name__}")
        assert route.call_count == calls_before, f"refused after sending: {exc}"
        assert "compactifai" in str(exc).lower()
        return
    event("sent")
    assert route.call_count == calls_before + 1
    body = json.loads(route.calls.last.request.content)
    CHAT_SCHEMA.validate(body)
    sent = {k: v for k, v in body.items() if k not in ("model", "messages")}
    assert body["model"] == model and body["messages"] == MSG
    assert sent == _expected_chat_params(model, params, tools, drop)


TEXT_VALUES: Dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.floats(-1, 3, allow_nan=False),
    "top_p": st.floats(-0.5, 1.5, allow_nan=False),
    "max_tokens": st.integers(-5, 200_000),
    "stop": st.one_of(st.text(min_size=1, max_size=5), st.lists(st.text(min_size=1, max_size=5), max_size=3)),
    "user": st.text(min_size=1, max_size=12),
    "presence_penalty": st.floats(-2, 2, allow_nan=False),  # chat-only for CompactifAI
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prompt=st.one_of(
        st.text(min_size=1, max_size=20), st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3)
    ),
    params=st.fixed_dictionaries({}, optional=TEXT_VALUES),
    drop=st.booleans(),
)
def test_text_completions_fail_before_the_network_or_send_a_valid_exact_body(
    api: Any, prompt: Any, params: Dict[str, Any], drop: bool
) -> None:
    route = api.post("/completions").mock(return_value=httpx.Response(200, json=TEXT_BODY))
    calls_before = route.call_count
    try:
        litellm.text_completion(
            model="compactifai/cai-mistral-small-3-1-slim",
            prompt=prompt,
            api_key=KEY,
            api_base=BASE,
            drop_params=drop,
            **params,
        )
    except (litellm.BadRequestError, litellm.UnsupportedParamsError) as exc:
        event(f"refused before the network: {type(exc).__name__}")
        assert route.call_count == calls_before, f"refused after sending: {exc}"
        return
    event("sent")
    assert route.call_count == calls_before + 1
    body = json.loads(route.calls.last.request.content)
    TEXT_SCHEMA.validate(body)
    expected = {k: v for k, v in params.items() if k != "presence_penalty"}
    # litellm.text_completion hands the route one message per prompt: a one-prompt list is sent as
    # that prompt, which CompletionRequest treats the same (one choice).
    sent_prompt = prompt[0] if isinstance(prompt, list) and len(prompt) == 1 else prompt
    assert body == {"model": "cai-mistral-small-3-1-slim", "prompt": sent_prompt, **expected}
