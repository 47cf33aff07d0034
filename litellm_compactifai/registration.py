"""Registering ``compactifai/*`` with LiteLLM: the only module that touches LiteLLM internals.

Two paths, chosen once by what the installed LiteLLM has:

* LiteLLM >= 1.77.3 ships a built-in ``compactifai`` provider. Its dispatch (main.py) builds the
  provider config through ``ProviderConfigManager`` as ``litellm.CompactifAIChatConfig()``, looked
  up at call time, so replacing that attribute puts our config under every lookup: parameter
  mapping and gating (``get_optional_params``), request, response, stream and error handling.
  A ``custom_provider_map`` entry can't be used there: the built-in branch comes first
  (upstream issue #23352).
* LiteLLM 1.67.4.post1 - 1.77.1 have no such provider. The route goes through LiteLLM's public
  ``CustomLLM`` + ``custom_provider_map`` hook; our handler re-applies the config's parameter
  mapping (those releases give non-enum providers the plain OpenAI list) and sends the request
  with LiteLLM's own HTTP handler and our config, so bodies, errors and responses are the same.

Both paths also route ``litellm.get_valid_models(check_provider_endpoint=True,
custom_llm_provider="compactifai")`` to the live ``GET /v1/models``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import threading
import types
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, Type

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponseStream

from . import capabilities
from .config import CompactifAIChatConfig
from .redaction import RedactKeys, mask_secret

PROVIDER = "compactifai"
_lock = threading.Lock()
_state: Dict[str, Any] = {"done": False, "path": None}


def has_builtin_provider() -> bool:
    """True on LiteLLM releases that ship a ``compactifai`` provider of their own (>= 1.77.3)."""
    providers = getattr(litellm, "LlmProviders", None)
    return providers is not None and PROVIDER in {p.value for p in providers}


def registration_path() -> Optional[str]:
    """``"builtin-replaced"``, ``"custom-provider"``, or None before ``register()``."""
    return _state["path"]  # type: ignore[no-any-return]


def register() -> None:
    """Make ``compactifai/<model>`` resolve to this package in this process. Idempotent, thread-safe."""
    if _state["done"]:
        return
    with _lock:
        if _state["done"]:
            return
        if has_builtin_provider():
            _replace_builtin()
            _state["path"] = "builtin-replaced"
        else:
            _add_custom_provider()
            _state["path"] = "custom-provider"
        # After the route exists: register_model resolves the provider of each key.
        capabilities.register_catalog()
        _route_get_valid_models()
        _local_tokenizer_for_compactifai()
        _survive_cost_map_reloads()
        _retry_only_what_is_retryable()
        _redact_keys_in_litellm_logs()
        _mask_error_logs()
        _state["done"] = True


# --- LiteLLM >= 1.77.3 ---------------------------------------------------------------------------


def _replace_builtin() -> None:
    # ProviderConfigManager's entry is `lambda: litellm.CompactifAIChatConfig()` (1.77.3 - 1.106),
    # evaluated per call; the module attribute is also what `from litellm import ...` finds.
    litellm.CompactifAIChatConfig = CompactifAIChatConfig  # type: ignore[attr-defined,misc,assignment]
    try:
        from litellm.llms.compactifai.chat import transformation

        transformation.CompactifAIChatConfig = CompactifAIChatConfig  # type: ignore[misc,assignment]
    except ImportError:  # pragma: no cover - layout of 1.77.3 - 1.106
        pass


# --- LiteLLM 1.67.4.post1 - 1.77.1 ---------------------------------------------------------------


def _add_custom_provider() -> None:
    entry = {"provider": PROVIDER, "custom_handler": _handler}
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append(entry)  # type: ignore[arg-type]
    # Adds the prefix to provider_list and _custom_providers (1.67 - 1.76).
    litellm.utils.custom_llm_setup()  # type: ignore[no-untyped-call]
    # get_optional_params checks params against get_supported_openai_params(model, provider),
    # which knows only enum providers before 1.77.3: answer for compactifai with our list.
    original = litellm.utils.get_supported_openai_params
    if getattr(original, "__compactifai__", False):
        return

    @functools.wraps(original)
    def get_supported_openai_params(model: str, custom_llm_provider: Optional[str] = None, **kwargs: Any) -> Any:
        if custom_llm_provider == PROVIDER and kwargs.get("request_type", "chat_completion") == "chat_completion":
            return CompactifAIChatConfig().get_supported_openai_params(model)
        return original(model, custom_llm_provider, **kwargs)

    get_supported_openai_params.__compactifai__ = True  # type: ignore[attr-defined]
    litellm.utils.get_supported_openai_params = get_supported_openai_params  # type: ignore[assignment]
    litellm.get_supported_openai_params = get_supported_openai_params  # type: ignore[assignment]


def _openai_params() -> frozenset[str]:
    # Every OpenAI parameter name LiteLLM maps, plus ours (reasoning_effort is o-series-only there).
    ours = CompactifAIChatConfig().get_supported_openai_params("")
    return frozenset(litellm.OpenAIGPTConfig().get_supported_openai_params("gpt-4o")) | set(ours)


_OPENAI_PARAMS: Optional[frozenset[str]] = None


def _regate(model: str, optional_params: Dict[str, Any], litellm_params: Dict[str, Any]) -> Dict[str, Any]:
    """Our parameter rules over what LiteLLM mapped with the generic OpenAI list."""
    global _OPENAI_PARAMS
    if _OPENAI_PARAMS is None:
        _OPENAI_PARAMS = _openai_params()
    config = CompactifAIChatConfig()
    drop = bool(litellm_params.get("drop_params")) or litellm.drop_params is True
    # max_retries is LiteLLM's own (client retries), never a body field.
    optional_params.pop("max_retries", None)
    asked = {k: v for k, v in optional_params.items() if k in _OPENAI_PARAMS and v is not None}
    supported = set(config.get_supported_openai_params(model))
    unsupported = sorted(k for k in asked if k not in supported)
    if unsupported and not drop:
        raise litellm.UnsupportedParamsError(
            message=(
                f"compactifai does not support parameters: {unsupported}, for model={model}. To drop "
                "these, pass drop_params=True (or set litellm.drop_params=True)."
            ),
            llm_provider=PROVIDER,
            model=model,
            status_code=400,
        )
    mapped = config.map_openai_params({k: v for k, v in asked.items() if k in supported}, {}, model, drop)
    extras = {k: v for k, v in optional_params.items() if k not in _OPENAI_PARAMS}
    return {**extras, **mapped}


def _restore_dropped(optional_params: Dict[str, Any], logging_obj: Any) -> None:
    """These releases' generic OpenAI-like mapping drops `user` and `reasoning_effort` and folds
    `max_completion_tokens` into `max_tokens`; the logging object keeps the params as the caller
    passed them (1.7x; on 1.67 only `user` can be recovered), and those are what we send."""
    passed = dict(getattr(logging_obj, "optional_params", None) or {})
    # 1.67 logs the mapped params, but still keeps the caller's `user`.
    passed.setdefault("user", getattr(logging_obj, "user", None))
    ours = set(CompactifAIChatConfig().get_supported_openai_params(""))
    for key, value in passed.items():
        if key in ours and value is not None:
            optional_params[key] = value
    if "max_completion_tokens" in passed and "max_tokens" not in passed:
        optional_params.pop("max_tokens", None)


def _http_call(kwargs: Dict[str, Any], *, stream: bool, acompletion: bool) -> Any:
    from litellm.main import base_llm_http_handler

    model = kwargs["model"]
    litellm_params = dict(kwargs.get("litellm_params") or {})
    optional_params = dict(kwargs.get("optional_params") or {})
    _restore_dropped(optional_params, kwargs.get("logging_obj"))
    optional_params = _regate(model, optional_params, litellm_params)
    if stream:
        optional_params["stream"] = True
    return base_llm_http_handler.completion(
        model=model,
        messages=kwargs["messages"],
        api_base=kwargs.get("api_base"),
        # Only picks the pooled HTTP client here; LlmProviders("compactifai") fails before 1.77.3.
        custom_llm_provider="openai",
        model_response=kwargs["model_response"],
        encoding=kwargs.get("encoding"),
        logging_obj=kwargs["logging_obj"],
        optional_params=optional_params,
        timeout=kwargs.get("timeout") or 600.0,
        litellm_params=litellm_params,
        acompletion=acompletion,
        stream=stream,
        api_key=kwargs.get("api_key"),
        headers=kwargs.get("headers") or {},
        client=kwargs.get("client"),
        provider_config=CompactifAIChatConfig(),
    )


class _GenericStream:
    """LiteLLM < 1.77 streams custom providers as GenericStreamingChunk dicts, and stops reading
    at the first finished one: so one tool-call delta per chunk, and the finish held back until
    the stream ends, carrying the usage chunk that CompactifAI sends after it."""

    def __init__(self) -> None:
        self._finish: Optional[Dict[str, Any]] = None

    def feed(self, chunk: Any) -> List[Dict[str, Any]]:
        if not isinstance(chunk, ModelResponseStream):
            return []  # the parser's empty-line and [DONE] placeholders
        usage = getattr(chunk, "usage", None)
        if usage is not None and self._finish is not None:
            self._finish["usage"] = _usage_block(usage)
        if not chunk.choices:
            return []
        choice = chunk.choices[0]
        delta = choice.delta
        base: Dict[str, Any] = {
            "text": delta.content or "",
            "tool_use": None,
            "is_finished": False,
            "finish_reason": "",
            "usage": _usage_block(usage) if usage is not None else None,
            "index": choice.index or 0,
        }
        reasoning = getattr(delta, "reasoning_content", None)
        if reasoning:
            base["provider_specific_fields"] = {"reasoning_content": reasoning}
        out = [base] if base["text"] or reasoning or not delta.tool_calls else []
        for position, call in enumerate(delta.tool_calls or []):
            function: Any = getattr(call, "function", None)
            if function is None:
                continue
            tool_use = {
                "id": call.id,
                "type": "function",
                "function": {"name": function.name, "arguments": function.arguments or ""},
                "index": call.index if call.index is not None else position,
            }
            out.append({**base, "text": "", "tool_use": tool_use})
        if choice.finish_reason:
            self._finish = {**base, "text": "", "is_finished": True, "finish_reason": choice.finish_reason}
        return [c for c in out if c["text"] or c["tool_use"] or c.get("provider_specific_fields")]

    def close(self) -> List[Dict[str, Any]]:
        return [self._finish] if self._finish is not None else []


def _usage_block(usage: Any) -> Dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


class _CompactifAIHandler(CustomLLM):
    """The ``custom_provider_map`` handler for LiteLLM releases without a built-in compactifai."""

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        return _http_call(kwargs, stream=False, acompletion=False)

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        return await _http_call(kwargs, stream=False, acompletion=True)

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        wrapper = _http_call(kwargs, stream=True, acompletion=False)
        # Read our parser directly: LiteLLM wraps what we return in its own stream wrapper.
        stream = _GenericStream()
        for chunk in wrapper.completion_stream:
            yield from stream.feed(chunk)
        yield from stream.close()

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        try:
            wrapper = await _http_call(kwargs, stream=True, acompletion=True)
            stream = _GenericStream()
            async for chunk in wrapper.completion_stream:
                for generic in stream.feed(chunk):
                    yield generic
            for generic in stream.close():
                yield generic
        except Exception as exc:
            if _async_stream_swallows_litellm_errors() and isinstance(exc, tuple(litellm.LITELLM_EXCEPTION_TYPES)):
                raise StreamError(exc) from exc
            raise


class StreamError(Exception):
    """An error in an async stream on LiteLLM 1.70 - 1.77.1, carried so that LiteLLM raises it.

    Those releases' CustomStreamWrapper.__anext__ calls exception_type() on a custom provider's
    error without raising its result, so a LiteLLM exception from the stream would vanish (the
    stream just ends). Wrapped, it comes out as LiteLLM's MidStreamFallbackError, whose message
    and ``original_exception`` chain keep our message; ``.original`` is the LiteLLM exception.
    """

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


def _async_stream_swallows_litellm_errors() -> bool:
    # MidStreamFallbackError arrived with the swallowing __anext__ (absent in 1.67).
    return hasattr(litellm.exceptions, "MidStreamFallbackError")


_handler = _CompactifAIHandler()


# --- model discovery (every release) -------------------------------------------------------------


def _route_get_valid_models() -> None:
    # get_valid_models has no provider hook that works on 1.67 - 1.106 (a closed enum decides
    # which providers may list models), so the public function is wrapped for compactifai only.
    # litellm.get_valid_models is exported from 1.7x on; 1.67 has only litellm.utils.get_valid_models.
    original: Callable[..., List[str]] = litellm.utils.get_valid_models
    if getattr(original, "__compactifai__", False):
        return

    @functools.wraps(original)
    def get_valid_models(*args: Any, **kwargs: Any) -> List[str]:
        provider = kwargs.get("custom_llm_provider")
        check = kwargs.get("check_provider_endpoint", args[0] if args else None)
        if provider != PROVIDER:
            return original(*args, **kwargs)
        from .discovery import list_model_ids

        if not (check or getattr(litellm, "check_provider_endpoint", False)):
            return sorted(k for k, v in litellm.model_cost.items() if v.get("litellm_provider") == PROVIDER)
        params = kwargs.get("litellm_params")
        api_key = kwargs.get("api_key") or getattr(params, "api_key", None)
        api_base = kwargs.get("api_base") or getattr(params, "api_base", None)
        return [f"{PROVIDER}/{m}" for m in list_model_ids(api_key=api_key, api_base=api_base)]

    get_valid_models.__compactifai__ = True  # type: ignore[attr-defined]
    litellm.get_valid_models = get_valid_models
    litellm.utils.get_valid_models = get_valid_models


# --- token counting (every release) ------------------------------------------------------------


def _local_tokenizer_for_compactifai() -> None:
    # When a response carries no usage yet (a stream, at its start), LiteLLM counts tokens itself
    # and for names containing "llama-3" loads a Hugging Face tokenizer from the hub: about 20 s of
    # retries per call offline. `_select_tokenizer_helper` is the one function every release
    # (1.67 - 1.106) resolves tokenizers through; CompactifAI models get the bundled tiktoken one.
    original = litellm.utils._select_tokenizer_helper
    if getattr(original, "__compactifai__", False):
        return

    @functools.wraps(original)
    def select(model: str) -> Any:
        if capabilities.is_compactifai_model(model):
            return litellm.utils._return_openai_tokenizer(model)
        return original(model)

    select.__compactifai__ = True  # type: ignore[attr-defined]
    litellm.utils._select_tokenizer_helper = select


# --- cost-map reloads (every release) ----------------------------------------------------------


class _CostMapGuard(types.ModuleType):
    """``litellm``'s module class, plus: a new ``model_cost`` keeps what LiteLLM knew of compactifai/*."""

    def __setattr__(self, name: str, value: Any) -> None:
        previous = self.__dict__.get("model_cost") if name == "model_cost" else None
        super().__setattr__(name, value)
        if previous is not None and previous is not value and isinstance(value, dict):
            capabilities.carry_over(previous, value)


def _survive_cost_map_reloads() -> None:
    # LiteLLM replaces litellm.model_cost wholesale: `litellm.model_cost = get_model_cost_map(...)`
    # by users, LiteLLM's own reload (litellm_core_utils/get_model_cost_map.py on 1.10x) and the
    # proxy's cost-map reload. 1.102+ replays register_model entries afterwards, 1.67/1.76 don't,
    # and a plain reassignment drops them everywhere. A module has no property hook, so the
    # module's class gets a __setattr__ (a plain ModuleType on 1.67 - 1.106); nothing else changes.
    module = sys.modules["litellm"]
    if isinstance(module, _CostMapGuard):
        return
    if type(module) is types.ModuleType:
        module.__class__ = _CostMapGuard


# --- num_retries (every release) -------------------------------------------------------------------


def _non_retryable() -> Tuple[Type[BaseException], ...]:
    # 400 (incl. unknown model and context window), 401, 403, 404, 422 and our own pre-flight
    # refusals: the same request fails the same way, and CompactifAI bills every executed call.
    return (
        litellm.BadRequestError,
        litellm.AuthenticationError,
        litellm.exceptions.PermissionDeniedError,  # not re-exported at the top level before 1.7x
        litellm.NotFoundError,
        litellm.UnsupportedParamsError,
    )


def _is_compactifai_call(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bool:
    model = kwargs.get("model", args[0] if args else "")
    return (isinstance(model, str) and model.startswith(PROVIDER + "/")) or kwargs.get(
        "custom_llm_provider"
    ) == PROVIDER


def _retry_only_what_is_retryable() -> None:
    # litellm.completion(num_retries=N) hands every openai.APIError, 400s and 401s included, to
    # litellm.completion_with_retries / acompletion_with_retries, from inside its `except` block
    # (utils.py client wrapper, 1.67 - 1.106). For compactifai calls those two stop at once on a
    # non-retryable error (the one being handled, or one raised by a retry) and otherwise make the
    # same number of attempts LiteLLM would. Router calls never come here: Router retries itself.
    sync_original: Callable[..., Any] = litellm.completion_with_retries
    async_original: Callable[..., Any] = litellm.acompletion_with_retries
    if getattr(sync_original, "__compactifai__", False):
        return

    def _prepare(kwargs: Dict[str, Any]) -> int:
        """Stop at once when the error LiteLLM is handling is not retryable; else the attempts to make."""
        failed = sys.exc_info()[1]
        if isinstance(failed, _non_retryable()):
            raise failed
        num_retries = int(kwargs.pop("num_retries", 3) or 0)
        kwargs.pop("retry_strategy", None)
        kwargs["max_retries"] = 0
        kwargs["num_retries"] = 0
        return num_retries

    @functools.wraps(sync_original)
    def completion_with_retries(*args: Any, **kwargs: Any) -> Any:
        if not _is_compactifai_call(args, kwargs):
            return sync_original(*args, **kwargs)
        num_retries = _prepare(kwargs)
        function = kwargs.pop("original_function", litellm.completion)
        for attempt in range(max(num_retries, 1)):
            try:
                return function(*args, **kwargs)
            except _non_retryable():
                raise
            except Exception:
                if attempt + 1 >= num_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @functools.wraps(async_original)
    async def acompletion_with_retries(*args: Any, **kwargs: Any) -> Any:
        if not _is_compactifai_call(args, kwargs):
            return await async_original(*args, **kwargs)
        num_retries = _prepare(kwargs)
        function = kwargs.pop("original_function", litellm.acompletion)
        for attempt in range(max(num_retries, 1)):
            try:
                result = function(*args, **kwargs)
                return await result if inspect.isawaitable(result) else result
            except _non_retryable():
                raise
            except Exception:
                if attempt + 1 >= num_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    completion_with_retries.__compactifai__ = True  # type: ignore[attr-defined]
    litellm.completion_with_retries = completion_with_retries
    litellm.acompletion_with_retries = acompletion_with_retries


# --- secrets in LiteLLM's debug logs (every release) -----------------------------------------------

# The loggers LiteLLM logs through (litellm/_logging.py, 1.67 - 1.106).
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def _redact_keys_in_litellm_logs() -> None:
    # LiteLLM 1.67/1.76 debug logging prints each call's arguments, api_key included.
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())


class _MaskedErrorLogs(dict):  # type: ignore[type-arg]
    """``litellm.error_logs`` whose entries keep no key: LiteLLM 1.67 - 1.9x store each call's
    ``pre_call``/``post_call`` arguments there (``litellm.error_logs["PRE_CALL"] = locals()``),
    ``api_key`` and the Authorization header included, for every provider."""

    def __setitem__(self, name: Any, value: Any) -> None:
        super().__setitem__(name, _masked_locals(value))


def _masked_locals(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    masked = {k: v for k, v in value.items() if k != "self"}
    if "api_key" in masked:
        masked["api_key"] = mask_secret(masked["api_key"])
    extra = masked.get("additional_args")
    if isinstance(extra, dict) and isinstance(extra.get("headers"), dict):
        headers = {k: mask_secret(v) if k.lower() == "authorization" else v for k, v in extra["headers"].items()}
        masked["additional_args"] = {**extra, "headers": headers}
    return masked


def _mask_error_logs() -> None:
    current = getattr(litellm, "error_logs", None)
    if isinstance(current, dict) and not isinstance(current, _MaskedErrorLogs):
        replacement = _MaskedErrorLogs()
        for name, value in current.items():
            replacement[name] = value
        litellm.error_logs = replacement
