"""CompactifAI's request limits, checked before any request is sent.

The rules are the OpenAPI spec's (``ChatCompletionRequest`` and ``CompletionRequest``, API 0.1.1):
a value the server would refuse with a 422 fails here with ``litellm.BadRequestError`` naming the
parameter and the accepted range, so it never costs a round trip.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

import litellm

PROVIDER = "compactifai"
MAX_TOKENS_CAP = 150_000  # ChatCompletionRequest.max_tokens / max_completion_tokens maximum
TOOL_CHOICES = ("none", "auto", "required")
RESPONSE_FORMATS = ("text", "json_schema", "json_object")
REASONING_EFFORTS = ("none", "low", "medium", "high", "xhigh", "max")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _temperature(value: Any) -> Optional[str]:
    return None if _number(value) and 0 <= value <= 2 else "a number from 0 to 2"


def _top_p(value: Any) -> Optional[str]:
    return None if _number(value) and 0 < value <= 1 else "a number greater than 0 and at most 1"


def _token_cap(value: Any) -> Optional[str]:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TOKENS_CAP
    return None if ok else f"an integer from 1 to {MAX_TOKENS_CAP}"


def _any_number(value: Any) -> Optional[str]:
    return None if _number(value) else "a number"


def _integer(value: Any) -> Optional[str]:
    return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"


def _string(value: Any) -> Optional[str]:
    return None if isinstance(value, str) else "a string"


def _boolean(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else "true or false"


def _stop(value: Any) -> Optional[str]:
    ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(s, str) for s in value))
    return None if ok else "a string or a list of strings"


def _logit_bias(value: Any) -> Optional[str]:
    ok = isinstance(value, dict) and all(_number(v) for v in value.values())
    return None if ok else "an object mapping token ids to numbers"


def _response_format(value: Any) -> Optional[str]:
    if not isinstance(value, dict) or value.get("type") not in RESPONSE_FORMATS:
        return f"an object whose type is one of {list(RESPONSE_FORMATS)}"
    if value["type"] == "json_schema":
        schema = value.get("json_schema")
        if (
            not isinstance(schema, dict)
            or not isinstance(schema.get("name"), str)
            or not isinstance(schema.get("schema"), dict)
        ):
            return "json_schema with a 'name' and a 'schema' object"
    return None


def _tool_choice(value: Any) -> Optional[str]:
    if value in TOOL_CHOICES:
        return None
    if isinstance(value, dict) and value.get("type") == "function":
        function = value.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return None
    return f'one of {list(TOOL_CHOICES)} or {{"type": "function", "function": {{"name": ...}}}}'


def _tools(value: Any) -> Optional[str]:
    ok = isinstance(value, list) and all(
        isinstance(t, dict)
        and t.get("type") == "function"
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
        for t in value
    )
    return None if ok else 'a list of {"type": "function", "function": {"name": ..., ...}}'


def _reasoning_effort(value: Any) -> Optional[str]:
    return None if value in REASONING_EFFORTS else f"one of {list(REASONING_EFFORTS)}"


RULES: Mapping[str, Callable[[Any], Optional[str]]] = {
    "temperature": _temperature,
    "top_p": _top_p,
    "max_tokens": _token_cap,
    "max_completion_tokens": _token_cap,
    "frequency_penalty": _any_number,
    "presence_penalty": _any_number,
    "seed": _integer,
    "user": _string,
    "stream": _boolean,
    "parallel_tool_calls": _boolean,
    "stop": _stop,
    "logit_bias": _logit_bias,
    "response_format": _response_format,
    "tool_choice": _tool_choice,
    "tools": _tools,
    "reasoning_effort": _reasoning_effort,
}


def check(params: Dict[str, Any], model: str) -> None:
    """Raise ``litellm.BadRequestError`` for the first value CompactifAI would refuse."""
    for name, value in params.items():
        rule = RULES.get(name)
        if rule is None or value is None:
            continue
        problem = rule(value)
        if problem is not None:
            raise litellm.BadRequestError(
                message=(
                    f"CompactifAI does not accept {name}={value!r} (model '{model}'): it must be {problem}. "
                    "Fix the value, or leave the parameter out."
                ),
                model=model,
                llm_provider=PROVIDER,
            )
