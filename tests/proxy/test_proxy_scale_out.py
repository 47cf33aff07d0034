"""Two proxy instances (as behind a load balancer) sharing one Redis, configured with the example
config plus its commented scale-out lines, and ``rpm: 4`` on the slim Mistral deployment.

What LiteLLM enforces there: with ``routing_strategy: usage-based-routing-v2`` a deployment's
``rpm`` is a limit per clock minute, counted in each instance's memory and merged through Redis
every 0.1 s; a request over it is refused before any call (HTTP 429, or the configured fallback
serves it). The default ``simple-shuffle`` only uses ``rpm`` as a routing weight (see docs/proxy.md).
"""

from __future__ import annotations

import re
import time
from typing import Any, Dict, Iterator, List, Tuple

import openai
import pytest
import yaml
from proxy_harness import KEY, Launch, Proxy, example_config, litellm_version

from litellm_compactifai.emulator import Emulator

SLIM, ORIGINAL = "cai-mistral-small-3-1-slim", "mistral-small-3-1"
RPM = 4
SCALE_OUT_LINES = ("routing_strategy", "retry_policy", "redis_host", "redis_port")
HELLO = [{"role": "user", "content": "Hello from a load balancer"}]


def scale_out_config(rpm: int) -> Tuple[str, Dict[str, str]]:
    """The example config with its scale-out lines uncommented and ``rpm`` on the slim deployment."""
    text, env = example_config()
    for name in SCALE_OUT_LINES:
        text, count = re.subn(rf"^  # ({name}: .*)$", r"  \1", text, flags=re.MULTILINE)
        assert count == 1, f"the example config has no commented `{name}:` line under router_settings"
    config = yaml.safe_load(text)
    assert config["router_settings"]["routing_strategy"] == "usage-based-routing-v2"
    assert config["router_settings"]["retry_policy"] == {"RateLimitErrorRetries": 0}
    (slim,) = [e for e in config["model_list"] if e["model_name"] == f"compactifai/{SLIM}"]
    slim["litellm_params"]["rpm"] = rpm
    return yaml.safe_dump(config, sort_keys=False), env


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(scope="module")
def proxies(launch: Launch, emu: Emulator, redis_server: Tuple[str, int]) -> Tuple[Proxy, Proxy]:
    host, port = redis_server
    text, env = scale_out_config(RPM)
    env.update(REDIS_HOST=host, REDIS_PORT=str(port))
    # Started together, one worker each: two instances, not two workers of one.
    pair = [launch(text, emu.base_url, workers=1, name=f"proxy-{n}", wait=False, **env) for n in "ab"]
    for proxy in pair:
        proxy.wait_ready()
    return pair[0], pair[1]


@pytest.fixture(autouse=True)
def _clean(emu: Emulator) -> None:
    emu.clear_faults()
    emu.clear_requests()


def served_by(response: Any) -> str:
    """The emulator's answers start with ``[<model id>]``."""
    match = re.match(r"\[([\w.-]+)\]", response.choices[0].message.content)
    assert match, response.choices[0].message.content
    return match.group(1)


def test_both_instances_resolve_the_wildcard(proxies: Tuple[Proxy, Proxy], emu: Emulator) -> None:
    for proxy in proxies:
        response = proxy.openai().chat.completions.create(model="compactifai/glm-5-1", messages=HELLO)
        assert served_by(response) == "glm-5-1"
    assert [r.body["model"] for r in emu.requests if r.path == "/v1/chat/completions"] == ["glm-5-1", "glm-5-1"]


def _start_of_a_minute_window(needed: float = 15.0) -> None:
    """The limit counts per clock minute (UTC): start where the whole burst fits in one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.5)


def test_an_rpm_limit_holds_across_instances(
    proxies: Tuple[Proxy, Proxy], emu: Emulator, redis_server: Tuple[str, int]
) -> None:
    clients = [proxy.openai() for proxy in proxies]
    _start_of_a_minute_window()
    served: List[Tuple[int, str]] = []
    for i in range(2 * RPM):
        instance = i % 2  # alternating, as a round-robin load balancer would
        response = clients[instance].chat.completions.create(model=f"compactifai/{SLIM}", messages=HELLO)
        served.append((instance, served_by(response)))
        time.sleep(0.3)  # longer than LiteLLM's 0.1 s Redis sync
    to_slim = [r.body["model"] for r in emu.requests if r.path == "/v1/chat/completions"].count(SLIM)
    per_instance = [sum(1 for i, m in served if i == n and m == SLIM) for n in (0, 1)]
    # Each instance alone stayed below the limit, yet both were limited: the count is shared.
    assert max(per_instance) < RPM, served
    if litellm_version() >= (1, 76):
        assert to_slim == RPM, served
        assert [m for _, m in served] == [SLIM] * RPM + [ORIGINAL] * RPM
    else:
        # 1.67: an instance re-reads from Redis only the counters it has just written itself, so
        # its view lags one request behind the other instance's (5 of 8 in this pattern).
        assert RPM <= to_slim <= RPM + 1, served
        assert [m for _, m in served][:RPM] == [SLIM] * RPM
    # Every request over the limit was served by the fallback, none failed.
    assert sum(1 for _, m in served if m == ORIGINAL) == 2 * RPM - to_slim

    # Still within the same minute: without fallbacks the client sees the limit, on both instances.
    for client in clients:
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(
                model=f"compactifai/{SLIM}", messages=HELLO, extra_body={"disable_fallbacks": True}
            )
        assert info.value.status_code == 429
        message = info.value.response.json()["error"]["message"]
        assert "No deployments available for selected model" in message
        assert f"'rpm_limit': {RPM}" in message
    assert [r.body["model"] for r in emu.requests if r.path == "/v1/chat/completions"].count(SLIM) == to_slim

    # The shared count is a Redis key per deployment and minute.
    import redis

    store = redis.Redis(host=redis_server[0], port=redis_server[1], socket_timeout=5)
    counters = {k.decode(): float(store.get(k) or 0) for k in store.keys(f"*:compactifai/{SLIM}:rpm:*")}
    assert counters and max(counters.values()) >= RPM, counters


def test_a_429_from_compactifai_goes_to_the_fallback_at_once(proxies: Tuple[Proxy, Proxy], emu: Emulator) -> None:
    """``retry_policy: {RateLimitErrorRetries: 0}``: no waiting on a rate-limited slim model."""
    emu.inject("rate_limit", model="hypernova-60b")
    started = time.monotonic()
    raw = (
        proxies[1].openai().chat.completions.with_raw_response.create(model="compactifai/hypernova-60b", messages=HELLO)
    )
    assert served_by(raw.parse()) == "gpt-oss-120b"
    assert raw.headers["x-litellm-attempted-fallbacks"] == "1"
    assert [r.body["model"] for r in emu.requests if r.path == "/v1/chat/completions"] == [
        "hypernova-60b",
        "gpt-oss-120b",
    ]
    assert time.monotonic() - started < 5
