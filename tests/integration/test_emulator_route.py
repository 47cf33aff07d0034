"""The route through LiteLLM against the emulator: real HTTP on 127.0.0.1, sync and async twins."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List

import litellm
import pytest

import litellm_compactifai
from litellm_compactifai import cli
from litellm_compactifai.emulator import EmulatedModel, Emulator

KEY = "emulator-key-5678"
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}
MSG = [{"role": "user", "content": "What's the weather like in Bilbao?"}]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.clear_requests()
    emu.clear_faults()
    monkeypatch.setenv("COMPACTIFAI_API_KEY", KEY)
    monkeypatch.setenv("COMPACTIFAI_API_BASE", emu.base_url)


def complete(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", MSG)
    if mode == "sync":
        response = litellm.completion(**kwargs)
        return list(response) if kwargs.get("stream") else response

    async def go() -> Any:
        response = await litellm.acompletion(**kwargs)
        return [c async for c in response] if kwargs.get("stream") else response

    return asyncio.run(go())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


def chat_requests(emu: Emulator) -> List[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


@MODES
def test_chat_round_trip(emu: Emulator, mode: str) -> None:
    response = complete(mode, model="compactifai/cai-mistral-small-3-1-slim", max_tokens=5, user="u-7")
    request = chat_requests(emu)[-1]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "cai-mistral-small-3-1-slim"
    assert request.body["user"] == "u-7" and request.body["max_tokens"] == 5
    assert response.choices[0].finish_reason == "length"
    assert len(response.choices[0].message.content.split()) == 5
    assert response.usage.completion_tokens == 5
    assert litellm.completion_cost(completion_response=response) == pytest.approx(
        response.usage.prompt_tokens * 0.05e-6 + response.usage.completion_tokens * 0.08e-6
    )


@MODES
def test_tool_call_through_emulator(emu: Emulator, mode: str) -> None:
    response = complete(mode, model="compactifai/hypernova-60b", tools=[TOOL], tool_choice="required")
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"location", "unit"}
    assert response.choices[0].finish_reason == "tool_calls"


@MODES
def test_streamed_tool_call_and_usage(emu: Emulator, mode: str) -> None:
    chunks = complete(mode, model="compactifai/hypernova-60b", tools=[TOOL], stream=True)
    args = "".join(
        tc.function.arguments or "" for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])
    )
    assert set(json.loads(args)) == {"location", "unit"}
    assert chat_requests(emu)[-1].body["stream_options"] == {"include_usage": True}


@MODES
def test_gated_tools_never_reach_the_server(emu: Emulator, mode: str) -> None:
    with pytest.raises(litellm.UnsupportedParamsError, match="does not support tool calling"):
        complete(mode, model="compactifai/mistral-small-3-1", tools=[TOOL])
    assert chat_requests(emu) == []
    response = complete(mode, model="compactifai/mistral-small-3-1", tools=[TOOL], drop_params=True)
    assert "tools" not in chat_requests(emu)[-1].body
    assert response.choices[0].message.content


def test_json_mode(emu: Emulator) -> None:
    response = complete("sync", model="compactifai/glm-5-1", response_format={"type": "json_object"})
    assert isinstance(json.loads(response.choices[0].message.content), dict)


@MODES
def test_reasoning_model_gives_reasoning_content(emu: Emulator, mode: str) -> None:
    response = complete(mode, model="compactifai/hypernova-60b")
    assert response.choices[0].message.reasoning_content


@MODES
def test_text_completion_native(emu: Emulator, mode: str) -> None:
    kwargs = dict(
        model="compactifai/cai-mistral-small-3-1-slim", prompt=["Capital of France?", "Capital of Spain?"], max_tokens=4
    )
    response = litellm.text_completion(**kwargs) if mode == "sync" else asyncio.run(litellm.atext_completion(**kwargs))
    request = [r for r in emu.requests if r.path.endswith("/v1/completions")][-1]
    assert request.body == {
        "model": "cai-mistral-small-3-1-slim",
        "prompt": ["Capital of France?", "Capital of Spain?"],
        "max_tokens": 4,
    }
    assert [len(c.text.split()) for c in response.choices] == [4, 4]


def test_text_completion_stream(emu: Emulator) -> None:
    stream = litellm.text_completion(
        model="compactifai/cai-mistral-small-3-1-slim", prompt="Hello there", stream=True, max_tokens=6
    )
    text = "".join(c.choices[0].text or "" for c in stream if c.choices)
    assert len(text.split()) == 6


def test_error_from_server_names_field_and_request_id(emu: Emulator) -> None:
    # min_tokens is a CompactifAI-only field the route passes through; the server checks it.
    with pytest.raises(litellm.BadRequestError) as info:
        complete("sync", model="compactifai/glm-5-1", min_tokens=-5, num_retries=0)
    assert "min_tokens" in str(info.value)
    assert emu.requests[-1].request_id in str(info.value)


def test_out_of_range_values_fail_before_the_server(emu: Emulator) -> None:
    with pytest.raises(litellm.BadRequestError, match="temperature=3 .* must be a number from 0 to 2"):
        complete("sync", model="compactifai/glm-5-1", temperature=3)
    assert chat_requests(emu) == []


def test_unknown_model_is_not_found(emu: Emulator) -> None:
    with pytest.raises(litellm.NotFoundError, match="no-such-model"):
        complete("sync", model="compactifai/no-such-model", num_retries=0)


def test_wrong_key_is_authentication_error(emu: Emulator) -> None:
    with pytest.raises(litellm.AuthenticationError, match="COMPACTIFAI_API_KEY"):
        complete("sync", model="compactifai/glm-5-1", api_key="wrong-key-0000", num_retries=0)


def test_retries_on_rate_limit(emu: Emulator) -> None:
    emu.inject("rate_limit", model="glm-5-1", times=1)
    response = complete("sync", model="compactifai/glm-5-1", num_retries=2)
    assert response.choices[0].message.content
    assert len(chat_requests(emu)) == 2


def test_router_falls_back_from_slim_to_original(emu: Emulator) -> None:
    emu.inject("server_error", model="hypernova-60b")
    router = litellm.Router(
        model_list=[
            {"model_name": "slim", "litellm_params": {"model": "compactifai/hypernova-60b"}},
            {"model_name": "original", "litellm_params": {"model": "compactifai/gpt-oss-120b"}},
        ],
        fallbacks=[{"slim": ["original"]}],
        num_retries=0,
    )
    response = router.completion(model="slim", messages=MSG)
    assert response.choices[0].message.content
    assert [r.body["model"] for r in chat_requests(emu)] == ["hypernova-60b", "gpt-oss-120b"]


# --- discovery ------------------------------------------------------------------------------------


@MODES
def test_refresh_learns_an_unknown_model_without_tools(emu: Emulator, mode: str) -> None:
    emu.add_model(EmulatedModel(id=f"brand-new-{mode}-13b", supports_function_calling=False, context_window=4096))
    try:
        refresh = litellm_compactifai.refresh_models if mode == "sync" else None
        ids = refresh() if refresh else asyncio.run(litellm_compactifai.arefresh_models())
        assert f"brand-new-{mode}-13b" in ids
        assert litellm.supports_function_calling(f"compactifai/brand-new-{mode}-13b") is False
        assert litellm.get_model_info(f"compactifai/brand-new-{mode}-13b")["max_input_tokens"] == 4096
        emu.clear_requests()
        with pytest.raises(litellm.UnsupportedParamsError, match=f"brand-new-{mode}-13b"):
            complete(mode, model=f"compactifai/brand-new-{mode}-13b", tools=[TOOL])
        assert emu.requests == []
    finally:
        emu.remove_model(f"brand-new-{mode}-13b")


def test_live_flag_wins_over_catalog_but_not_over_user(emu: Emulator) -> None:
    key = "compactifai/carina-60b"  # the catalog does not know its tool support
    emu.add_model(EmulatedModel(id="carina-60b", supports_function_calling=False))
    litellm_compactifai.refresh_models()
    assert litellm.supports_function_calling(key) is False
    litellm.register_model({key: {**litellm.model_cost[key], "supports_function_calling": True}})
    litellm_compactifai.refresh_models()
    assert litellm.supports_function_calling(key) is True


def test_failed_refresh_changes_nothing(emu: Emulator) -> None:
    before = json.dumps({k: v for k, v in litellm.model_cost.items() if k.startswith("compactifai/")}, sort_keys=True)
    with pytest.raises(litellm.AuthenticationError):
        litellm_compactifai.refresh_models(api_key="wrong-key-0000")
    emu.inject("truncated_json", times=1)
    with pytest.raises(litellm.InternalServerError, match="malformed"):
        litellm_compactifai.refresh_models()
    after = json.dumps({k: v for k, v in litellm.model_cost.items() if k.startswith("compactifai/")}, sort_keys=True)
    assert before == after


def test_get_valid_models_reads_the_live_list(emu: Emulator) -> None:
    models = litellm.get_valid_models(check_provider_endpoint=True, custom_llm_provider="compactifai")
    assert sorted(models) == sorted(f"compactifai/{m.id}" for m in emu.models)


# --- offline token counting ------------------------------------------------------------------------


def test_llama3_streams_never_reach_for_the_network(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """No HF_HUB_OFFLINE: a tokenizer download would stall ~20 s per call; all traffic must be local."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    emu.add_model(EmulatedModel(id="cai-llama-3-1-8b-slim"))
    emu.add_model(EmulatedModel(id="llama-3-9-99b-never-heard-of"))
    outside: List[Any] = []
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            outside.append(address)
            raise OSError("network blocked by the test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", _local_only(socket.getaddrinfo, outside))
    try:
        started = time.monotonic()
        for model in ("cai-llama-3-1-8b-slim", "llama-3-9-99b-never-heard-of"):
            for mode in ("sync", "async"):
                chunks = complete(mode, model=f"compactifai/{model}", stream=True)
                assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        elapsed = time.monotonic() - started
    finally:
        emu.remove_model("cai-llama-3-1-8b-slim")
        emu.remove_model("llama-3-9-99b-never-heard-of")
    assert outside == []
    assert elapsed < 5.0


def _local_only(real: Any, outside: List[Any]) -> Any:
    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "::1", "localhost", None):
            outside.append(host)
            raise socket.gaierror("network blocked by the test")
        return real(host, *args, **kwargs)

    return getaddrinfo


# --- CLI ---------------------------------------------------------------------------------------------


def test_demo_runs_offline_and_exits_zero() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPACTIFAI_")}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    result = subprocess.run(
        [sys.executable, "-m", "litellm_compactifai.cli", "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "running on the bundled emulator" in out
    assert "-> get_weather(" in out
    assert "refused before any request: UnsupportedParamsError" in out
    assert "refused after refresh_models()" in out
    assert "Cost of each call" in out and "$0.0000" in out


def test_models_json_lists_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["cai-mistral-small-3-1-slim"]["tools"] is False
    assert rows["cai-mistral-small-3-1-slim"]["input_per_1m"] == pytest.approx(0.05)


def test_models_live_marks_live_models(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "--live", "--json"]) == 0
    rows: Dict[str, Any] = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["hypernova-60b"]["status"] == "live"
    assert rows["llama-4-scout"]["status"].startswith("not live")


def test_savings_compares_slim_with_original(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["savings", "--input-tokens", "1000000", "--output-tokens", "1000000", "--json"]) == 0
    rows = {r["slim"]: r for r in json.loads(capsys.readouterr().out)}
    mistral = rows["cai-mistral-small-3-1-slim"]
    assert mistral["slim_usd"] == pytest.approx(0.13) and mistral["original_usd"] == pytest.approx(0.28)
    assert mistral["saving_percent"] == pytest.approx(53.6)


def test_models_live_without_key_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COMPACTIFAI_API_KEY")
    assert cli.main(["models", "--live"]) == 2
    assert "COMPACTIFAI_API_KEY" in capsys.readouterr().err
