"""Shared test setup: offline, no real keys, and a sentinel OpenAI key that must never reach CompactifAI."""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")
for _name in ("COMPACTIFAI_API_KEY", "COMPACTIFAI_API_BASE"):
    os.environ.pop(_name, None)

import litellm  # noqa: E402
import pytest  # noqa: E402

import litellm_compactifai  # noqa: E402,F401

# respx patches httpx; LiteLLM >= 1.7x sends async calls through aiohttp unless told not to.
litellm.disable_aiohttp_transport = True

OPENAI_SENTINEL = "sk-openai-sentinel-must-not-leak"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPACTIFAI_API_KEY", raising=False)
    monkeypatch.delenv("COMPACTIFAI_API_BASE", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SENTINEL)
    monkeypatch.setattr(litellm, "api_key", OPENAI_SENTINEL)
    monkeypatch.setattr(litellm, "drop_params", False)
