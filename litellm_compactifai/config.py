"""CompactifAIChatConfig: LiteLLM's OpenAI config, with only what CompactifAI does differently.

- parameters: the seed's list plus what the OpenAPI adds (max_completion_tokens, n=1 only,
  reasoning_effort on reasoning models, stream_options); everything else is LiteLLM's own
  ``UnsupportedParamsError`` / ``drop_params`` handling;
- tool gating: tools to a model LiteLLM's model info marks as without tool support fail before any
  request, naming tool-capable alternatives (or are dropped with ``drop_params=True``);
- key and base from ``api_key=``/``COMPACTIFAI_API_KEY`` and ``api_base=``/``COMPACTIFAI_API_BASE``
  only (settings.py);
- errors through errors.py, reasoning and ``<think>`` blocks into ``reasoning_content``;
- text completions (``litellm.text_completion``) go to CompactifAI's native ``/completions``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Union

import httpx
import litellm
from litellm.llms.openai.chat.gpt_transformation import (
    OpenAIChatCompletionStreamingHandler,
    OpenAIGPTConfig,
)
from litellm.types.utils import ModelResponse, ModelResponseStream

from . import capabilities, catalog, errors, settings, validation

if TYPE_CHECKING:  # pragma: no cover
    from litellm.llms.base_llm.chat.transformation import BaseLLMException

PROVIDER = settings.PROVIDER

# The seed's list (LiteLLM's provider page) plus the OpenAPI's max_completion_tokens and n, and
# stream_options so streams carry usage (no local token counting, see _stream_options).
_BASE_PARAMS = (
    "stream",
    "stop",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "response_format",
    "seed",
    "n",
    "stream_options",
    "extra_headers",
)
TOOL_PARAMS = ("tools", "tool_choice", "parallel_tool_calls", "functions", "function_call")
_SUPPORTED_WITH_TOOLS = _BASE_PARAMS + TOOL_PARAMS
# CompletionRequest (POST /v1/completions) fields besides model and prompt.
_TEXT_COMPLETION_PARAMS = frozenset({"max_tokens", "min_tokens", "stop", "temperature", "top_p", "user", "stream"})


def _drop(drop_params: Optional[bool]) -> bool:
    return bool(drop_params) or litellm.drop_params is True


class CompactifAIChatConfig(OpenAIGPTConfig):
    """LiteLLM provider config for ``compactifai/<model-id>`` chat and text completions."""

    def get_supported_openai_params(self, model: str) -> list:  # type: ignore[type-arg]
        params = list(_SUPPORTED_WITH_TOOLS)
        if capabilities.supports_reasoning(model) is not False:  # reasoning, or not described: server decides
            params.append("reasoning_effort")
        return params

    def map_openai_params(
        self,
        non_default_params: dict,  # type: ignore[type-arg]
        optional_params: dict,  # type: ignore[type-arg]
        model: str,
        drop_params: bool,
    ) -> dict:  # type: ignore[type-arg]
        """Copy the supported params unchanged; gate tools and ``n`` and check values before any request."""
        tool_params = [k for k in TOOL_PARAMS if non_default_params.get(k) is not None]
        if tool_params and capabilities.supports_tools(model) is False:
            if not _drop(drop_params):
                raise litellm.UnsupportedParamsError(
                    message=capabilities.no_tools_message(model, tool_params),
                    llm_provider=PROVIDER,
                    model=model,
                    status_code=400,
                )
            non_default_params = {k: v for k, v in non_default_params.items() if k not in TOOL_PARAMS}
        n = non_default_params.get("n")
        if n is not None and n != 1:
            if not _drop(drop_params):
                raise litellm.UnsupportedParamsError(
                    message=(
                        f"CompactifAI generates one choice per request (n={n} asked for model "
                        f"'{model}'). Drop n, make {n} calls, or pass drop_params=True to drop it."
                    ),
                    llm_provider=PROVIDER,
                    model=model,
                    status_code=400,
                )
            non_default_params = {k: v for k, v in non_default_params.items() if k != "n"}

        supported = self.get_supported_openai_params(model)
        validation.check(non_default_params, model)
        for key, value in non_default_params.items():
            if key == "functions":
                # CompactifAI speaks only the tools API: legacy functions become tools.
                optional_params["tools"] = [{"type": "function", "function": f} for f in value]
            elif key == "function_call":
                optional_params["tool_choice"] = (
                    value if isinstance(value, str) else {"type": "function", "function": {"name": value["name"]}}
                )
            elif key in supported:
                optional_params[key] = value
        return optional_params

    # --- where the request goes, with which key ------------------------------------------------

    def validate_environment(
        self,
        headers: dict,  # type: ignore[type-arg]
        model: str,
        messages: list,  # type: ignore[type-arg]
        optional_params: dict,  # type: ignore[type-arg]
        litellm_params: dict,  # type: ignore[type-arg]
        api_key: Optional[str] = None,
        api_base: Optional[str] = None,
    ) -> dict:  # type: ignore[type-arg]
        # LiteLLM's built-in route pre-fills api_key from litellm.api_key: read what the caller
        # passed (litellm_params) instead, so another provider's key is never sent.
        key = settings.resolve_api_key(_caller_value(litellm_params, "api_key", api_key), model=model)
        capabilities.note_model(model)
        headers["Authorization"] = f"Bearer {key}"
        headers.setdefault("Content-Type", "application/json")
        return headers

    def get_complete_url(
        self,
        api_base: Optional[str],
        api_key: Optional[str],
        model: str,
        optional_params: dict,  # type: ignore[type-arg]
        litellm_params: dict,  # type: ignore[type-arg]
        stream: Optional[bool] = None,
    ) -> str:
        # The built-in route pre-fills the public base, hiding COMPACTIFAI_API_BASE: same fix.
        base = settings.resolve_api_base(_caller_value(litellm_params, "api_base", api_base), model=model)
        endpoint = "completions" if litellm_params.get("text_completion") else "chat/completions"
        return f"{base}/{endpoint}"

    @staticmethod
    def get_api_key(api_key: Optional[str] = None) -> Optional[str]:
        return api_key or settings.env_api_key()

    @staticmethod
    def get_api_base(api_base: Optional[str] = None) -> Optional[str]:
        return settings.resolve_api_base(api_base)

    def get_models(self, api_key: Optional[str] = None, api_base: Optional[str] = None) -> List[str]:
        from .discovery import list_model_ids

        return list_model_ids(api_key=api_key, api_base=api_base)

    # --- request and response bodies ------------------------------------------------------------

    def transform_request(
        self,
        model: str,
        messages: list,  # type: ignore[type-arg]
        optional_params: dict,  # type: ignore[type-arg]
        litellm_params: dict,  # type: ignore[type-arg]
        headers: dict,  # type: ignore[type-arg]
    ) -> dict:  # type: ignore[type-arg]
        if litellm_params.get("text_completion"):
            return _text_completion_body(model, messages, optional_params)
        if "reasoning_effort" in optional_params and capabilities.supports_reasoning(model) is False:
            # LiteLLM >= 1.10x lets reasoning_effort past the supported-params check for every
            # provider (allowed_openai_params); hold it to the same rule as any unsupported param.
            if not _drop(litellm_params.get("drop_params")):
                raise litellm.UnsupportedParamsError(
                    message=(
                        f"CompactifAI model '{model}' does not reason, so reasoning_effort cannot be sent to "
                        "it. Use a reasoning model (compactifai/hypernova-60b, compactifai/gpt-oss-120b) or "
                        "pass drop_params=True to drop it."
                    ),
                    llm_provider=PROVIDER,
                    model=model,
                    status_code=400,
                )
            optional_params = {k: v for k, v in optional_params.items() if k != "reasoning_effort"}
        body = super().transform_request(model, messages, optional_params, litellm_params, headers)
        if body.get("stream") and "stream_options" not in body:
            # Ask for usage in every stream: LiteLLM would otherwise count tokens itself, and for
            # llama-3 names it fetches a tokenizer from the Hugging Face hub (a stall offline).
            body["stream_options"] = {"include_usage": True}
        return body  # type: ignore[no-any-return]

    def transform_response(
        self,
        model: str,
        raw_response: httpx.Response,
        model_response: ModelResponse,
        logging_obj: Any,
        request_data: dict,  # type: ignore[type-arg]
        messages: list,  # type: ignore[type-arg]
        optional_params: dict,  # type: ignore[type-arg]
        litellm_params: dict,  # type: ignore[type-arg]
        encoding: Any,
        api_key: Optional[str] = None,
        json_mode: Optional[bool] = None,
    ) -> ModelResponse:
        try:
            payload = raw_response.json()
        except ValueError:
            raise errors.malformed_response(
                f"expected JSON, got {raw_response.text[:120]!r}", raw_response.headers, model=model
            ) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
            raise errors.malformed_response("no 'choices' in the body", raw_response.headers, model=model)
        if payload.get("object") == "text_completion":
            raw_response = _as_chat_response(raw_response, payload)
        return super().transform_response(  # type: ignore[no-any-return]
            model=model,
            raw_response=raw_response,
            model_response=model_response,
            logging_obj=logging_obj,
            request_data=request_data,
            messages=messages,
            optional_params=optional_params,
            litellm_params=litellm_params,
            encoding=encoding,
            api_key=api_key,
            json_mode=json_mode,
        )

    def get_error_class(
        self,
        error_message: str,
        status_code: int,
        headers: Union[dict, httpx.Headers],  # type: ignore[type-arg]
    ) -> BaseLLMException:
        # LiteLLM's exception_type passes its own exception classes through unchanged (1.67-1.106).
        return errors.exception_for(status_code, error_message, headers)  # type: ignore[return-value]

    def get_model_response_iterator(
        self,
        streaming_response: Any,
        sync_stream: bool,
        json_mode: Optional[bool] = False,
    ) -> Any:
        return CompactifAIStreamIterator(
            streaming_response=streaming_response, sync_stream=sync_stream, json_mode=json_mode
        )


def _caller_value(litellm_params: dict, key: str, fallback: Optional[str]) -> Optional[str]:  # type: ignore[type-arg]
    """The value the caller gave (per call, Router or proxy entry); ``fallback`` where LiteLLM keeps none."""
    if key in litellm_params:
        value = litellm_params[key]
        return value if isinstance(value, str) and value else None
    return fallback


def _text_completion_body(model: str, messages: list, optional_params: dict) -> dict:  # type: ignore[type-arg]
    # litellm.text_completion turns each prompt into one user message; undo that for /completions.
    prompts = [m.get("content") for m in messages if isinstance(m, dict)]
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise litellm.BadRequestError(
            message="CompactifAI /completions takes a prompt string or a list of strings.",
            model=model,
            llm_provider=PROVIDER,
        )
    body: dict[str, Any] = {"model": model, "prompt": prompts[0] if len(prompts) == 1 else prompts}
    params = dict(optional_params)
    if "max_completion_tokens" in params and "max_tokens" not in params:
        params["max_tokens"] = params.pop("max_completion_tokens")
    unsupported = sorted(k for k in params if k not in _TEXT_COMPLETION_PARAMS and k != "stream_options")
    if unsupported and not _drop(params.get("drop_params")):
        raise litellm.UnsupportedParamsError(
            message=(
                f"CompactifAI /completions does not take {unsupported} (it takes max_tokens, stop, "
                "temperature, top_p and user). Use litellm.completion for chat features, or pass "
                "drop_params=True to drop them."
            ),
            llm_provider=PROVIDER,
            model=model,
            status_code=400,
        )
    body.update({k: v for k, v in params.items() if k in _TEXT_COMPLETION_PARAMS})
    return body


def _as_chat_response(raw_response: httpx.Response, payload: dict) -> httpx.Response:  # type: ignore[type-arg]
    """A /completions body reshaped as a chat completion, for LiteLLM's text_completion wrapper."""
    chat = dict(payload)
    chat["object"] = "chat.completion"
    chat["choices"] = [
        {
            "index": c.get("index", i),
            "finish_reason": c.get("finish_reason") or "stop",
            "message": {"role": "assistant", "content": c.get("text", "")},
        }
        for i, c in enumerate(payload.get("choices") or [])
    ]
    return httpx.Response(
        status_code=raw_response.status_code,
        headers=raw_response.headers,
        content=json.dumps(chat).encode(),
        request=raw_response.request,
    )


class CompactifAIStreamIterator(OpenAIChatCompletionStreamingHandler):
    """OpenAI's stream parser, plus: ``<think>`` blocks -> ``reasoning_content``, ``reasoning`` ->
    ``reasoning_content``, and /completions answers (SSE chunks or one JSON body) as chat deltas."""

    def __init__(self, streaming_response: Any, sync_stream: bool, json_mode: Optional[bool] = False) -> None:
        super().__init__(streaming_response=streaming_response, sync_stream=sync_stream, json_mode=json_mode)
        self._in_think = False

    def _handle_string_chunk(self, str_line: str) -> Any:
        # LiteLLM skips an event whose JSON does not parse: the caller would get a silently
        # shortened answer. A cut event is a broken stream, and says so.
        line = str_line.strip()
        if line.startswith("data:") and "[DONE]" not in line:
            payload = line[len("data:") :].strip()
            if payload:
                try:
                    json.loads(payload)
                except ValueError:
                    self._close_source()
                    raise errors.malformed_response(f"stream event is not JSON: {payload[:80]!r}") from None
        return super()._handle_string_chunk(str_line=str_line)

    def chunk_parser(self, chunk: dict) -> ModelResponseStream:  # type: ignore[type-arg]
        error = chunk.get("error")
        if isinstance(error, dict) or (isinstance(chunk.get("detail"), (str, list)) and "choices" not in chunk):
            raise errors.exception_for(int(chunk.get("status_code") or 500), json.dumps(chunk))
        if chunk.get("object") == "text_completion" or _has_text_choices(chunk):
            chunk = _text_chunk_as_chat(chunk)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            if delta.get("reasoning") is not None and delta.get("reasoning_content") is None:
                delta["reasoning_content"] = delta.pop("reasoning")
            content = delta.get("content")
            if isinstance(content, str) and (self._in_think or "<think>" in content):
                delta["content"], reasoning = self._split_think(content)
                if reasoning:
                    delta["reasoning_content"] = (delta.get("reasoning_content") or "") + reasoning
        return ModelResponseStream(
            id=chunk.get("id"),
            object="chat.completion.chunk",
            created=chunk.get("created"),
            model=chunk.get("model"),
            choices=chunk.get("choices") or [],
            usage=chunk.get("usage"),
        )

    def _close_source(self) -> None:
        # Release the HTTP connection now: left to the garbage collector, httpcore's pool would
        # close it whenever GC runs, possibly while the same thread holds the pool lock (a hang).
        close = getattr(self.streaming_response, "close", None)
        if callable(close):
            close()

    def _split_think(self, text: str) -> tuple[Optional[str], str]:
        """(content, reasoning) of one delta, carrying the open ``<think>`` across chunks."""
        content, reasoning = [], []
        while text:
            if self._in_think:
                end = text.find("</think>")
                if end < 0:
                    reasoning.append(text)
                    break
                reasoning.append(text[:end])
                text = text[end + len("</think>") :]
                self._in_think = False
            else:
                start = text.find("<think>")
                if start < 0:
                    content.append(text)
                    break
                content.append(text[:start])
                text = text[start + len("<think>") :]
                self._in_think = True
        joined = "".join(content)
        return (joined or None), "".join(reasoning)


def _has_text_choices(chunk: dict) -> bool:  # type: ignore[type-arg]
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    return "text" in choices[0] and "delta" not in choices[0]


def _text_chunk_as_chat(chunk: dict) -> dict:  # type: ignore[type-arg]
    converted = dict(chunk)
    converted["choices"] = [
        {
            "index": c.get("index", i),
            "delta": {"role": "assistant", "content": c.get("text", "")},
            "finish_reason": c.get("finish_reason"),
        }
        for i, c in enumerate(chunk.get("choices") or [])
    ]
    return converted


def iter_catalog_models() -> Iterator[str]:
    """``compactifai/<id>`` for every bundled chat model (what ``litellm.models_by_provider`` lists)."""
    return (r.litellm_model for r in catalog.CATALOG.values() if r.mode == "chat")
