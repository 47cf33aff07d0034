"""``litellm-compactifai doctor``: is this machine ready to call CompactifAI through LiteLLM?

Each check is a small function returning a :class:`CheckResult` (pass, fail, warn or skip, one line
saying what was found, and the fix when something is wrong):

* ``api_key``       ``COMPACTIFAI_API_KEY`` is set (shown only as its last 4 characters);
* ``api_base``      the base URL (``COMPACTIFAI_API_BASE`` or the default) answers HTTP;
* ``key_accepted``  ``GET /v1/models`` with the key answers 200 with a model list;
* ``litellm``       the installed LiteLLM release and the active registration path;
* ``route``         a 1-token chat completion on the cheapest live model, through ``litellm.completion``;
* ``tool_gating``   tools sent to a model LiteLLM marks without tool support are refused before
  any request (the call is aimed at a closed local port, so nothing can leave the machine);
* with a proxy config: ``config_file`` (it loads), ``config_models`` (every ``compactifai/`` entry
  names a model of the catalog or the live list; ``compactifai/*`` is fine) and
  ``config_callbacks`` (``litellm_settings.success_callback``, or ``callbacks`` on LiteLLM >= 1.94,
  loads ``litellm_compactifai.proxy.handler``).

The exit status is 1 when any check fails (warnings and skips do not count), else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import importlib.metadata
import io
import json
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Literal, Mapping, Optional, Sequence, TextIO, Tuple

import httpx
import litellm

from . import capabilities, catalog, errors, settings
from .registration import registration_path

Status = Literal["pass", "fail", "warn", "skip"]

PROXY_CALLBACK = "litellm_compactifai.proxy.handler"
# Where a proxy config can name it (checked in each release's get_instance_fn / callback setup):
# success_callback resolves installed modules on 1.67 - 1.83 and from 1.94 on; callbacks from 1.94 on.
# On 1.84 - 1.93 both only look for a file next to the config: there the worker startup hook
# LITELLM_WORKER_STARTUP_HOOKS=litellm_compactifai:register loads the package instead.
PROXY_CALLBACK_KEYS = ("success_callback", "callbacks")
_CALLBACKS_IMPORT = (1, 94, 0)
_SUCCESS_CALLBACK_FILE_ONLY = ((1, 84, 0), (1, 94, 0))
STARTUP_HOOK = "litellm_compactifai:register"
DEFAULT_TIMEOUT = 10.0
# The tested LiteLLM range (pyproject and README): 1.67.4.post1 - 1.106.x; 1.107.* is excluded.
_OLDEST = (1, 67, 4)
_EXCLUDED_MINOR = (1, 107)
_DASHBOARD = "https://dashboard.compactif.ai/"
_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "doctor_probe",
        "description": "Never called: the doctor checks that this tool is refused before any request.",
        "parameters": {"type": "object", "properties": {}},
    },
}


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, outcome, what was found, the fix (when not passed) and data for ``--json``."""

    name: str
    status: Status
    summary: str
    fix: Optional[str] = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "ok": self.status != "fail",
            "summary": self.summary,
            "fix": self.fix,
            "data": dict(self.data),
        }


@dataclass
class Probe:
    """What the checks learn along the way (each later check reads what the earlier ones found)."""

    api_key: Optional[str] = None
    api_base: Optional[str] = None
    base_source: str = "default"
    response: Optional[httpx.Response] = None
    live_models: Optional[List[str]] = None
    timeout: float = DEFAULT_TIMEOUT


# --- helpers ---------------------------------------------------------------------------------------


def mask_key(key: Optional[str]) -> str:
    """``****abcd`` (the last 4 characters only, and none of a key too short to hide the rest)."""
    if not key:
        return "(none)"
    key = key.strip()
    return "****" + key[-4:] if len(key) >= 12 else "****"


def _scrub(text: str, key: Optional[str]) -> str:
    """``text`` without the full key anywhere in it (server or LiteLLM messages might echo it)."""
    if key and len(key.strip()) >= 6:
        text = text.replace(key.strip(), mask_key(key))
    return text


def _message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    text = re.sub(r"^litellm\.\w+: ", "", text)
    return " ".join(text.split())


@contextlib.contextmanager
def _quiet_litellm() -> Iterator[None]:
    """LiteLLM prints 'Give Feedback / Get Help' banners on stdout: keep them out of the report."""
    previous = litellm.suppress_debug_info
    litellm.suppress_debug_info = True
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        litellm.suppress_debug_info = previous


def _litellm_version() -> str:
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - litellm is imported above
        return "unknown"


def _version_tuple(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


# --- environment checks ----------------------------------------------------------------------------


def check_api_key(probe: Probe) -> CheckResult:
    raw = os.environ.get(settings.API_KEY_ENV)
    if raw is None or not raw.strip():
        where = "is not set" if raw is None else "is set but blank"
        fix = (
            f"export {settings.API_KEY_ENV}=<your key> (copy it from the Manage API Keys tab of the "
            f"CompactifAI Dashboard, {_DASHBOARD}), or pass api_key=... in code."
        )
        if os.environ.get("OPENAI_API_KEY"):
            fix += " OPENAI_API_KEY is set, but other providers' keys are never sent to CompactifAI."
        return CheckResult("api_key", "fail", f"{settings.API_KEY_ENV} {where}", fix)
    probe.api_key = raw.strip()
    return CheckResult(
        "api_key",
        "pass",
        f"{settings.API_KEY_ENV} is set ({mask_key(raw)})",
        data={"key": mask_key(raw), "source": settings.API_KEY_ENV},
    )


def check_api_base(probe: Probe) -> CheckResult:
    """The base URL answers HTTP (``GET <base>/models``, with the key when there is one)."""
    env = os.environ.get(settings.API_BASE_ENV)
    probe.base_source = settings.API_BASE_ENV if env else "default"
    try:
        base = settings.resolve_api_base()
    except litellm.BadRequestError as exc:
        return CheckResult(
            "api_base",
            "fail",
            _message(exc),
            f"Set {settings.API_BASE_ENV} to http(s)://host[:port]/v1, or unset it to use {settings.DEFAULT_API_BASE}.",
            data={"api_base": env, "source": probe.base_source},
        )
    probe.api_base = base
    headers = {"Accept": "application/json"}
    if probe.api_key:
        headers["Authorization"] = f"Bearer {probe.api_key}"
    started = time.monotonic()
    try:
        with httpx.Client(timeout=probe.timeout) as client:
            probe.response = client.get(f"{base}/models", headers=headers)
    except httpx.HTTPError as exc:
        if probe.base_source == "default":
            fix = (
                "Check the network, a proxy (HTTPS_PROXY) or firewall, or try a regional base: "
                f"export {settings.API_BASE_ENV}=https://api-eu.compactif.ai/v1 (or https://api-us.compactif.ai/v1)."
            )
        else:
            fix = (
                f"Check {settings.API_BASE_ENV} (host, port, http/https), or unset it to use "
                f"{settings.DEFAULT_API_BASE}; then check the network, a proxy (HTTPS_PROXY) or firewall."
            )
        return CheckResult(
            "api_base",
            "fail",
            f"cannot reach {base} ({type(exc).__name__}: {exc or 'no detail'})",
            fix,
            data={"api_base": base, "source": probe.base_source, "reachable": False},
        )
    elapsed_ms = round((time.monotonic() - started) * 1000)
    region = probe.response.headers.get("x-served-by-region")
    where = f"{probe.base_source}" + (f", region {region}" if region else "")
    return CheckResult(
        "api_base",
        "pass",
        f"{base} answered HTTP {probe.response.status_code} in {elapsed_ms} ms ({where})",
        data={
            "api_base": base,
            "source": probe.base_source,
            "reachable": True,
            "status_code": probe.response.status_code,
            "elapsed_ms": elapsed_ms,
            "region": region,
        },
    )


def check_key_accepted(probe: Probe) -> CheckResult:
    """``GET /v1/models`` with the key: 200 and a model list."""
    name = "key_accepted"
    if probe.api_key is None:
        return CheckResult(name, "skip", "no key to try (see api_key)")
    response = probe.response
    if response is None:
        return CheckResult(name, "skip", "the base was not reached (see api_base)")
    masked = mask_key(probe.api_key)
    rid = errors.request_id(response.headers)
    suffix = f" (x-request-id: {rid})" if rid else ""
    data: Dict[str, Any] = {"key": masked, "status_code": response.status_code, "request_id": rid}
    if response.status_code in (401, 403):
        text, _ = errors.server_message(response.text)
        return CheckResult(
            name,
            "fail",
            _scrub(f"key {masked} rejected: HTTP {response.status_code} {text}{suffix}", probe.api_key),
            f"Copy the current key from the Manage API Keys tab of the CompactifAI Dashboard ({_DASHBOARD}) "
            f"into {settings.API_KEY_ENV}: a rotated key stops working at once, and each account has one key.",
            data=data,
        )
    if response.status_code != 200:
        text, _ = errors.server_message(response.text)
        fix = (
            f"{response.request.url} is not a CompactifAI model list: {settings.API_BASE_ENV} should end in /v1."
            if response.status_code in (404, 405)
            else "A server-side problem: retry later, and quote the x-request-id to CompactifAI support."
        )
        return CheckResult(
            name,
            "fail",
            _scrub(f"GET /v1/models answered HTTP {response.status_code}: {text}{suffix}", probe.api_key),
            fix,
            data=data,
        )
    try:
        models = response.json()["data"]
        ids = [m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str)]
    except (ValueError, KeyError, TypeError):
        return CheckResult(
            name,
            "fail",
            f"GET /v1/models answered 200 without a model list: {response.text[:120]!r}{suffix}",
            f"Is {probe.api_base} a CompactifAI base? It should be {settings.DEFAULT_API_BASE} or a regional one.",
            data=data,
        )
    probe.live_models = ids
    data["models"] = ids
    return CheckResult(name, "pass", f"key {masked} accepted: GET /v1/models lists {len(ids)} models", data=data)


def check_litellm(probe: Probe) -> CheckResult:
    """The installed LiteLLM release, and that this package's route is the one LiteLLM uses."""
    from .config import CompactifAIChatConfig

    version = _litellm_version()
    path = registration_path()
    data: Dict[str, Any] = {"litellm_version": version, "registration_path": path}
    summary = f"litellm {version}, registration path {path}"
    if path == "builtin-replaced":
        active = getattr(litellm, "CompactifAIChatConfig", None) is CompactifAIChatConfig
        summary += " (LiteLLM's built-in compactifai route, running this package's config)"
    elif path == "custom-provider":
        active = any(
            isinstance(entry, dict) and entry.get("provider") == catalog.PROVIDER
            for entry in litellm.custom_provider_map
        )
        summary += " (this package's route through LiteLLM's custom_provider_map)"
    else:
        active = False
    if not active:
        return CheckResult(
            "litellm",
            "fail",
            f"{summary}: the compactifai/ route is not this package's",
            "import litellm_compactifai before the first call (in a proxy: litellm_settings.success_callback "
            f"[{PROXY_CALLBACK}]); if another package replaces litellm.CompactifAIChatConfig, import this one last.",
            data=data,
        )
    parsed = _version_tuple(version)
    if parsed[:2] == _EXCLUDED_MINOR:
        return CheckResult(
            "litellm",
            "fail",
            f"{summary}: 1.107.x is a reported compromised release",
            "pip install 'litellm>=1.67.4.post1,!=1.107.*'",
            data=data,
        )
    if parsed and (parsed < _OLDEST or parsed[:2] > _EXCLUDED_MINOR):
        return CheckResult(
            "litellm",
            "warn",
            f"{summary}: outside the tested range 1.67.4.post1 - 1.106.x",
            "The route may work; if it does not, pip install 'litellm>=1.67.4.post1,<1.107' and report the release.",
            data=data,
        )
    return CheckResult("litellm", "pass", summary, data=data)


# --- the route ---------------------------------------------------------------------------------------


def cheapest_chat_model(live: Sequence[str]) -> Optional[str]:
    """The live chat model with the lowest published input + output price (else the first live chat id)."""
    priced: List[Tuple[float, str]] = []
    unpriced: List[str] = []
    for model in live:
        record = catalog.get(model)
        if record is not None and record.mode != "chat":
            continue
        if record is not None and record.input_cost_per_token is not None and record.output_cost_per_token is not None:
            priced.append((record.input_cost_per_token + record.output_cost_per_token, model))
        else:
            unpriced.append(model)
    if priced:
        return min(priced)[1]
    return unpriced[0] if unpriced else None


def check_route(probe: Probe) -> CheckResult:
    """One 1-token chat completion through ``litellm.completion`` and this package's route."""
    name = "route"
    if probe.live_models is None:
        return CheckResult(name, "skip", "needs an accepted key and the live model list (see key_accepted)")
    model = cheapest_chat_model(probe.live_models)
    if model is None:
        return CheckResult(
            name,
            "fail",
            "GET /v1/models lists no chat model",
            "CompactifAI serves no chat model to this key: contact CompactifAI support.",
        )
    started = time.monotonic()
    try:
        with _quiet_litellm():
            response = litellm.completion(
                model=f"{catalog.PROVIDER}/{model}",
                messages=[{"role": "user", "content": "Say OK."}],
                max_tokens=1,
                timeout=probe.timeout * 3,
            )
    except Exception as exc:  # noqa: BLE001 - every failure is reported, with its LiteLLM class
        return CheckResult(
            name,
            "fail",
            _scrub(f"compactifai/{model}: {type(exc).__name__}: {_message(exc)}", probe.api_key),
            "See the message (it carries the server's words and x-request-id); "
            "LITELLM_LOG=DEBUG shows the request LiteLLM sent.",
            data={"model": model, "error": type(exc).__name__},
        )
    elapsed_ms = round((time.monotonic() - started) * 1000)
    usage = getattr(response, "usage", None)
    tokens = getattr(usage, "total_tokens", None)
    cost: Optional[float]
    try:
        with _quiet_litellm():
            cost = float(litellm.completion_cost(completion_response=response))
    except Exception:  # noqa: BLE001 - an unpriced model has no cost
        cost = None
    cost_text = f", ${cost:.8f}" if cost is not None else ""
    return CheckResult(
        name,
        "pass",
        f"compactifai/{model} answered a 1-token chat completion in {elapsed_ms} ms ({tokens} tokens{cost_text})",
        data={"model": model, "total_tokens": tokens, "cost_usd": cost, "elapsed_ms": elapsed_ms},
    )


def _gated_model(live: Optional[Sequence[str]]) -> Optional[str]:
    """A chat model LiteLLM's model info marks without tool support, a live one first."""
    candidates = [
        r.id for r in catalog.CATALOG.values() if r.mode == "chat" and capabilities.supports_tools(r.id) is False
    ]
    live_first = [m for m in candidates if live is not None and m in live]
    ordered = live_first or candidates
    return ordered[0] if ordered else None


@contextlib.contextmanager
def _closed_port() -> Iterator[str]:
    """A base URL on 127.0.0.1 that refuses connections (bound, never listening): nothing leaves the machine."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()


def check_tool_gating(probe: Probe) -> CheckResult:
    """Tools to a model without tool support raise ``UnsupportedParamsError`` before any request."""
    name = "tool_gating"
    model = _gated_model(probe.live_models)
    if model is None:
        return CheckResult(
            name,
            "skip",
            "LiteLLM's model info marks no CompactifAI model without tool support (your own "
            "register_model / proxy model_info entries may say so): nothing to gate",
        )
    refused: Optional[BaseException] = None
    other: Optional[BaseException] = None
    with _closed_port() as dead_base:
        try:
            with _quiet_litellm():
                litellm.completion(
                    model=f"{catalog.PROVIDER}/{model}",
                    messages=[{"role": "user", "content": "doctor"}],
                    tools=[_PROBE_TOOL],
                    api_key="doctor-gating-probe",
                    api_base=dead_base,
                    timeout=5,
                )
        except litellm.UnsupportedParamsError as exc:
            refused = exc
        except Exception as exc:  # noqa: BLE001 - anything else means the call went past the gating
            other = exc
    if refused is not None and "does not support tool calling" in _message(refused):
        return CheckResult(
            name,
            "pass",
            f"tools to compactifai/{model} refused before any request (UnsupportedParamsError)",
            data={"model": model},
        )
    found = (
        f"{type(other).__name__}: {_message(other)}"
        if other is not None
        else (f"UnsupportedParamsError: {_message(refused)}" if refused is not None else "the call returned")
    )
    return CheckResult(
        name,
        "fail",
        f"tools to compactifai/{model} were not refused by the gating ({found[:300]})",
        "The package's parameter gating is not active: check the litellm check above, that litellm.drop_params is "
        "not forced on, and report `litellm-compactifai doctor --json` with the LiteLLM version.",
        data={"model": model},
    )


# --- a proxy config -----------------------------------------------------------------------------------


def load_config(path: str) -> Tuple[Optional[Dict[str, Any]], CheckResult]:
    import yaml  # a LiteLLM dependency

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        return None, CheckResult(
            "config_file", "fail", f"cannot read {path}: {exc.strerror or exc}", "Pass the proxy's config.yaml."
        )
    except yaml.YAMLError as exc:
        return None, CheckResult(
            "config_file", "fail", f"{path} is not valid YAML: {' '.join(str(exc).split())}", "Fix the YAML syntax."
        )
    if not isinstance(data, dict):
        return None, CheckResult(
            "config_file",
            "fail",
            f"{path} is not a LiteLLM proxy config (a mapping with model_list)",
            "See https://docs.litellm.ai/docs/proxy/configs.",
        )
    entries = data.get("model_list") or []
    return data, CheckResult(
        "config_file",
        "pass",
        f"{path} loads ({len(entries) if isinstance(entries, list) else 0} model_list entries)",
        data={"path": path},
    )


def check_config_models(config: Mapping[str, Any], probe: Probe) -> CheckResult:
    """Every ``compactifai/`` entry of ``model_list`` names a model of the catalog or the live list."""
    name = "config_models"
    entries = config.get("model_list") or []
    if not isinstance(entries, list):
        return CheckResult(
            name, "fail", "model_list is not a list", "model_list: [{model_name: ..., litellm_params: ...}]"
        )
    live = probe.live_models or []
    known = set(catalog.CATALOG) | set(live)
    unknown: List[str] = []
    hints: Dict[int, str] = {}
    retired: List[str] = []
    openai_routes: List[str] = []
    named: List[str] = []
    for index, entry in enumerate(entries):
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        model = params.get("model") if isinstance(params, dict) else None
        if not isinstance(model, str):
            continue
        label = f"model_list[{index}] ({entry.get('model_name', '?')})"
        if model.startswith("openai/") and "compactif.ai" in str(params.get("api_base", "")):  # type: ignore[union-attr]
            openai_routes.append(f"{label}: {model}")
            continue
        if not model.startswith(catalog.PROVIDER + "/"):
            continue
        named.append(model)
        model_id = catalog.strip_prefix(model)
        if model_id == "*":
            continue
        if model_id not in known:
            close = difflib.get_close_matches(model_id, sorted(known), n=1)
            hints[len(unknown)] = f" (did you mean compactifai/{close[0]}?)" if close else ""
            unknown.append(f"{label}: {model}")
            continue
        record = catalog.get(model_id)
        if record is not None and record.status != "available" and model_id not in live:
            when = f" {record.retired}" if record.retired else ""
            pair = catalog.get(record.counterpart) if record.counterpart else None
            alternative = (
                f"; its pair compactifai/{pair.id} is available" if pair and pair.status == "available" else ""
            )
            retired.append(f"{label}: {model} is {record.status}{when}{alternative}")
    source = "the catalog nor the live list" if probe.live_models is not None else "the catalog (no live list)"
    data = {"entries": named, "unknown": unknown, "retired": retired, "openai_routes": openai_routes}
    problems = [f"{item} is in neither {source}{hints[i]}" for i, item in enumerate(unknown)]
    problems += retired + [f"{item} with a CompactifAI api_base" for item in openai_routes]
    fixes = []
    if unknown:
        fixes.append("Use an id from `litellm-compactifai models --live`, or compactifai/* to pass any model through.")
    if retired:
        fixes.append(
            "Retired models answer 'Model not found': switch to a live id (`litellm-compactifai models --live`)."
        )
    if openai_routes:
        fixes.append(
            "openai/ routes lose tool gating, prices and error mapping: use compactifai/<id> (docs: migration)."
        )
    if problems:
        return CheckResult(name, "fail" if unknown else "warn", "; ".join(problems), "\n".join(fixes), data=data)
    if not named:
        return CheckResult(
            name,
            "warn",
            "model_list has no compactifai/ entry",
            "Add one: {model_name: chat, litellm_params: {model: compactifai/<id>, "
            "api_key: os.environ/COMPACTIFAI_API_KEY}}",
            data=data,
        )
    known_to = "the catalog or the live list" if probe.live_models is not None else "the catalog (no live list)"
    return CheckResult(name, "pass", f"{len(named)} compactifai/ entries, all known to {known_to}", data=data)


def _listed(block: Mapping[str, Any], key: str) -> List[str]:
    value = block.get(key)
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def check_config_callbacks(config: Mapping[str, Any]) -> CheckResult:
    """``litellm_settings`` loads ``litellm_compactifai.proxy.handler`` (``success_callback``, or
    ``callbacks`` on LiteLLM >= 1.94; the worker startup hook on 1.84 - 1.93), and this installation has it."""
    name = "config_callbacks"
    block = config.get("litellm_settings")
    block = block if isinstance(block, dict) else {}
    data: Dict[str, Any] = {key: _listed(block, key) for key in PROXY_CALLBACK_KEYS}
    fix = f'litellm_settings:\n  success_callback: ["{PROXY_CALLBACK}"]   # loads the package in every worker'
    keys = [key for key in PROXY_CALLBACK_KEYS if PROXY_CALLBACK in data[key]]
    version = _version_tuple(_litellm_version())
    hook_set = STARTUP_HOOK in os.environ.get("LITELLM_WORKER_STARTUP_HOOKS", "")
    file_only = bool(version) and _SUCCESS_CALLBACK_FILE_ONLY[0] <= version < _SUCCESS_CALLBACK_FILE_ONLY[1]
    if file_only and keys:
        return CheckResult(
            name,
            "fail",
            f"LiteLLM {_litellm_version()} looks for {PROXY_CALLBACK} as a file next to the config (1.84 - 1.93), "
            "so the proxy would not start",
            f"Remove it from litellm_settings and start the proxy with LITELLM_WORKER_STARTUP_HOOKS={STARTUP_HOOK}.",
            data=data,
        )
    if not keys and hook_set:
        return CheckResult(
            name, "pass", f"LITELLM_WORKER_STARTUP_HOOKS loads {STARTUP_HOOK} in every worker", data=data
        )
    if not keys:
        return CheckResult(
            name,
            "fail",
            f"litellm_settings does not load {PROXY_CALLBACK} (success_callback or callbacks), so the proxy "
            "runs without this package",
            fix,
            data=data,
        )
    if keys == ["callbacks"] and version and version < _CALLBACKS_IMPORT:
        return CheckResult(
            name,
            "fail",
            f"litellm_settings.callbacks names {PROXY_CALLBACK}, which LiteLLM {_litellm_version()} looks for as "
            "a file next to the config, not as an installed module",
            fix,
            data=data,
        )
    module_name, _, attribute = PROXY_CALLBACK.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        return CheckResult(
            name,
            "fail",
            f"the config loads {PROXY_CALLBACK}, which this installation lacks ({type(exc).__name__}: {exc})",
            "pip install -U litellm-compactifai in the proxy's environment.",
            data=data,
        )
    return CheckResult(name, "pass", f"litellm_settings.{keys[0]} loads {PROXY_CALLBACK}", data=data)


# --- running and reporting ---------------------------------------------------------------------------


def run_checks(config: Optional[str] = None, *, timeout: float = DEFAULT_TIMEOUT) -> List[CheckResult]:
    """Every check, in order; the config checks only with ``config``."""
    probe = Probe(timeout=timeout)
    results = [
        check_api_key(probe),
        check_api_base(probe),
        check_key_accepted(probe),
        check_litellm(probe),
        check_route(probe),
        check_tool_gating(probe),
    ]
    if config is not None:
        loaded, result = load_config(config)
        results.append(result)
        if loaded is None:
            skipped = f"{config} did not load (see config_file)"
            results += [CheckResult("config_models", "skip", skipped), CheckResult("config_callbacks", "skip", skipped)]
        else:
            results += [check_config_models(loaded, probe), check_config_callbacks(loaded)]
    return results


def report(results: Sequence[CheckResult]) -> Dict[str, Any]:
    """The ``--json`` document."""
    litellm_check = next((r for r in results if r.name == "litellm"), None)
    base_check = next((r for r in results if r.name == "api_base"), None)
    return {
        "ok": not any(r.failed for r in results),
        "version": _package_version(),
        "litellm_version": (litellm_check.data.get("litellm_version") if litellm_check else None),
        "registration_path": registration_path(),
        "api_base": (base_check.data.get("api_base") if base_check else None),
        "counts": {s: sum(1 for r in results if r.status == s) for s in ("pass", "fail", "warn", "skip")},
        "checks": [r.to_dict() for r in results],
    }


def render_text(results: Sequence[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"litellm-compactifai doctor ({_package_version()})", ""]
    for result in results:
        lines.append(f"{result.status.upper():4}  {result.name:<{width}}  {result.summary}")
        if result.fix and result.status in ("fail", "warn"):
            for number, fix_line in enumerate(result.fix.splitlines()):
                lines.append(f"{'':4}  {'':<{width}}  {'fix: ' if number == 0 else '     '}{fix_line}")
    failed = [r.name for r in results if r.failed]
    lines.append("")
    if failed:
        lines.append(
            f"doctor: {len(failed)} of {len(results)} checks failed ({', '.join(failed)}); see the fixes above."
        )
    else:
        warned = sum(1 for r in results if r.status == "warn")
        lines.append(f"doctor: no check failed ({len(results)} run{f', {warned} warnings' if warned else ''}).")
    return "\n".join(lines)


def _package_version() -> str:
    from . import __version__

    return __version__


def run(config: Optional[str] = None, *, as_json: bool = False, out: Optional[TextIO] = None) -> int:
    """Run every check, print the report (text or JSON) and return the exit status (1 if a check failed)."""
    stream = out if out is not None else sys.stdout
    results = run_checks(config)
    key = os.environ.get(settings.API_KEY_ENV)
    text = json.dumps(report(results), indent=2) if as_json else render_text(results)
    print(_scrub(text, key), file=stream)
    return 1 if any(r.failed for r in results) else 0


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add doctor's options to ``parser`` (the ``doctor`` subcommand of ``litellm-compactifai``)."""
    parser.add_argument("--config", metavar="FILE", default=None, help="also check a LiteLLM proxy config.yaml")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.set_defaults(func=cmd_doctor)
    return parser


def cmd_doctor(args: argparse.Namespace) -> int:
    return run(config=args.config, as_json=args.json)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="litellm-compactifai doctor", description="Is this machine ready to call CompactifAI through LiteLLM?"
    )
    args = configure_parser(parser).parse_args(argv)
    return cmd_doctor(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
