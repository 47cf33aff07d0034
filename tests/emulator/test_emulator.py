"""Integration tests for the CompactifAI emulator (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import math
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from litellm_compactifai.emulator import (
    DEFAULT_MODELS,
    FAULT_NAMES,
    SPEC_PATH,
    STREAM_CUT_AFTER,
    EmulatedModel,
    Emulator,
    Fault,
    FaultSpec,
    slow,
)
from litellm_compactifai.emulator._validation import (
    CHAT_SCHEMA,
    COMPLETION_SCHEMA,
    BodyValidator,
    compile_schema,
)

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
EMULATOR_DIR = Path(SPEC_PATH).parent
REFERENCE_SPEC = Path("/work/shared/reference/compactifai-openapi.json")

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City and state"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {
                "timezone": {"type": "string", "minLength": 3},
                "hour24": {"type": "boolean"},
                "offset": {"type": "integer", "minimum": -12, "maximum": 14},
            },
            "required": ["timezone", "hour24", "offset"],
            "additionalProperties": False,
        },
    },
}


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as e:
        yield e


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    if "emu" in request.fixturenames:
        e: Emulator = request.getfixturevalue("emu")
        e.clear_faults()
        e.clear_requests()
        yield
        e.clear_faults()
    else:
        yield


@pytest.fixture()
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers=AUTH, timeout=10) as c:
        yield c


def chat_body(content: str = "hello there", model: str = "carina-60b", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    body.update(extra)
    return body


def post_chat(client: httpx.Client, **kw: Any) -> httpx.Response:
    return client.post("/chat/completions", json=chat_body(**kw))


def sse_payloads(text: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order."""
    out = []
    for block in text.split("\n\n"):
        block = block.strip()
        if block:
            assert block.startswith("data: "), block
            out.append(block[len("data: ") :])
    return out


def sse_chunks(text: str) -> tuple[list[dict[str, Any]], bool]:
    payloads = sse_payloads(text)
    done = bool(payloads) and payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads if p != "[DONE]"], done


def error_of(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"type", "message", "param", "code"}
    assert isinstance(err, dict)
    return err


def words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------

MODEL_KEYS = {"id", "object", "created", "owned_by", "parameters_number", "capabilities"}
CAPABILITY_KEYS = {
    "supports_function_calling",
    "supports_reasoning",
    "supports_vision",
    "supports_response_schema",
}


def test_list_models(client: httpx.Client) -> None:
    r = client.get("/models")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert ids == [m.id for m in DEFAULT_MODELS]
    assert "cai-whisper-large-v3-turbo-slim" not in ids
    for m in body["data"]:
        assert set(m) - {"context_window"} == MODEL_KEYS
        assert m["object"] == "model"
        assert set(m["capabilities"]) == CAPABILITY_KEYS
        assert all(isinstance(v, bool) for v in m["capabilities"].values())
        assert isinstance(m["parameters_number"], str) and m["parameters_number"].endswith("B")
        assert isinstance(m["created"], int)
    by_id = {m["id"]: m for m in body["data"]}
    assert "context_window" not in by_id["quasar-438b"]
    assert by_id["cai-mistral-small-3-1-slim"]["context_window"] == 32768
    assert by_id["mistral-small-3-1"]["capabilities"]["supports_function_calling"] is False
    assert by_id["mistral-small-3-1"]["capabilities"]["supports_vision"] is True
    assert by_id["hypernova-60b"]["capabilities"]["supports_reasoning"] is True
    assert by_id["gpt-oss-120b"]["owned_by"] == "openai"
    assert by_id["carina-60b"]["owned_by"] == "multiverse-computing"


def test_default_catalog_matches_docs() -> None:
    ids = {m.id for m in DEFAULT_MODELS}
    assert ids == {
        "cai-mistral-small-3-1-slim",
        "mistral-small-3-1",
        "hypernova-60b",
        "carina-60b",
        "qwen-3-6-27b",
        "gpt-oss-120b",
        "nemotron-3-nano-omni",
        "glm-5-1",
        "cai-glm-5-1",
        "glm-5-2",
        "quasar-438b",
    }
    no_tools = {m.id for m in DEFAULT_MODELS if not m.supports_function_calling}
    assert no_tools == {"cai-mistral-small-3-1-slim", "mistral-small-3-1"}
    reasoning = {m.id for m in DEFAULT_MODELS if m.supports_reasoning}
    assert reasoning == {"hypernova-60b", "gpt-oss-120b"}
    vision = {m.id for m in DEFAULT_MODELS if m.supports_vision}
    assert vision == {"mistral-small-3-1", "nemotron-3-nano-omni"}


def test_get_model(client: httpx.Client) -> None:
    r = client.get("/models/hypernova-60b")
    assert r.status_code == 200
    m = r.json()
    assert m["id"] == "hypernova-60b"
    assert m["capabilities"] == {
        "supports_function_calling": True,
        "supports_reasoning": True,
        "supports_vision": False,
        "supports_response_schema": True,
    }
    assert m["context_window"] == 131072
    assert m["parameters_number"] == "60B"


def test_get_unknown_model_is_404(client: httpx.Client) -> None:
    r = client.get("/models/no-such-model")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_get_model_percent_encoded_and_trailing_slash(emu: Emulator, client: httpx.Client) -> None:
    emu.add_model(EmulatedModel(id="org model:v1"))
    try:
        r = client.get("/models/org%20model%3Av1")
        assert r.status_code == 200
        assert r.json()["id"] == "org model:v1"
    finally:
        emu.remove_model("org model:v1")
    assert client.get("/models/").status_code == 200
    assert client.get("/models/").json()["object"] == "list"


# --------------------------------------------------------------------------
# routing, headers, auth
# --------------------------------------------------------------------------


def test_unknown_paths_are_404(client: httpx.Client) -> None:
    for path in ("/nope", "/responses", "/batches", "/files/x/content", "/models/a/b"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json() == {"detail": "Not Found"}
    r = httpx.get(client.base_url.copy_with(path="/"), headers=AUTH)
    assert r.status_code == 404


def test_wrong_method_is_405(client: httpx.Client) -> None:
    r = client.get("/chat/completions")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    assert r.headers["allow"] == "POST"
    r = client.post("/models", json={})
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert client.delete("/completions").status_code == 405


def test_request_id_echo_and_region(client: httpx.Client) -> None:
    r = client.get("/models", headers={"x-request-id": "req-abc-123"})
    assert r.headers["x-request-id"] == "req-abc-123"
    assert r.headers["x-served-by-region"] == "emulator"
    r1 = client.get("/models")
    r2 = client.get("/models")
    assert len(r1.headers["x-request-id"]) == 32
    assert r1.headers["x-request-id"] != r2.headers["x-request-id"]
    # also on errors
    r = client.post("/chat/completions", json={}, headers={"x-request-id": "err-1"})
    assert r.status_code == 422
    assert r.headers["x-request-id"] == "err-1"
    assert r.headers["x-served-by-region"] == "emulator"
    r = client.get("/nope", headers={"x-request-id": "nf-1"})
    assert (r.status_code, r.headers["x-request-id"]) == (404, "nf-1")


def test_auth_missing_header(emu: Emulator) -> None:
    r = httpx.get(emu.base_url + "/models")
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated"}
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["x-served-by-region"] == "emulator"
    r = httpx.post(emu.base_url + "/chat/completions", json=chat_body())
    assert r.status_code == 401


@pytest.mark.parametrize("header", ["Bearer wrong-key", "Bearer", "Basic dXNlcjpwYXNz", "Token test-key", "test-key"])
def test_auth_invalid_token(emu: Emulator, header: str) -> None:
    r = httpx.post(emu.base_url + "/chat/completions", json=chat_body(), headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json() == {"detail": "Token is not associated with a valid user"}


def test_auth_scheme_is_case_insensitive(emu: Emulator) -> None:
    r = httpx.get(emu.base_url + "/models", headers={"Authorization": f"bearer {KEY}"})
    assert r.status_code == 200


def test_any_token_accepted_when_api_keys_is_none() -> None:
    with Emulator() as e:
        assert e.api_keys is None
        r = httpx.get(e.base_url + "/models", headers={"Authorization": "Bearer anything"})
        assert r.status_code == 200
        r = httpx.get(e.base_url + "/models", headers={"Authorization": "Bearer"})
        assert r.status_code == 401
        e.api_keys = {"only-this"}
        assert httpx.get(e.base_url + "/models", headers={"Authorization": "Bearer anything"}).status_code == 401
        assert httpx.get(e.base_url + "/models", headers={"Authorization": "Bearer only-this"}).status_code == 200


def test_unknown_path_needs_no_auth(emu: Emulator) -> None:
    assert httpx.get(emu.base_url + "/unknown").status_code == 404


# --------------------------------------------------------------------------
# 422 validation
# --------------------------------------------------------------------------


def test_invalid_json_is_422(client: httpx.Client) -> None:
    r = client.post(
        "/chat/completions",
        content=b'{"model": "carina-60b", "messages": [}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) == 1
    d = detail[0]
    assert d["type"] == "json_invalid"
    assert d["msg"] == "JSON decode error"
    assert d["loc"] == ["body", 37]
    assert d["input"] == {}
    assert d["ctx"] == {"error": "Expecting value"}


def test_non_utf8_body_is_422(client: httpx.Client) -> None:
    r = client.post("/completions", content=b"\xff\xfe{}")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_empty_body_is_422(client: httpx.Client) -> None:
    r = client.post("/chat/completions", content=b"")
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}


def test_missing_fields(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json={"model": "carina-60b"})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "messages"], "msg": "Field required", "input": {"model": "carina-60b"}}
        ]
    }
    r = client.post("/chat/completions", json={})
    locs = [d["loc"] for d in r.json()["detail"]]
    assert locs == [["body", "messages"], ["body", "model"]]


def test_body_not_an_object(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=[1, 2])
    assert r.status_code == 422
    (d,) = r.json()["detail"]
    assert d["loc"] == ["body"]
    assert d["type"] == "model_attributes_type"


CHAT_422_CASES: list[tuple[str, dict[str, Any], list[Any], str, str]] = [
    (
        "temperature>2",
        {"temperature": 3},
        ["body", "temperature"],
        "less_than_equal",
        "Input should be less than or equal to 2",
    ),
    (
        "temperature<0",
        {"temperature": -0.5},
        ["body", "temperature"],
        "greater_than_equal",
        "Input should be greater than or equal to 0",
    ),
    ("top_p=0", {"top_p": 0}, ["body", "top_p"], "greater_than", "Input should be greater than 0"),
    ("top_p>1", {"top_p": 1.5}, ["body", "top_p"], "less_than_equal", "Input should be less than or equal to 1"),
    ("n=2", {"n": 2}, ["body", "n"], "literal_error", "Input should be 1"),
    (
        "max_tokens=0",
        {"max_tokens": 0},
        ["body", "max_tokens"],
        "greater_than_equal",
        "Input should be greater than or equal to 1",
    ),
    (
        "max_tokens too big",
        {"max_tokens": 150001},
        ["body", "max_tokens"],
        "less_than_equal",
        "Input should be less than or equal to 150000",
    ),
    (
        "max_completion_tokens=0",
        {"max_completion_tokens": 0},
        ["body", "max_completion_tokens"],
        "greater_than_equal",
        "Input should be greater than or equal to 1",
    ),
    (
        "max_completion_tokens too big",
        {"max_completion_tokens": 10**6},
        ["body", "max_completion_tokens"],
        "less_than_equal",
        "Input should be less than or equal to 150000",
    ),
    (
        "max_tokens float",
        {"max_tokens": 2.5},
        ["body", "max_tokens"],
        "int_from_float",
        "Input should be a valid integer, got a number with a fractional part",
    ),
    (
        "messages empty",
        {"messages": []},
        ["body", "messages"],
        "too_short",
        "List should have at least 1 item after validation, not 0",
    ),
    ("messages not list", {"messages": "hi"}, ["body", "messages"], "list_type", "Input should be a valid list"),
    (
        "unknown role",
        {"messages": [{"role": "user", "content": "a"}, {"role": "robot", "content": "x"}]},
        ["body", "messages", 1, "role"],
        "literal_error",
        "Input should be 'developer', 'system', 'user', 'assistant', 'tool' or 'function'",
    ),
    (
        "user without content",
        {"messages": [{"role": "user"}]},
        ["body", "messages", 0, "content"],
        "missing",
        "Field required",
    ),
    (
        "tool message without id",
        {"messages": [{"role": "tool", "content": "42"}]},
        ["body", "messages", 0, "tool_call_id"],
        "missing",
        "Field required",
    ),
    (
        "content wrong type",
        {"messages": [{"role": "user", "content": 5}]},
        ["body", "messages", 0, "content"],
        "string_type",
        "Input should be a valid string",
    ),
    (
        "image part without url",
        {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
        ["body", "messages", 0, "content", 0, "image_url"],
        "missing",
        "Field required",
    ),
    ("tools not a list", {"tools": "get_weather"}, ["body", "tools"], "list_type", "Input should be a valid list"),
    (
        "tool without function",
        {"tools": [{"type": "function"}]},
        ["body", "tools", 0, "function"],
        "missing",
        "Field required",
    ),
    (
        "tool function without name",
        {"tools": [{"type": "function", "function": {"description": "d"}}]},
        ["body", "tools", 0, "function", "name"],
        "missing",
        "Field required",
    ),
    (
        "tool wrong type",
        {"tools": [{"type": "retrieval", "function": {"name": "x"}}]},
        ["body", "tools", 0, "type"],
        "literal_error",
        "Input should be 'function'",
    ),
    (
        "tool_choice bad string",
        {"tool_choice": "always"},
        ["body", "tool_choice"],
        "literal_error",
        "Input should be 'none', 'auto' or 'required'",
    ),
    (
        "tool_choice object without function",
        {"tool_choice": {"type": "function"}},
        ["body", "tool_choice", "function"],
        "missing",
        "Field required",
    ),
    (
        "tool_choice object wrong type",
        {"tool_choice": {"type": "tool", "function": {"name": "x"}}},
        ["body", "tool_choice", "type"],
        "literal_error",
        "Input should be 'function'",
    ),
    (
        "response_format type",
        {"response_format": {"type": "xml"}},
        ["body", "response_format", "type"],
        "literal_error",
        "Input should be 'text', 'json_schema' or 'json_object'",
    ),
    (
        "response_format json_schema without schema",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
        ["body", "response_format", "json_schema", "schema"],
        "missing",
        "Field required",
    ),
    (
        "reasoning_effort",
        {"reasoning_effort": "extreme"},
        ["body", "reasoning_effort"],
        "literal_error",
        "Input should be 'none', 'low', 'medium', 'high', 'xhigh' or 'max'",
    ),
    ("stream not bool", {"stream": "yes"}, ["body", "stream"], "bool_type", "Input should be a valid boolean"),
    ("model not string", {"model": 7}, ["body", "model"], "string_type", "Input should be a valid string"),
    ("stop wrong type", {"stop": 5}, ["body", "stop"], "string_type", "Input should be a valid string"),
]


@pytest.mark.parametrize(
    ("patch", "loc", "etype", "msg"),
    [c[1:] for c in CHAT_422_CASES],
    ids=[c[0] for c in CHAT_422_CASES],
)
def test_chat_schema_violations(
    client: httpx.Client, patch: dict[str, Any], loc: list[Any], etype: str, msg: str
) -> None:
    body = chat_body(model="hypernova-60b")
    body.update(patch)
    r = client.post("/chat/completions", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert len(detail) == 1, detail
    d = detail[0]
    assert d["loc"] == loc
    assert d["type"] == etype
    assert d["msg"] == msg
    assert "input" in d


def test_422_ctx_values(client: httpx.Client) -> None:
    d = post_chat(client, temperature=2.5).json()["detail"][0]
    assert d["input"] == 2.5
    assert d["ctx"] == {"le": 2.0}
    d = post_chat(client, max_tokens=0).json()["detail"][0]
    assert d["ctx"] == {"ge": 1}
    d = post_chat(client, n=3).json()["detail"][0]
    assert d["ctx"] == {"expected": "1"}


def test_multiple_errors_reported(client: httpx.Client) -> None:
    r = post_chat(client, temperature=9, top_p=0, n=4)
    assert r.status_code == 422
    locs = sorted(tuple(d["loc"]) for d in r.json()["detail"])
    assert locs == [("body", "n"), ("body", "temperature"), ("body", "top_p")]


def test_valid_edge_values_accepted(client: httpx.Client) -> None:
    r = post_chat(
        client,
        model="quasar-438b",
        temperature=0,
        top_p=1,
        n=1,
        max_tokens=150000,
        stop=None,
        tools=None,
        tool_choice=None,
        response_format=None,
        reasoning_effort=None,
        user="u",
        stream=False,
        unknown_extra_field={"kept": True},
    )
    assert r.status_code == 200, r.text


def test_completion_schema_violations(client: httpx.Client) -> None:
    r = client.post("/completions", json={"model": "carina-60b"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"type": "missing", "loc": ["body", "prompt"], "msg": "Field required", "input": {"model": "carina-60b"}}
    ]
    r = client.post("/completions", json={"model": "carina-60b", "prompt": ""})
    (d,) = r.json()["detail"]
    assert (d["loc"], d["type"]) == (["body", "prompt"], "string_too_short")
    r = client.post("/completions", json={"model": "carina-60b", "prompt": "x", "max_tokens": 0})
    (d,) = r.json()["detail"]
    assert (d["loc"], d["type"]) == (["body", "max_tokens"], "greater_than_equal")
    r = client.post("/completions", json={"model": "carina-60b", "prompt": [1, 2]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", "prompt"]


# --------------------------------------------------------------------------
# 400 errors
# --------------------------------------------------------------------------


def test_unknown_model_is_400(client: httpx.Client) -> None:
    r = post_chat(client, model="nonexistent-model")
    assert r.status_code == 400
    err = error_of(r)
    available = ", ".join(m.id for m in DEFAULT_MODELS)
    assert err == {
        "type": "invalid_request_error",
        "message": f"Invalid request: Model 'nonexistent-model' not found; available: [{available}]",
        "param": None,
        "code": None,
    }
    r = client.post("/completions", json={"model": "nope", "prompt": "x"})
    assert r.status_code == 400
    assert "Model 'nope' not found" in error_of(r)["message"]


def test_tools_to_model_without_tool_support(client: httpx.Client) -> None:
    r = post_chat(client, model="mistral-small-3-1", tools=[WEATHER_TOOL])
    assert r.status_code == 400
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert err["message"] == "Invalid request: Model 'mistral-small-3-1' does not support tool calling"
    # an empty tools list is not a tool request
    r = post_chat(client, model="mistral-small-3-1", tools=[])
    assert r.status_code == 200


def test_context_length_exceeded(client: httpx.Client) -> None:
    long_text = "a" * (32768 * 4 + 40)  # 32778 tokens > 32768
    r = post_chat(client, model="cai-mistral-small-3-1-slim", content=long_text)
    assert r.status_code == 400
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "context_length_exceeded"
    assert err["message"].startswith(
        "This model's maximum context length is 32768 tokens. However, you requested 32778 tokens "
        "(32778 in the messages, 0 in the completion)."
    )
    # the completion budget counts too
    r = post_chat(client, model="cai-mistral-small-3-1-slim", content="a" * 400, max_tokens=32700)
    assert r.status_code == 400
    assert "you requested 32800 tokens (100 in the messages, 32700 in the completion)" in error_of(r)["message"]
    r = post_chat(client, model="cai-mistral-small-3-1-slim", content="a" * 400, max_tokens=32668)
    assert r.status_code == 200
    # no context window published -> no check
    assert post_chat(client, model="quasar-438b", content=long_text).status_code == 200


def test_completions_context_length(client: httpx.Client) -> None:
    r = client.post("/completions", json={"model": "cai-mistral-small-3-1-slim", "prompt": "b" * (32768 * 4)})
    assert r.status_code == 400
    assert error_of(r)["code"] == "context_length_exceeded"


def test_reasoning_effort_checks(client: httpx.Client) -> None:
    r = post_chat(client, model="carina-60b", reasoning_effort="low")
    assert r.status_code == 400
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert "carina-60b" in err["message"] and "not a reasoning model" in err["message"]
    r = post_chat(client, model="gpt-oss-120b", reasoning_effort="max")
    assert r.status_code == 400
    assert error_of(r)["message"] == (
        "Invalid request: Model 'gpt-oss-120b' does not support reasoning_effort 'max'; "
        "supported levels: [low, medium, high]"
    )
    r = post_chat(client, model="gpt-oss-120b", reasoning_effort="high")
    assert r.status_code == 200
    assert len(words(r.json()["choices"][0]["message"]["reasoning_content"])) == 40


def test_vision_gating(client: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    body = {"model": "carina-60b", "messages": [{"role": "user", "content": content}]}
    r = client.post("/chat/completions", json=body)
    assert r.status_code == 400
    assert error_of(r)["message"] == "Invalid request: Model 'carina-60b' does not support image inputs"
    body["model"] = "nemotron-3-nano-omni"
    r = client.post("/chat/completions", json=body)
    assert r.status_code == 200
    assert "What is in this image?" in r.json()["choices"][0]["message"]["content"]


def test_json_schema_to_model_without_structured_output() -> None:
    model = EmulatedModel(id="plain", supports_response_schema=False)
    with Emulator(models=[model]) as e:
        rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
        r = httpx.post(
            e.base_url + "/chat/completions", headers=AUTH, json=chat_body(model="plain", response_format=rf)
        )
        assert r.status_code == 400
        assert "structured output" in error_of(r)["message"]
        r = httpx.post(
            e.base_url + "/chat/completions",
            headers=AUTH,
            json=chat_body(model="plain", response_format={"type": "json_object"}),
        )
        assert r.status_code == 200


# --------------------------------------------------------------------------
# chat answers
# --------------------------------------------------------------------------


def test_chat_answer_shape(client: httpx.Client) -> None:
    msgs = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hello, I'm Camillo"},
        {"role": "user", "content": "What is my name?"},
    ]
    r = client.post("/chat/completions", json={"model": "carina-60b", "messages": msgs})
    assert r.status_code == 200
    body = r.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and abs(body["created"] - time.time()) < 60
    assert body["model"] == "carina-60b"
    assert body["system_fingerprint"] is None
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    msg = choice["message"]
    assert msg["role"] == "assistant"
    assert "tool_calls" not in msg and "reasoning_content" not in msg
    assert msg["content"].startswith("[carina-60b] You said: What is my name?")
    assert len(words(msg["content"])) == 12
    chars = sum(len(m["content"]) for m in msgs)
    usage = body["usage"]
    assert usage["prompt_tokens"] == math.ceil(chars / 4)
    assert usage["completion_tokens"] == 12
    assert usage["total_tokens"] == usage["prompt_tokens"] + 12


def test_chat_is_deterministic(client: httpx.Client) -> None:
    a = post_chat(client, content="same prompt").json()
    b = post_chat(client, content="same prompt").json()
    assert a["choices"] == b["choices"]
    assert a["id"] != b["id"]


def test_long_prompt_echo_is_bounded(client: httpx.Client) -> None:
    text = " ".join(f"w{i}" for i in range(200))
    content = post_chat(client, content=text).json()["choices"][0]["message"]["content"]
    assert content.startswith("[carina-60b] You said: w0 w1 w2")
    assert len(words(content)) < 80


def test_max_tokens_cap(client: httpx.Client) -> None:
    body = post_chat(client, max_tokens=5).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "[carina-60b] You said: hello there"
    assert body["usage"]["completion_tokens"] == 5
    # max_completion_tokens wins over max_tokens
    body = post_chat(client, max_tokens=3, max_completion_tokens=7).json()
    assert len(words(body["choices"][0]["message"]["content"])) == 7
    # a cap above the answer length changes nothing
    body = post_chat(client, max_tokens=100).json()
    assert body["choices"][0]["finish_reason"] == "stop"
    assert len(words(body["choices"][0]["message"]["content"])) == 12


def test_words_marker(client: httpx.Client) -> None:
    body = post_chat(client, content="please words=50").json()
    content = body["choices"][0]["message"]["content"]
    assert len(words(content)) == 50
    assert body["usage"]["completion_tokens"] == 50
    assert body["choices"][0]["finish_reason"] == "stop"
    body = post_chat(client, content="words=500", max_tokens=100).json()
    assert len(words(body["choices"][0]["message"]["content"])) == 100
    assert body["choices"][0]["finish_reason"] == "length"
    body = post_chat(client, content="words=3").json()
    assert body["choices"][0]["message"]["content"] == "[carina-60b] You said:"


def test_ignore_eos_runs_to_the_cap(client: httpx.Client) -> None:
    body = post_chat(client, ignore_eos=True, max_tokens=40).json()
    assert len(words(body["choices"][0]["message"]["content"])) == 40
    assert body["choices"][0]["finish_reason"] == "length"


def test_stop_sequences(client: httpx.Client) -> None:
    body = post_chat(client, stop="said").json()
    assert body["choices"][0]["message"]["content"] == "[carina-60b] You "
    assert body["choices"][0]["finish_reason"] == "stop"
    body = post_chat(client, stop=["there", "You"]).json()
    assert body["choices"][0]["message"]["content"] == "[carina-60b] "
    body = post_chat(client, stop=["###"]).json()
    assert len(words(body["choices"][0]["message"]["content"])) == 12


def test_json_object_response_format(client: httpx.Client) -> None:
    body = post_chat(client, response_format={"type": "json_object"}).json()
    content = json.loads(body["choices"][0]["message"]["content"])
    assert content["model"] == "carina-60b"
    assert content["answer"].startswith("[carina-60b] You said: hello there")
    assert body["choices"][0]["finish_reason"] == "stop"


JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
            "required": ["city", "zip"],
            "additionalProperties": False,
        }
    },
    "properties": {
        "name": {"type": "string", "minLength": 20, "maxLength": 30},
        "age": {"type": "integer", "minimum": 18, "maximum": 120},
        "score": {"type": "number", "exclusiveMinimum": 5, "exclusiveMaximum": 6},
        "ratio": {"type": "number", "multipleOf": 0.25, "minimum": 2.1},
        "active": {"type": "boolean"},
        "status": {"type": "string", "enum": ["new", "done"]},
        "kind": {"const": "person"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "home": {"$ref": "#/$defs/address"},
        "nickname": {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
        "created": {"type": "string", "format": "date-time"},
        "nested": {
            "type": "object",
            "properties": {
                "deep": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"x": {"type": ["integer", "null"], "exclusiveMinimum": 0}},
                        "required": ["x"],
                    },
                }
            },
            "required": ["deep"],
        },
        "both": {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "string"}}, "required": ["b"]},
            ]
        },
    },
    "required": ["name", "age", "score", "active", "status", "kind", "tags", "home", "nested", "both"],
    "additionalProperties": False,
}


def test_json_schema_response_validates(client: httpx.Client) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "person", "schema": JSON_SCHEMA, "strict": True}}
    body = post_chat(client, response_format=rf).json()
    content = json.loads(body["choices"][0]["message"]["content"])
    jsonschema.Draft202012Validator(JSON_SCHEMA).validate(content)
    assert content["status"] == "new" and content["kind"] == "person"
    assert len(content["tags"]) == 2
    assert body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
        {"type": "array", "items": {"type": "integer", "minimum": 3}, "minItems": 1, "maxItems": 1},
        {"type": "string", "maxLength": 3},
        {"type": "integer", "exclusiveMaximum": 0},
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "boolean"}, {"type": "null"}]}}},
        {"type": "object", "required": ["free"], "additionalProperties": {"type": "number"}},
    ],
)
def test_json_schema_generator_variants(client: httpx.Client, schema: dict[str, Any]) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    r = post_chat(client, response_format=rf)
    assert r.status_code == 200
    jsonschema.Draft202012Validator(schema).validate(json.loads(r.json()["choices"][0]["message"]["content"]))


# --------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------


def _tool_call(body: dict[str, Any]) -> dict[str, Any]:
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["content"] is None
    (call,) = msg["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("chatcmpl-tool-") and len(call["id"]) == len("chatcmpl-tool-") + 32
    assert isinstance(call["function"]["arguments"], str)
    return call


def test_tool_choice_auto_calls_first_tool(client: httpx.Client) -> None:
    r = post_chat(
        client, content="What's the weather like in Paris?", tools=[WEATHER_TOOL, TIME_TOOL], tool_choice="auto"
    )
    assert r.status_code == 200
    call = _tool_call(r.json())
    assert call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    assert args == {"location": "Paris", "unit": "celsius"}
    jsonschema.validate(args, WEATHER_TOOL["function"]["parameters"])


def test_default_tool_choice_is_auto_and_city_fallback(client: httpx.Client) -> None:
    call = _tool_call(post_chat(client, content="weather please", tools=[WEATHER_TOOL]).json())
    assert json.loads(call["function"]["arguments"])["location"] == "San Sebastián"


def test_auto_prefers_a_tool_named_in_the_prompt(client: httpx.Client) -> None:
    call = _tool_call(post_chat(client, content="call get_time now", tools=[WEATHER_TOOL, TIME_TOOL]).json())
    assert call["function"]["name"] == "get_time"


def test_tool_choice_required(client: httpx.Client) -> None:
    call = _tool_call(post_chat(client, tools=[TIME_TOOL, WEATHER_TOOL], tool_choice="required").json())
    assert call["function"]["name"] == "get_time"
    args = json.loads(call["function"]["arguments"])
    jsonschema.validate(args, TIME_TOOL["function"]["parameters"])


def test_tool_choice_named(client: httpx.Client) -> None:
    choice = {"type": "function", "function": {"name": "get_time"}}
    call = _tool_call(post_chat(client, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=choice).json())
    assert call["function"]["name"] == "get_time"


def test_tool_choice_named_unknown_is_400(client: httpx.Client) -> None:
    choice = {"type": "function", "function": {"name": "launch_rocket"}}
    r = post_chat(client, tools=[WEATHER_TOOL], tool_choice=choice)
    assert r.status_code == 400
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert "launch_rocket" in err["message"]


def test_tool_choice_without_tools_is_400(client: httpx.Client) -> None:
    r = post_chat(client, tool_choice="required")
    assert r.status_code == 400
    assert error_of(r)["type"] == "invalid_request_error"
    assert post_chat(client, tool_choice="auto").status_code == 200


def test_tool_choice_none_answers_text(client: httpx.Client) -> None:
    body = post_chat(client, tools=[WEATHER_TOOL], tool_choice="none").json()
    msg = body["choices"][0]["message"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in msg
    assert msg["content"].startswith("[carina-60b] You said:")


def test_tool_result_is_answered_with_text(client: httpx.Client) -> None:
    first = post_chat(client, content="Weather in Bilbao?", tools=[WEATHER_TOOL]).json()
    call = _tool_call(first)
    messages = [
        {"role": "user", "content": "Weather in Bilbao?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"},
    ]
    body = client.post(
        "/chat/completions", json={"model": "carina-60b", "messages": messages, "tools": [WEATHER_TOOL]}
    ).json()
    assert body["choices"][0]["finish_reason"] == "stop"
    content = body["choices"][0]["message"]["content"]
    assert "18 degrees and sunny" in content
    assert "get_weather" in content
    assert "tool_calls" not in body["choices"][0]["message"]
    # a forced choice still calls
    forced = client.post(
        "/chat/completions",
        json={"model": "carina-60b", "messages": messages, "tools": [WEATHER_TOOL], "tool_choice": "required"},
    ).json()
    _tool_call(forced)


def test_tool_without_parameters(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "ping"}}
    call = _tool_call(post_chat(client, tools=[tool]).json())
    assert json.loads(call["function"]["arguments"]) == {}


# --------------------------------------------------------------------------
# reasoning fields
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reasoning_emu() -> Iterator[Emulator]:
    models = [
        EmulatedModel(id="r-content", supports_reasoning=True),
        EmulatedModel(id="r-field", supports_reasoning=True, reasoning_field="reasoning"),
        EmulatedModel(id="r-think", supports_reasoning=True, reasoning_field="think_tags"),
    ]
    with Emulator(models=models) as e:
        yield e


def test_reasoning_content_default(client: httpx.Client) -> None:
    body = post_chat(client, model="hypernova-60b").json()
    msg = body["choices"][0]["message"]
    assert msg["reasoning_content"].startswith('Thinking about "hello there"')
    assert len(words(msg["reasoning_content"])) == 24
    assert len(words(msg["content"])) == 12
    assert body["usage"]["completion_tokens"] == 36
    assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": 24}
    # effort "none" / reasoning_enabled false switch it off
    msg = post_chat(client, model="hypernova-60b", reasoning_effort="none").json()["choices"][0]["message"]
    assert "reasoning_content" not in msg
    msg = post_chat(client, model="hypernova-60b", reasoning_enabled=False).json()["choices"][0]["message"]
    assert "reasoning_content" not in msg


@pytest.mark.parametrize("model", ["r-content", "r-field", "r-think"])
def test_reasoning_field_variants(reasoning_emu: Emulator, model: str) -> None:
    with httpx.Client(base_url=reasoning_emu.base_url, headers=AUTH) as c:
        msg = post_chat(c, model=model, reasoning_effort="low").json()["choices"][0]["message"]
        stream = post_chat(c, model=model, reasoning_effort="low", stream=True)
    chunks, done = sse_chunks(stream.text)
    assert done
    deltas = [ch["choices"][0]["delta"] for ch in chunks if ch["choices"]]
    streamed_content = "".join(d.get("content") or "" for d in deltas)
    assert streamed_content == msg["content"]
    if model == "r-think":
        assert "reasoning_content" not in msg and "reasoning" not in msg
        assert msg["content"].startswith("<think>Thinking about")
        think, _, answer = msg["content"].partition("</think>\n\n")
        assert len(words(think)) == 12
        assert answer.startswith("[r-think] You said: hello there")
        assert all("reasoning_content" not in d and "reasoning" not in d for d in deltas)
    else:
        key = "reasoning_content" if model == "r-content" else "reasoning"
        other = "reasoning" if model == "r-content" else "reasoning_content"
        assert len(words(msg[key])) == 12
        assert other not in msg
        assert "".join(d.get(key) or "" for d in deltas) == msg[key]
        assert all(other not in d for d in deltas)
        assert msg["content"].startswith(f"[{model}] You said:")


def test_reasoning_field_validation() -> None:
    with pytest.raises(ValueError):
        EmulatedModel(id="x", reasoning_field="thoughts")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        EmulatedModel(id="")
    with pytest.raises(ValueError):
        EmulatedModel(id="x", reasoning_efforts=("turbo",))


# --------------------------------------------------------------------------
# /v1/completions
# --------------------------------------------------------------------------


def test_completions_string_prompt(client: httpx.Client) -> None:
    r = client.post("/completions", json={"model": "carina-60b", "prompt": "What is the capital of France ?"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "text_completion"
    assert body["model"] == "carina-60b"
    assert isinstance(body["id"], str) and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert set(choice) == {"index", "text", "finish_reason", "logprobs"}
    assert choice["index"] == 0 and choice["logprobs"] is None
    assert choice["text"].startswith("[carina-60b] You wrote: What is the capital of France ?")
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] == math.ceil(len("What is the capital of France ?") / 4)
    assert usage["completion_tokens"] == len(words(choice["text"])) == 12
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # the response matches the spec's CompletionResponse schema
    v = BodyValidator("CompletionResponse")
    assert v.validate(body) is None


def test_completions_list_prompt_and_defaults(client: httpx.Client) -> None:
    r = client.post("/completions", json={"model": "carina-60b", "prompt": ["first", "second words=40", "third"]})
    body = r.json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert "first" in body["choices"][0]["text"]
    assert "third" in body["choices"][2]["text"]
    # default max_tokens is 16 (spec)
    assert len(words(body["choices"][1]["text"])) == 16
    assert body["choices"][1]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 12 + 16 + 12


def test_completions_max_tokens_stop_and_stream_ignored(client: httpx.Client) -> None:
    body = client.post("/completions", json={"model": "carina-60b", "prompt": "x words=100", "max_tokens": 30}).json()
    assert len(words(body["choices"][0]["text"])) == 30
    body = client.post("/completions", json={"model": "carina-60b", "prompt": "abc", "stop": ["wrote"]}).json()
    assert body["choices"][0]["text"] == "[carina-60b] You "
    r = client.post("/completions", json={"model": "carina-60b", "prompt": "abc", "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json()["object"] == "text_completion"


# --------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------


def test_stream_text(client: httpx.Client) -> None:
    plain = post_chat(client, content="stream me").json()
    r = post_chat(client, content="stream me", stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.headers
    assert r.headers["x-served-by-region"] == "emulator"
    chunks, done = sse_chunks(r.text)
    assert done
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "carina-60b" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    content_deltas = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert all(1 <= len(words(d)) <= 2 for d in content_deltas)
    assert "".join(content_deltas) == plain["choices"][0]["message"]["content"]
    assert all("usage" not in c for c in chunks)


def test_stream_include_usage(client: httpx.Client) -> None:
    r = post_chat(client, stream=True, stream_options={"include_usage": True}, max_tokens=4)
    chunks, done = sse_chunks(r.text)
    assert done
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 4
    assert usage_chunk["usage"]["prompt_tokens"] == math.ceil(len("hello there") / 4)
    assert usage_chunk["usage"]["total_tokens"] == usage_chunk["usage"]["prompt_tokens"] + 4
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    r = post_chat(client, stream=True, stream_options={"include_usage": False})
    chunks, _ = sse_chunks(r.text)
    assert all(c["choices"] for c in chunks)


def test_stream_500_words(client: httpx.Client) -> None:
    r = post_chat(client, content="words=500", stream=True)
    chunks, done = sse_chunks(r.text)
    assert done
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert len(words(text)) == 500


def test_stream_tool_call(client: httpx.Client) -> None:
    r = post_chat(
        client, content="weather in Madrid", stream=True, tools=[WEATHER_TOOL], stream_options={"include_usage": True}
    )
    chunks, done = sse_chunks(r.text)
    assert done
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    tool_deltas = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert len(tool_deltas) >= 3
    first = tool_deltas[0][0]
    assert first["index"] == 0
    assert first["id"].startswith("chatcmpl-tool-")
    assert first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": ""}
    for td in tool_deltas[1:]:
        assert set(td[0]) == {"index", "function"} and set(td[0]["function"]) == {"arguments"}
    arguments = "".join(td[0]["function"]["arguments"] for td in tool_deltas)
    assert json.loads(arguments) == {"location": "Madrid", "unit": "celsius"}
    finals = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert [c["choices"][0]["finish_reason"] for c in finals] == ["tool_calls"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_stream_reasoning_then_tool_call(client: httpx.Client) -> None:
    r = post_chat(client, model="gpt-oss-120b", stream=True, tools=[WEATHER_TOOL])
    chunks, done = sse_chunks(r.text)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    assert len(words(reasoning)) == 24
    kinds = ["r" if "reasoning_content" in d else "t" if "tool_calls" in d else "o" for d in deltas]
    assert kinds.index("t") > max(i for i, k in enumerate(kinds) if k == "r")


def test_stream_chunk_delay(emu: Emulator, client: httpx.Client) -> None:
    emu.chunk_delay = 0.01
    try:
        start = time.perf_counter()
        r = post_chat(client, content="words=20", stream=True)
        elapsed = time.perf_counter() - start
    finally:
        emu.chunk_delay = 0.0
    chunks, done = sse_chunks(r.text)
    assert done
    assert elapsed >= 0.01 * (len(chunks) - 1)


# --------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------


def test_fault_names() -> None:
    assert FAULT_NAMES == {
        "rate_limit",
        "server_error",
        "bad_gateway",
        "unavailable",
        "slow",
        "html",
        "truncated_json",
        "stream_cut",
        "reset",
    }
    assert FaultSpec.parse("slow:0.25") == FaultSpec(Fault.SLOW, 0.25)
    assert slow(1.5) == "slow:1.5"
    assert str(Fault.RATE_LIMIT) == "rate_limit"
    with pytest.raises(ValueError):
        FaultSpec.parse("explode")
    with pytest.raises(ValueError):
        FaultSpec.parse("rate_limit:3")
    with pytest.raises(ValueError):
        FaultSpec.parse("slow:soon")


@pytest.mark.parametrize(
    ("fault", "status", "ctype", "expected"),
    [
        (
            "rate_limit",
            429,
            "application/json",
            {"error": {"type": "rate_limit_error", "message": "Rate limit exceeded", "param": None, "code": None}},
        ),
        ("server_error", 500, "application/json", {"detail": "Unexpected server error"}),
        (
            "unavailable",
            503,
            "application/json",
            {
                "error": {
                    "type": "server_error",
                    "message": "Service temporarily unavailable",
                    "param": None,
                    "code": None,
                }
            },
        ),
        ("bad_gateway", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        ("html", 500, "text/html", "<h1>500 Internal Server Error</h1>"),
    ],
)
def test_status_faults_via_header(client: httpx.Client, fault: str, status: int, ctype: str, expected: Any) -> None:
    assert post_chat(client).status_code == 200  # no fault without the header
    r = client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": fault, "x-request-id": "f-1"})
    assert r.status_code == status
    assert r.headers["content-type"].startswith(ctype)
    assert r.headers["x-request-id"] == "f-1"
    if isinstance(expected, dict):
        assert r.json() == expected
    else:
        assert expected in r.text
    assert post_chat(client).status_code == 200


def test_inject_times_and_clear(emu: Emulator, client: httpx.Client) -> None:
    emu.inject("rate_limit", times=2)
    assert [post_chat(client).status_code for _ in range(3)] == [429, 429, 200]
    emu.inject(Fault.UNAVAILABLE)
    assert [client.get("/models").status_code for _ in range(3)] == [503, 503, 503]
    assert len(emu.faults) == 1
    emu.clear_faults()
    assert emu.faults == []
    assert client.get("/models").status_code == 200
    with pytest.raises(ValueError):
        emu.inject("rate_limit", times=0)
    with pytest.raises(ValueError):
        emu.inject("nonsense")


def test_inject_per_model(emu: Emulator, client: httpx.Client) -> None:
    emu.inject("server_error", model="glm-5-1")
    assert post_chat(client, model="carina-60b").status_code == 200
    r = post_chat(client, model="glm-5-1")
    assert r.status_code == 500 and r.json() == {"detail": "Unexpected server error"}
    assert client.get("/models/glm-5-1").status_code == 500
    assert client.get("/models/carina-60b").status_code == 200
    assert client.post("/completions", json={"model": "glm-5-1", "prompt": "x"}).status_code == 500


def test_faults_fire_after_routing_and_auth(emu: Emulator, client: httpx.Client) -> None:
    emu.inject("rate_limit")
    assert client.get("/nope").status_code == 404
    assert httpx.get(emu.base_url + "/models").status_code == 401
    assert client.get("/models").status_code == 429


def test_unknown_fault_header_is_400(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "meltdown"})
    assert r.status_code == 400
    err = error_of(r)
    assert "meltdown" in err["message"] and err["type"] == "invalid_request_error"


def test_slow_fault(emu: Emulator, client: httpx.Client) -> None:
    start = time.perf_counter()
    r = client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "slow:0.3"})
    assert r.status_code == 200
    assert time.perf_counter() - start >= 0.3
    # slow combines with another fault
    start = time.perf_counter()
    r = client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "slow:0.2,rate_limit"})
    assert r.status_code == 429
    assert time.perf_counter() - start >= 0.2
    # a slow request does not block others
    emu.inject(slow(0.5), model="glm-5-1", times=1)

    async def both() -> tuple[float, float]:
        async with httpx.AsyncClient(base_url=emu.base_url, headers=AUTH) as ac:
            t0 = time.perf_counter()

            async def timed(model: str) -> float:
                resp = await ac.post("/chat/completions", json=chat_body(model=model))
                assert resp.status_code == 200
                return time.perf_counter() - t0

            slow_t, fast_t = await asyncio.gather(timed("glm-5-1"), timed("carina-60b"))
            return slow_t, fast_t

    slow_t, fast_t = asyncio.run(both())
    assert slow_t >= 0.5
    assert fast_t < 0.4


def test_truncated_json_fault(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "truncated_json"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.content.startswith(b'{"id":"chatcmpl-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    # connection still usable
    assert post_chat(client).status_code == 200


def test_truncated_json_in_stream(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat_body(stream=True), headers={"x-emulator-fault": "truncated_json"})
    payloads = sse_payloads(r.text)
    assert payloads[-1] == "[DONE]"
    bad = 0
    for p in payloads[:-1]:
        try:
            json.loads(p)
        except json.JSONDecodeError:
            bad += 1
    assert bad == 1


def test_stream_cut_fault(emu: Emulator) -> None:
    emu.inject("stream_cut", times=1)
    received: list[str] = []
    with httpx.Client(base_url=emu.base_url, headers=AUTH) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            with c.stream("POST", "/chat/completions", json=chat_body(content="words=40", stream=True)) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if line:
                        received.append(line)
        assert len(received) == STREAM_CUT_AFTER
        assert all(line.startswith("data: {") for line in received)
        assert "data: [DONE]" not in received
        # the client recovers on a fresh connection
        assert post_chat(c).status_code == 200


def test_stream_cut_on_plain_response(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "stream_cut"})
    assert post_chat(client).status_code == 200


def test_reset_fault(emu: Emulator, client: httpx.Client) -> None:
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/chat/completions", json=chat_body(), headers={"x-emulator-fault": "reset"})
    assert post_chat(client).status_code == 200
    # a real TCP reset at the socket level
    emu.inject("reset", times=1)
    payload = json.dumps(chat_body()).encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Length: %d\r\n\r\n%b" % (len(payload), payload)
        )
        with pytest.raises(ConnectionResetError):
            data = s.recv(65536)
            assert data == b"", data  # FIN instead of RST would land here and fail


# --------------------------------------------------------------------------
# recording
# --------------------------------------------------------------------------


def test_recording(emu: Emulator, client: httpx.Client) -> None:
    body = chat_body(content="record me", temperature=0.1)
    client.post("/chat/completions?trace=1", json=body, headers={"X-Custom-Header": "Yes", "x-request-id": "rec-1"})
    client.get("/models")
    reqs = emu.requests
    assert len(reqs) == 2
    first = reqs[0]
    assert first.method == "POST"
    assert first.path == "/v1/chat/completions"
    assert first.query == "trace=1"
    assert first.headers["x-custom-header"] == "Yes"
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert all(k == k.lower() for k in first.headers)
    assert first.body == body
    assert json.loads(first.raw_body) == body
    assert first.request_id == "rec-1"
    assert reqs[1].method == "GET" and reqs[1].body is None and reqs[1].raw_body == b""
    assert emu.last_request is reqs[1] or emu.last_request == reqs[1]
    client.post("/chat/completions", content=b"not json")
    assert emu.requests[-1].body is None and emu.requests[-1].raw_body == b"not json"
    emu.clear_requests()
    assert emu.requests == []


def test_recording_off() -> None:
    with Emulator(record=False) as e:
        r = httpx.post(e.base_url + "/chat/completions", json=chat_body(), headers=AUTH)
        assert r.status_code == 200
        assert e.requests == []
        e.record = True
        httpx.get(e.base_url + "/models", headers=AUTH)
        assert len(e.requests) == 1


def test_recording_is_thread_safe(emu: Emulator) -> None:
    def worker() -> None:
        with httpx.Client(base_url=emu.base_url, headers=AUTH) as c:
            for _ in range(25):
                assert c.get("/models").status_code == 200

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emu.requests) == 100


# --------------------------------------------------------------------------
# configurable models
# --------------------------------------------------------------------------


def test_configurable_models() -> None:
    custom = EmulatedModel(
        id="tiny-1b", supports_function_calling=False, context_window=64, parameters_number="1B", owned_by="acme"
    )
    with Emulator(models=[custom]) as e, httpx.Client(base_url=e.base_url, headers=AUTH) as c:
        data = c.get("/models").json()["data"]
        assert data == [
            {
                "id": "tiny-1b",
                "object": "model",
                "created": custom.created,
                "owned_by": "acme",
                "parameters_number": "1B",
                "context_window": 64,
                "capabilities": {
                    "supports_function_calling": False,
                    "supports_reasoning": False,
                    "supports_vision": False,
                    "supports_response_schema": True,
                },
            }
        ]
        assert post_chat(c, model="tiny-1b").status_code == 200
        r = post_chat(c, model="tiny-1b", content="x" * 400)
        assert r.status_code == 400 and error_of(r)["code"] == "context_length_exceeded"
        assert post_chat(c, model="carina-60b").status_code == 400

        e.add_model(EmulatedModel(id="extra", supports_reasoning=True))
        assert [m["id"] for m in c.get("/models").json()["data"]] == ["tiny-1b", "extra"]
        assert "reasoning_content" in post_chat(c, model="extra").json()["choices"][0]["message"]

        removed = e.remove_model("tiny-1b")
        assert removed.id == "tiny-1b"
        assert c.get("/models/tiny-1b").status_code == 404
        r = post_chat(c, model="tiny-1b")
        assert r.status_code == 400
        assert error_of(r)["message"] == "Invalid request: Model 'tiny-1b' not found; available: [extra]"
        with pytest.raises(KeyError):
            e.remove_model("tiny-1b")

        e.set_models(DEFAULT_MODELS)
        assert len(c.get("/models").json()["data"]) == len(DEFAULT_MODELS)
        assert [m.id for m in e.models] == [m.id for m in DEFAULT_MODELS]
        with pytest.raises(TypeError):
            e.add_model({"id": "dict"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------


def _fd_count() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def test_repeated_start_stop_does_not_leak() -> None:
    threads_before = threading.active_count()
    fds_before = _fd_count()
    for _ in range(15):
        e = Emulator()
        e.start()
        assert e.running
        port = e.port
        with httpx.Client(base_url=e.base_url, headers=AUTH) as c:
            assert c.get("/models").status_code == 200
        e.stop()
        assert not e.running
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert threading.active_count() == threads_before
    fds_after = _fd_count()
    if fds_before is not None and fds_after is not None:
        assert fds_after <= fds_before + 2


def test_restart_same_instance_and_double_start() -> None:
    e = Emulator(api_keys={KEY})
    with e:
        with pytest.raises(RuntimeError):
            e.start()
        e.inject("rate_limit")
        e.stop()
        e.stop()  # idempotent
        e.start()
        # configuration survives a restart
        assert httpx.get(e.base_url + "/models", headers=AUTH).status_code == 429
        e.clear_faults()
        assert httpx.get(e.base_url + "/models", headers=AUTH).status_code == 200
    assert not e.running


def test_stop_closes_keepalive_connections() -> None:
    e = Emulator().start()
    try:
        s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
        s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        assert data.startswith(b"HTTP/1.1 200 OK")
        deadline = time.time() + 2
        while e.open_connections < 1 and time.time() < deadline:
            time.sleep(0.01)
        assert e.open_connections == 1
    finally:
        e.stop()
    s.settimeout(5)
    try:
        rest = s.recv(1 << 20)
        while rest and not rest.endswith(b"]}"):
            more = s.recv(1 << 20)
            if not more:
                break
            rest = more
        tail = s.recv(1 << 20)
        assert tail == b""
    except ConnectionResetError:
        pass
    finally:
        s.close()


def test_port_in_use_raises() -> None:
    with Emulator() as e:
        other = Emulator(port=e.port)
        with pytest.raises(OSError):
            other.start()
        assert not other.running


# --------------------------------------------------------------------------
# HTTP details
# --------------------------------------------------------------------------


def _raw(port: int, data: bytes, read_until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


def test_keep_alive_multiple_requests_on_one_socket(emu: Emulator) -> None:
    req = b"GET /v1/models/carina-60b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n\r\n"
    last = req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    out = _raw(emu.port, req + req + last)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    assert out.count(b'"id":"carina-60b"') == 3
    assert b"connection: close" in out


def test_http10_keep_alive(emu: Emulator) -> None:
    req = b"GET /v1/models/glm-5-1 HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Bearer " + KEY.encode()
    out = _raw(emu.port, req + b"\r\n\r\n" + req.replace(b"keep-alive", b"close") + b"\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 2
    first, _, second = out.partition(b'"id":"glm-5-1"')
    assert b"connection: keep-alive" in first
    assert b"connection: close" in second


def test_forgotten_emulator_is_stopped_by_gc() -> None:
    import gc

    threads_before = threading.active_count()
    e = Emulator().start()
    port = e.port
    assert threading.active_count() == threads_before + 1
    del e
    gc.collect()
    assert threading.active_count() == threads_before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_http10_and_chunked_request_body(emu: Emulator) -> None:
    out = _raw(emu.port, b"GET /v1/models HTTP/1.0\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert b"connection: close" in out
    payload = json.dumps(chat_body(content="chunked body")).encode()
    body = b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (10, payload[:10], len(payload) - 10, payload[10:])
    out = _raw(
        emu.port,
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
    )
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert b"You said: chunked body" in out


def test_http10_stream_is_close_delimited(emu: Emulator) -> None:
    payload = json.dumps(chat_body(stream=True)).encode()
    out = _raw(
        emu.port,
        b"POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer "
        + KEY.encode()
        + b"\r\nContent-Length: %d\r\n\r\n%b" % (len(payload), payload),
    )
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert body.startswith(b"data: {") and body.endswith(b"data: [DONE]\n\n")


def test_expect_100_continue(emu: Emulator) -> None:
    payload = json.dumps(chat_body()).encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(payload)
        )
        interim = s.recv(4096)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /v1/models HTTP/2.0\r\n\r\n", b"505"),
        (b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"400"),
        (b"GET /v1/models HTTP/1.1\r\nBad Header Line\r\n\r\n", b"400"),
    ],
)
def test_malformed_requests(emu: Emulator, raw: bytes, status: bytes) -> None:
    out = _raw(emu.port, raw)
    assert out.startswith(b"HTTP/1.1 " + status)
    assert b"x-served-by-region: emulator" in out


@pytest.mark.asyncio
async def test_async_client_concurrency(emu: Emulator) -> None:
    async with httpx.AsyncClient(base_url=emu.base_url, headers=AUTH) as ac:
        results = await asyncio.gather(
            *(ac.post("/chat/completions", json=chat_body(content=f"n{i}", stream=i % 2 == 0)) for i in range(40))
        )
    assert all(r.status_code == 200 for r in results)
    for i, r in enumerate(results):
        if i % 2:
            assert r.json()["choices"][0]["message"]["content"].startswith(f"[carina-60b] You said: n{i}")
        else:
            chunks, done = sse_chunks(r.text)
            assert done
            assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks).startswith(
                f"[carina-60b] You said: n{i}"
            )


# --------------------------------------------------------------------------
# validation engine
# --------------------------------------------------------------------------


def test_openapi_is_verbatim_copy() -> None:
    shipped = Path(SPEC_PATH).read_bytes()
    spec = json.loads(shipped)
    assert "ChatCompletionRequest" in spec["components"]["schemas"]
    assert "CompletionRequest" in spec["components"]["schemas"]
    if REFERENCE_SPEC.exists():
        assert shipped == REFERENCE_SPEC.read_bytes()


def test_both_schemas_use_the_compiled_fast_path() -> None:
    assert BodyValidator(CHAT_SCHEMA).compiled
    assert BodyValidator(COMPLETION_SCHEMA).compiled


def test_compiler_rejects_unknown_keywords() -> None:
    from litellm_compactifai.emulator._validation import UnsupportedSchema

    with pytest.raises(UnsupportedSchema):
        compile_schema({"type": "array", "uniqueItems": True})
    check = compile_schema({"type": "integer", "const": 1})
    assert check(1) and check(1.0) and not check(True) and not check(2)


_POOL: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    -1,
    0.5,
    1.0,
    2.5,
    150000,
    150001,
    "",
    "x",
    "user",
    "assistant",
    "tool",
    "system",
    "function",
    "developer",
    "none",
    "auto",
    "required",
    "low",
    "max",
    "json_object",
    "json_schema",
    "text",
    "image_url",
    "function",
    [],
    [1],
    ["a", "b"],
    {},
    {"type": "function"},
    {"type": "function", "function": {"name": "f"}},
    {"type": "function", "function": {"name": 3}},
    {"role": "user", "content": "hi"},
    {"role": "tool", "content": "r", "tool_call_id": "c"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    },
    {"role": "user", "content": [{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": "u"}}]},
    {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}},
    {"type": "text"},
    {"include_usage": True},
]
_KEYS = [
    "model",
    "messages",
    "temperature",
    "top_p",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "min_tokens",
    "stop",
    "stream",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
    "reasoning_enabled",
    "user",
    "frequency_penalty",
    "ignore_eos",
    "prompt",
    "extra",
    "role",
    "content",
    "type",
    "function",
    "name",
    "tool_call_id",
    "json_schema",
    "image_url",
    "url",
    "text",
]


def _mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.7:
        out = dict(value)
        op = rng.random()
        key = rng.choice(list(out))
        if op < 0.35:
            out[key] = _mutate(out[key], rng, depth + 1)
        elif op < 0.55:
            del out[key]
        else:
            out[rng.choice(_KEYS)] = copy.deepcopy(rng.choice(_POOL))
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        out_list = list(value)
        i = rng.randrange(len(out_list))
        op = rng.random()
        if op < 0.6:
            out_list[i] = _mutate(out_list[i], rng, depth + 1)
        elif op < 0.8:
            del out_list[i]
        else:
            out_list.append(copy.deepcopy(rng.choice(_POOL)))
        return out_list
    return copy.deepcopy(rng.choice(_POOL))


@pytest.mark.parametrize("schema_name", [CHAT_SCHEMA, COMPLETION_SCHEMA])
def test_fast_path_agrees_with_jsonschema(schema_name: str) -> None:
    v = BodyValidator(schema_name)
    seeds: list[Any] = [
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "t"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "tool", "content": "r", "tool_call_id": "c"},
            ],
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
            "temperature": 1,
            "top_p": 0.5,
            "n": 1,
            "max_tokens": 5,
            "stop": ["x"],
            "stream": True,
            "reasoning_effort": "low",
        },
        {"model": "m", "prompt": ["a", "b"], "max_tokens": 3, "stop": "x", "temperature": 0.2, "top_p": 1},
        {"model": "m", "prompt": "p"},
    ]
    rng = random.Random(f"fuzz-{schema_name}")
    verdicts = {True: 0, False: 0}
    for i in range(3000):
        body: Any = copy.deepcopy(seeds[i % len(seeds)])
        for _ in range(rng.randint(1, 3)):
            body = _mutate(body, rng)
        expected = v.is_valid_jsonschema(body)
        assert v.is_valid_fast(body) == expected, body
        assert (v.validate(body) is None) == expected, body
        verdicts[expected] += 1
    assert verdicts[True] > 100 and verdicts[False] > 100


# --------------------------------------------------------------------------
# packaging / entry points
# --------------------------------------------------------------------------


def test_emulator_imports_nothing_from_the_client_side() -> None:
    allowed_third_party = {"jsonschema"}
    stdlib = getattr(sys, "stdlib_module_names", None)  # Python >= 3.10
    for path in EMULATOR_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    continue  # relative: inside the emulator package
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top not in {"litellm", "litellm_compactifai", "httpx", "fastapi", "uvicorn", "aiohttp"}, (
                    path.name,
                    name,
                )
                if stdlib is not None:
                    assert top in stdlib or top in allowed_third_party, (path.name, name)


def test_main_parser() -> None:
    from litellm_compactifai.emulator.__main__ import build_parser

    args = build_parser().parse_args(["--port", "9999", "--api-key", "a", "--api-key", "b", "--host", "0.0.0.0"])
    assert (args.port, args.host, args.api_keys) == (9999, "0.0.0.0", ["a", "b"])
    args = build_parser().parse_args([])
    assert (args.port, args.host, args.api_keys) == (8787, "127.0.0.1", None)


def test_python_dash_m_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    root = str(Path(SPEC_PATH).parents[2])  # where this litellm_compactifai was imported from
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "litellm_compactifai.emulator", "--port", "0", "--api-key", "cli-key"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=str(tmp_path),
        )
    lines: list[str] = []

    def read_first_line() -> None:
        assert proc.stdout is not None
        lines.append(proc.stdout.readline())

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    try:
        reader.join(timeout=120)
        assert lines, f"no output from the emulator; stderr: {stderr_path.read_text()[-2000:]}"
        line = lines[0]
        assert "CompactifAI emulator listening on http://127.0.0.1:" in line, line
        base = line.strip().rsplit(" ", 1)[1]
        assert base.endswith("/v1")
        assert httpx.get(base + "/models", headers={"Authorization": "Bearer cli-key"}).status_code == 200
        assert httpx.get(base + "/models", headers={"Authorization": "Bearer other"}).status_code == 401
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
