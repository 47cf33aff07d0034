"""LiteLLM's own machinery behind the route's back: cost-map reloads and overrides."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator

import httpx
import litellm
import pytest
import respx

BASE = "http://compactifai.test/v1"
KEY = "cai-test-key-1234"
MSG = [{"role": "user", "content": "Hello"}]
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
BODY: Dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "cai-mistral-small-3-1-slim",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500},
}


@pytest.fixture
def api() -> Iterator[Any]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def restore_cost_map() -> Iterator[None]:
    saved = litellm.model_cost
    yield
    litellm.model_cost = saved


def assert_route_facts_hold(api: Any) -> None:
    assert litellm.supports_function_calling("compactifai/cai-mistral-small-3-1-slim") is False
    assert litellm.supports_function_calling("compactifai/glm-5-1") is True
    assert litellm.get_model_info("compactifai/glm-5-1")["output_cost_per_token"] == pytest.approx(3.15e-6)
    api.post("/chat/completions").mock(return_value=httpx.Response(200, json=BODY))
    response = litellm.completion(
        model="compactifai/cai-mistral-small-3-1-slim", messages=MSG, api_key=KEY, api_base=BASE
    )
    assert litellm.completion_cost(completion_response=response) == pytest.approx(1000 * 0.05e-6 + 500 * 0.08e-6)
    with pytest.raises(litellm.UnsupportedParamsError, match="does not support tool calling"):
        litellm.completion(
            model="compactifai/cai-mistral-small-3-1-slim", messages=MSG, api_key=KEY, api_base=BASE, tools=[TOOL]
        )


def test_plain_reassignment_of_model_cost(api: Any, restore_cost_map: None) -> None:
    litellm.model_cost = litellm.get_model_cost_map(url="")
    assert_route_facts_hold(api)


def test_reload_keeps_the_users_own_override(api: Any, restore_cost_map: None) -> None:
    key = "compactifai/carina-60b"
    litellm.register_model({key: {**litellm.model_cost[key], "supports_function_calling": False}})
    litellm.model_cost = litellm.get_model_cost_map(url="")
    assert litellm.supports_function_calling(key) is False
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=BODY))
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=key, messages=MSG, api_key=KEY, api_base=BASE, tools=[TOOL])
    assert route.call_count == 0


def test_entries_in_the_new_map_win(restore_cost_map: None) -> None:
    fresh = litellm.get_model_cost_map(url="")
    fresh["compactifai/glm-5-1"] = {"litellm_provider": "compactifai", "mode": "chat", "output_cost_per_token": 1e-6}
    litellm.model_cost = fresh
    info = litellm.model_cost["compactifai/glm-5-1"]
    assert info["output_cost_per_token"] == 1e-6
    assert info["supports_function_calling"] is True  # carried over: the new map said nothing of it


def test_register_model_override_turns_gating_off_and_on(api: Any) -> None:
    key = "compactifai/glm-5-1"
    before = dict(litellm.model_cost[key])
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=BODY))
    try:
        litellm.register_model({key: {**before, "supports_function_calling": False}})
        with pytest.raises(litellm.UnsupportedParamsError, match="glm-5-1"):
            litellm.completion(model=key, messages=MSG, api_key=KEY, api_base=BASE, tools=[TOOL])
        assert route.call_count == 0
    finally:
        litellm.register_model({key: before})
    litellm.completion(model=key, messages=MSG, api_key=KEY, api_base=BASE, tools=[TOOL])
    assert json.loads(route.calls.last.request.content)["tools"] == [TOOL]


def test_router_model_info_overrides_catalog(api: Any) -> None:
    key = "compactifai/mistral-small-3-1"
    before = dict(litellm.model_cost[key])
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json=BODY))
    try:
        router = litellm.Router(
            model_list=[
                {
                    "model_name": "mistral",
                    "litellm_params": {"model": key, "api_key": KEY, "api_base": BASE},
                    "model_info": {"supports_function_calling": True},
                }
            ]
        )
        router.completion(model="mistral", messages=MSG, tools=[TOOL])
        assert json.loads(route.calls.last.request.content)["tools"] == [TOOL]
    finally:
        litellm.register_model({key: before})
