"""CompactifAI's error responses -> the LiteLLM exceptions users already catch.

CompactifAI answers errors in two envelopes (errors.yml): ``{"error": {"type", "message", ...}}``
on documented errors and a bare ``{"detail": ...}`` (a string, or FastAPI's list of
``{"loc", "msg", "type"}`` on 422). A 502 from the edge may be an HTML page. Every message
keeps the server's words and the ``x-request-id`` CompactifAI support asks for.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional, Union

import httpx
import litellm

PROVIDER = "compactifai"
REQUEST_ID_HEADER = "x-request-id"

_MODEL_NOT_FOUND = re.compile(r"Model '([^']+)' not found")
_CONTEXT_WINDOW = re.compile(
    r"context length|context window|maximum context|too many tokens|prompt is too long|context_length_exceeded",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

Headers = Union[Mapping[str, str], httpx.Headers, None]


def request_id(headers: Headers) -> Optional[str]:
    if not headers:
        return None
    if isinstance(headers, httpx.Headers):
        value: Optional[str] = headers.get(REQUEST_ID_HEADER)
        return value
    for key, item in headers.items():
        if key.lower() == REQUEST_ID_HEADER:
            return str(item)
    return None


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p != "body"] if isinstance(loc, list) else [str(loc)]
    return ".".join(parts) or "body"


def server_message(body: str) -> tuple[str, Optional[str]]:
    """The human message and the error ``code`` from either envelope, or a trimmed non-JSON body."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        text = _SPACE.sub(" ", _TAG.sub(" ", body or "")).strip()
        return (text[:300] or "empty response body"), None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            return str(error.get("message") or error.get("type") or error), (str(code) if code else None)
        if isinstance(error, str):
            return error, None
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail, None
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    parts.append(f"{_field(item.get('loc', []))}: {item.get('msg', item)}")
                else:
                    parts.append(str(item))
            return "invalid request: " + "; ".join(parts), None
    return str(data)[:300], None


def exception_for(
    status_code: int,
    body: str,
    headers: Headers = None,
    *,
    model: Optional[str] = None,
) -> Exception:
    """The LiteLLM exception for an HTTP error from CompactifAI.

    400 "Model 'x' not found" -> NotFoundError; context-length errors -> ContextWindowExceededError;
    other 400/422 -> BadRequestError; 401 -> AuthenticationError; 403 -> PermissionDeniedError;
    404 -> NotFoundError; 429 -> RateLimitError; 500 -> InternalServerError;
    502 -> BadGatewayError (InternalServerError on LiteLLM releases without it); 503/504 ->
    ServiceUnavailableError; anything else -> APIError with the status code.
    """
    if not headers:
        # No response at all: LiteLLM's HTTP handler passes transport failures (reset, refused,
        # cut body, timeout) through the same hook with a made-up status.
        return _transport_error(status_code, body, model)
    text, code = server_message(body)
    rid = request_id(headers)
    model_name = model or ""
    message = f"CompactifAI error {status_code}: {text}"
    if rid:
        message += f" (x-request-id: {rid})"
    kwargs: dict[str, Any] = {"message": message, "llm_provider": PROVIDER, "model": model_name}

    if status_code in (400, 413, 422) and (code == "context_length_exceeded" or _CONTEXT_WINDOW.search(text)):
        return litellm.ContextWindowExceededError(**kwargs)
    if status_code == 400:
        missing = _MODEL_NOT_FOUND.search(text)
        if missing:
            kwargs["model"] = model_name or missing.group(1)
            kwargs["message"] = (
                f"{message}. CompactifAI does not serve model '{missing.group(1)}': pick an id from "
                "GET /v1/models (litellm_compactifai.refresh_models() or `litellm-compactifai models --live`)."
            )
            return litellm.NotFoundError(**kwargs)
        return litellm.BadRequestError(**kwargs)
    if status_code == 422:
        return litellm.BadRequestError(**kwargs)
    if status_code == 401:
        kwargs["message"] = (
            f"{message}. Check the key passed as api_key= or set in COMPACTIFAI_API_KEY "
            "(keys are issued in the CompactifAI Dashboard)."
        )
        return litellm.AuthenticationError(**kwargs)
    if status_code == 403:
        return litellm.exceptions.PermissionDeniedError(response=_response(status_code), **kwargs)
    if status_code == 404:
        return litellm.NotFoundError(**kwargs)
    if status_code == 429:
        return litellm.RateLimitError(**kwargs)
    if status_code == 500:
        return litellm.InternalServerError(**kwargs)
    if status_code == 502:
        bad_gateway = getattr(litellm, "BadGatewayError", None)  # added in LiteLLM ~1.80
        if bad_gateway is not None:
            return bad_gateway(**kwargs)  # type: ignore[no-any-return]
        return litellm.InternalServerError(**kwargs)
    if status_code in (503, 504):
        return litellm.ServiceUnavailableError(**kwargs)
    return litellm.APIError(status_code=status_code, request=_request(), **kwargs)


def _transport_error(status_code: int, detail: str, model: Optional[str]) -> Exception:
    detail = (detail or "no detail").replace("litellm.Timeout: ", "")[:300].rstrip(".")
    if status_code == 408 or "timed out" in detail.lower() or "timeout" in detail.lower():
        return litellm.Timeout(
            message=f"CompactifAI did not answer in time: {detail}. Raise timeout= or retry.",
            model=model or "",
            llm_provider=PROVIDER,
        )
    return litellm.APIConnectionError(
        message=(
            f"The connection to CompactifAI failed before a complete answer: {detail}. Check api_base / "
            "COMPACTIFAI_API_BASE and the network; the request may be retried."
        ),
        llm_provider=PROVIDER,
        model=model or "",
    )


def malformed_response(detail: str, headers: Headers = None, *, model: Optional[str] = None) -> Exception:
    """A 200 whose body is not the JSON CompactifAI promises (cut off, HTML, ...): retryable, like a 502."""
    rid = request_id(headers)
    message = f"CompactifAI returned a malformed response: {detail}"
    if rid:
        message += f" (x-request-id: {rid})"
    return litellm.InternalServerError(message=message, llm_provider=PROVIDER, model=model or "")


def _request() -> httpx.Request:
    return httpx.Request("POST", "https://api.compactif.ai/v1")


def _response(status_code: int) -> httpx.Response:
    return httpx.Response(status_code, request=_request())
