"""How a proxy config loads the package in every worker, on the installed LiteLLM release.

* ``litellm_settings: success_callback: ["litellm_compactifai.proxy.handler"]`` (the example
  config): LiteLLM imports the module by name on 1.67.4.post1 - 1.83.x and >= 1.94.0. On 1.84.0 -
  1.93.x it only looks for a file ``litellm_compactifai/proxy.py`` next to the config.
* ``callbacks:`` with the same name: only a file next to the config before 1.94.0.
* ``LITELLM_WORKER_STARTUP_HOOKS=litellm_compactifai:register`` (environment), from 1.82.x on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from litellm.integrations.custom_logger import CustomLogger
from proxy_harness import (
    EXAMPLE_CONFIG,
    KEY,
    STARTUP_HOOK,
    Launch,
    Proxy,
    assert_contains,
    example_config,
    litellm_version,
)

import litellm_compactifai
from litellm_compactifai import catalog
from litellm_compactifai.emulator import Emulator

HANDLER = "litellm_compactifai.proxy.handler"
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
SLIM = "compactifai/cai-mistral-small-3-1-slim"
GATED = "CompactifAI model 'cai-mistral-small-3-1-slim' does not support tool calling"


def example() -> Dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def without_loader(config: Dict[str, Any]) -> str:
    config = dict(config)
    settings = dict(config["litellm_settings"])
    assert settings.pop("success_callback") == [HANDLER]
    if settings:
        config["litellm_settings"] = settings
    else:
        del config["litellm_settings"]
    return yaml.safe_dump(config, sort_keys=False)


def _has_startup_hooks() -> bool:
    from importlib.util import find_spec

    spec = find_spec("litellm.proxy.proxy_server")
    assert spec is not None and spec.origin is not None
    return "LITELLM_WORKER_STARTUP_HOOKS" in Path(spec.origin).read_text(encoding="utf-8")


# --- the example config --------------------------------------------------------------------------------


def test_the_example_config() -> None:
    config = example()
    entries = {e["model_name"]: e["litellm_params"] for e in config["model_list"]}
    assert list(entries) == [
        "compactifai/hypernova-60b",
        "compactifai/gpt-oss-120b",
        "compactifai/cai-mistral-small-3-1-slim",
        "compactifai/mistral-small-3-1",
        "compactifai/*",
    ]
    for name, params in entries.items():
        assert params == {"model": name, "api_key": "os.environ/COMPACTIFAI_API_KEY"}, name
    # Tool support as the walkthrough says: one pair with tools, one without.
    assert [catalog.get(n).supports_tools for n in list(entries)[:4]] == [True, True, False, False]  # type: ignore[union-attr]
    # Each slim model falls back to the original it was compressed from.
    fallbacks = config["router_settings"]["fallbacks"]
    assert len(fallbacks) == 2
    for rule in fallbacks:
        ((slim, targets),) = rule.items()
        record = catalog.get(slim)
        assert record is not None and record.kind == "slim"
        assert targets == [f"compactifai/{record.counterpart}"]
    assert config["litellm_settings"] == {"success_callback": [HANDLER]}
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}


def test_the_handler_does_nothing_per_request() -> None:
    from litellm_compactifai import proxy

    assert isinstance(proxy.handler, CustomLogger)
    # No CustomLogger hook is overridden: LiteLLM calls only the base class's no-ops.
    assert [name for name in vars(type(proxy.handler)) if not name.startswith("__")] == []
    assert litellm_compactifai.registration_path() is not None
    assert re.fullmatch(r"litellm_compactifai\.proxy\.handler\(pid=\d+, route=[\w-]+\)", repr(proxy.handler))


def test_how_this_release_resolves_the_dotted_name(tmp_path: Path) -> None:
    """What ``get_instance_fn`` (proxy/types_utils/utils.py) does with the name: by module name, as
    ``success_callback`` asks for it before 1.84, and from a config's directory, as ``callbacks`` (and
    ``success_callback`` from 1.84) ask for it."""
    from litellm.proxy.types_utils.utils import get_instance_fn

    from litellm_compactifai import proxy

    assert get_instance_fn(HANDLER) is proxy.handler
    elsewhere = str(tmp_path / "config.yaml")  # no litellm_compactifai/proxy.py next to it
    if litellm_version() >= (1, 94):
        assert get_instance_fn(HANDLER, config_file_path=elsewhere) is proxy.handler
    else:
        with pytest.raises((ImportError, FileNotFoundError)):
            get_instance_fn(HANDLER, config_file_path=elsewhere)


# --- on real proxies: no loader, the startup hook, an entry's own api_base -----------------------------


class Variants:
    def __init__(self, control: Proxy, override: Proxy, hooked: Optional[Proxy]) -> None:
        self.control, self.override, self.hooked = control, override, hooked


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(scope="module")
def other_emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(scope="module")
def variants(launch: Launch, emu: Emulator, other_emu: Emulator) -> Variants:
    """One worker each, started together (readiness is up to each test)."""
    bare = example()
    # The control has no loader; its entries name the emulator as api_base so that LiteLLM's own
    # compactifai provider (>= 1.77.3), which ignores COMPACTIFAI_API_BASE, stays on 127.0.0.1.
    for entry in bare["model_list"]:
        entry["litellm_params"]["api_base"] = emu.base_url
    control = launch(without_loader(bare), emu.base_url, workers=1, name="no-loader", wait=False)
    # The example config plus an entry with its own api_base (another emulator).
    example_text, example_env = example_config()
    override_text = example_text.replace(
        "\nlitellm_settings:",
        "  - model_name: compactifai/quasar-438b\n"
        "    litellm_params:\n"
        "      model: compactifai/quasar-438b\n"
        "      api_key: os.environ/COMPACTIFAI_API_KEY\n"
        f"      api_base: {other_emu.base_url}\n"
        "\nlitellm_settings:",
        1,
    )
    assert f"api_base: {other_emu.base_url}" in override_text
    override = launch(override_text, emu.base_url, workers=1, name="api-base", wait=False, **example_env)
    hooked = None
    if _has_startup_hooks():
        hook_config = example()
        for entry in hook_config["model_list"]:  # as for the control, should the hook not load
            entry["litellm_params"]["api_base"] = emu.base_url
        hooked = launch(
            without_loader(hook_config),
            emu.base_url,
            workers=1,
            name="hook",
            wait=False,
            LITELLM_WORKER_STARTUP_HOOKS=STARTUP_HOOK,
        )
    return Variants(control, override, hooked)


@pytest.fixture(autouse=True)
def _clean(emu: Emulator, other_emu: Emulator) -> None:
    emu.clear_requests()
    other_emu.clear_requests()


def _tools_to_the_slim_model(proxy: Proxy) -> Tuple[int, str]:
    with proxy.http() as http:
        response = http.post(
            "/v1/chat/completions",
            json={"model": SLIM, "messages": [{"role": "user", "content": "hi"}], "tools": [TOOL]},
        )
    return response.status_code, response.text


def chats(emu: Emulator) -> List[Any]:
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


def test_without_a_loader_the_package_is_not_in_the_proxy(variants: Variants, emu: Emulator) -> None:
    """The control for every other proxy test: without the loader line nothing of this package runs."""
    proxy = variants.control
    if litellm_version() < (1, 70):
        # 1.67: no compactifai provider at all, and the Router refuses the whole model_list.
        with pytest.raises(RuntimeError, match="exited"):
            proxy.wait_ready()
        assert_contains(proxy.log(), "LLM Provider NOT provided")
        return
    proxy.wait_ready()
    status, body = _tools_to_the_slim_model(proxy)
    assert status >= 400
    assert GATED not in body
    if litellm_compactifai.has_builtin_provider():
        # LiteLLM's own thin provider sends the tools; CompactifAI (the emulator) refuses them (and
        # LiteLLM's retries and the fallback model send them again).
        sent = chats(emu)
        assert sent and sent[0].body["model"] == "cai-mistral-small-3-1-slim"
        assert all(r.body.get("tools") == [TOOL] for r in sent)
    else:
        # 1.76: the deployments were dropped as invalid; nothing was sent.
        assert emu.requests == []


def test_an_entry_api_base_overrides_compactifai_api_base(
    variants: Variants, emu: Emulator, other_emu: Emulator
) -> None:
    variants.override.wait_ready()
    client = variants.override.openai()
    hello = [{"role": "user", "content": "hi"}]
    assert client.chat.completions.create(model="compactifai/quasar-438b", messages=hello).choices
    assert [r.body["model"] for r in chats(other_emu)] == ["quasar-438b"]
    assert chats(emu) == []
    # The other entries keep the proxy's COMPACTIFAI_API_BASE.
    assert client.chat.completions.create(model="compactifai/glm-5-1", messages=hello).choices
    assert [r.body["model"] for r in chats(emu)] == ["glm-5-1"]
    assert len(chats(other_emu)) == 1


def test_the_worker_startup_hook_loads_the_package(variants: Variants, emu: Emulator) -> None:
    if variants.hooked is None:
        from importlib.metadata import version

        pytest.skip(f"LiteLLM {version('litellm')} has no LITELLM_WORKER_STARTUP_HOOKS (it appeared in 1.82.x)")
    proxy = variants.hooked
    proxy.wait_ready()
    status, body = _tools_to_the_slim_model(proxy)
    assert status == 400
    assert GATED in body
    assert emu.requests == []
    with proxy.http() as http:
        info = {e["model_name"]: e["model_info"] for e in http.get("/model/info").json()["data"]}
    assert info[SLIM]["supports_function_calling"] is False
    assert info["compactifai/hypernova-60b"]["input_cost_per_token"] == pytest.approx(0.04e-6)
