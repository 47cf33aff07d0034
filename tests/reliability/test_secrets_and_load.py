"""Secrets never leak; many concurrent calls lose or mix up nothing; bad settings are named."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType
from typing import Any, Iterator, List

import litellm
import pytest

import litellm_compactifai
from litellm_compactifai import registration
from litellm_compactifai.emulator import Emulator

KEY = "sk-cai-SECRET-0123456789abcdef"
OTHER_KEY = "sk-cai-WRONG-fedcba9876543210"
MSG = [{"role": "user", "content": "hello"}]
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture
def debug_capture() -> Iterator[io.StringIO]:
    """LiteLLM debug logging on, every LiteLLM logger and stdout/stderr captured."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    loggers = [logging.getLogger(name) for name in registration.LITELLM_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    litellm._turn_on_debug()
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield buffer
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _every_path(emu: Emulator) -> List[BaseException]:
    common = dict(api_base=emu.base_url, num_retries=0)
    failures: List[BaseException] = []
    litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY, **common)
    list(litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY, stream=True, **common))
    asyncio.run(litellm.acompletion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY, **common))
    litellm.text_completion(model="compactifai/cai-mistral-small-3-1-slim", prompt="hi", api_key=KEY, **common)
    litellm_compactifai.refresh_models(api_key=KEY, api_base=emu.base_url)
    attempts = [
        dict(model="compactifai/glm-5-1", api_key=OTHER_KEY),  # 401
        dict(model="compactifai/glm-5-1", api_key=KEY, extra_headers={"x-emulator-fault": "server_error"}),
        dict(model="compactifai/glm-5-1", api_key=KEY, extra_headers={"x-emulator-fault": "reset"}),
        dict(model="compactifai/mistral-small-3-1", api_key=KEY, tools=[TOOL]),  # gated
        dict(model="compactifai/no-such-model", api_key=KEY),
        dict(model="compactifai/glm-5-1", api_key=KEY, temperature=9),
    ]
    for kwargs in attempts:
        try:
            litellm.completion(messages=MSG, **common, **kwargs)
        except Exception as exc:  # noqa: BLE001 - collected and inspected below
            failures.append(exc)
    try:
        litellm_compactifai.refresh_models(api_key=OTHER_KEY, api_base=emu.base_url)
    except Exception as exc:  # noqa: BLE001
        failures.append(exc)
    return failures


def test_keys_never_in_debug_logs_output_or_exceptions(emu: Emulator, debug_capture: io.StringIO) -> None:
    failures = _every_path(emu)
    assert len(failures) == 7
    text = debug_capture.getvalue()
    assert "LiteLLM" in text  # debug logging really was on
    for secret in (KEY, OTHER_KEY, "SECRET-0123", "WRONG-fedc"):
        assert secret not in text
        for exc in failures:
            assert secret not in str(exc) and secret not in repr(exc)


def test_a_per_call_key_is_never_written_into_global_state(emu: Emulator) -> None:
    _every_path(emu)
    modules = [litellm, litellm.utils, *[m for n, m in sys.modules.items() if n.startswith("litellm_compactifai")]]
    assert not any(_contains(vars(module), KEY, depth=3) for module in modules if isinstance(module, ModuleType))


def _contains(value: Any, secret: str, depth: int) -> bool:
    if isinstance(value, str):
        return secret in value
    if depth <= 0:
        return False
    if isinstance(value, dict):
        return any(_contains(v, secret, depth - 1) or _contains(k, secret, depth - 1) for k, v in list(value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_contains(v, secret, depth - 1) for v in list(value))
    return False


def test_other_providers_keys_are_never_sent(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-NEVER")
    monkeypatch.setattr(litellm, "api_key", "sk-global-NEVER")
    monkeypatch.setattr(litellm, "openai_key", "sk-openai2-NEVER", raising=False)
    emu.clear_requests()
    litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_base=emu.base_url)
    list(litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_base=emu.base_url, stream=True))
    litellm.text_completion(model="compactifai/cai-mistral-small-3-1-slim", prompt="x", api_base=emu.base_url)
    litellm_compactifai.refresh_models(api_base=emu.base_url)
    assert len(emu.requests) == 4
    for request in emu.requests:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert "NEVER" not in str(request.headers) and b"NEVER" not in request.raw_body


# --- concurrency -----------------------------------------------------------------------------------


def test_1000_concurrent_calls_with_refreshes_and_registration(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # LiteLLM's default async transport (aiohttp where available), not the httpx one respx needs.
    monkeypatch.setattr(litellm, "disable_aiohttp_transport", False, raising=False)
    stop = threading.Event()
    errors: List[BaseException] = []

    refreshes: List[int] = []

    def churn() -> None:
        while not stop.wait(0.2):  # refreshes every 0.2 s per thread while the calls run
            try:
                litellm_compactifai.refresh_models(api_key=KEY, api_base=emu.base_url)
                litellm_compactifai.register()
                refreshes.append(1)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=churn) for _ in range(3)]
    for thread in threads:
        thread.start()

    async def one(i: int) -> bool:
        response = await litellm.acompletion(
            model="compactifai/glm-5-1",
            messages=[{"role": "user", "content": f"request-{i}"}],
            api_key=KEY,
            api_base=emu.base_url,
            max_tokens=8,
        )
        return f"request-{i}" in response.choices[0].message.content.split()

    async def all_of_them() -> List[bool]:
        return await asyncio.gather(*(one(i) for i in range(1000)))

    try:
        matched = asyncio.run(all_of_them())
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(refreshes) >= 3  # the refreshes really did run alongside the calls
    assert sum(matched) == 1000
    assert litellm.supports_function_calling("compactifai/mistral-small-3-1") is False


# --- bad configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["api.compactif.ai/v1", "ftp://api.compactif.ai/v1", "https:///v1", "   "])
def test_malformed_base_names_the_setting(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", base)
    if not base.strip():
        # a blank setting is the same as none: the public API is used
        assert litellm_compactifai.settings.resolve_api_base() == litellm_compactifai.DEFAULT_API_BASE
        return
    with pytest.raises(litellm.BadRequestError, match="COMPACTIFAI_API_BASE"):
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY)


def test_unreachable_base_is_a_connection_error_naming_the_setting() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    base = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(litellm.APIConnectionError, match="COMPACTIFAI_API_BASE"):
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=KEY, api_base=base, num_retries=0)
    with pytest.raises(litellm.APIConnectionError, match="COMPACTIFAI_API_BASE"):
        litellm_compactifai.refresh_models(api_key=KEY, api_base=base)


@pytest.mark.parametrize("key", ["", "   "])
def test_empty_key_is_named(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(litellm.AuthenticationError, match="COMPACTIFAI_API_KEY"):
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_key=key, api_base="http://127.0.0.1:9/v1")
    monkeypatch.setenv("COMPACTIFAI_API_KEY", key)
    with pytest.raises(litellm.AuthenticationError, match="COMPACTIFAI_API_KEY"):
        litellm.completion(model="compactifai/glm-5-1", messages=MSG, api_base="http://127.0.0.1:9/v1")
