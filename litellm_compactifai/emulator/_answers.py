"""Deterministic answers: chat/text completions, tool calls, JSON, streaming.

Nothing here is random except response and tool-call ids.  A "token" is one
whitespace-separated word of generated text; prompt tokens are estimated as
``ceil(chars / 4)`` over the text of the messages (the provider documents a
token as "approximately 4 characters").

Chat answers:

* text: ``"[<model>] You said: <last user message>"`` (echo capped at 64
  words), padded with fixed filler to 12 words, or to exactly ``N`` words when
  the last user message contains ``words=N``;
* ``max_completion_tokens`` (else ``max_tokens``) caps the *content* words
  (finish_reason ``"length"``), then ``stop`` strings cut the content before
  the first match (finish_reason ``"stop"``); reasoning text is not capped but
  is counted in ``completion_tokens``; JSON output is capped like text (a cut
  JSON document is what a real model would produce);
* reasoning models think ``12/24/40/56/72`` words for effort
  ``low/medium(default)/high/xhigh/max``; effort ``none`` or
  ``reasoning_enabled: false`` turns thinking off;
* tool calls carry arguments generated from the tool's JSON schema; a string
  property named like location/city takes a place found in the prompt
  ("... in Paris") or ``"San Sebastián"``.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._models import EmulatedModel

DEFAULT_ANSWER_WORDS = 12
MAX_ECHO_WORDS = 64
COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # CompletionRequest.max_tokens default in the spec
TOOL_ARGUMENT_FRAGMENT = 12  # characters per streamed tool-argument delta
DEFAULT_CITY = "San Sebastián"

_FILLER = (
    "Multiverse Computing compresses large language models with tensor networks, "
    "and this offline emulator answers every request deterministically."
).split()

_THINKING_FILLER = (
    "First I restate the request, then I check the constraints, then I draft a "
    "short deterministic answer and verify it before replying."
).split()

_REASONING_WORDS = {"low": 12, "medium": 24, "high": 40, "xhigh": 56, "max": 72}
_DEFAULT_REASONING_EFFORT = "medium"

_WORDS_MARKER = re.compile(r"\bwords=(\d{1,7})\b")
_CITY_RE = re.compile(
    r"\b(?:in|at|for|near|to|from)\s+"
    r"([A-Z][^\s,.;:!?\"']*(?:\s+(?:de\s+|del\s+|la\s+)?[A-Z][^\s,.;:!?\"']*)*)"
)
_CITY_NAMES = ("location", "city", "place", "town", "address", "destination", "where")


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


# --------------------------------------------------------------------------
# Prompt inspection
# --------------------------------------------------------------------------


def content_text(content: Any) -> str:
    """The text of a message ``content`` (string or list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
                refusal = part.get("refusal")
                if isinstance(refusal, str):
                    parts.append(refusal)
        return " ".join(parts)
    return ""


def message_chars(messages: Sequence[Any]) -> int:
    """Characters of message text (content, tool-call names and arguments)."""
    total = 0
    for msg in messages:
        if not isinstance(msg, Mapping):
            continue
        total += len(content_text(msg.get("content")))
        calls = msg.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                fn = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(fn, Mapping):
                    total += len(str(fn.get("name", ""))) + len(str(fn.get("arguments", "")))
    return total


def estimate_tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def has_image(messages: Sequence[Any]) -> bool:
    for msg in messages:
        if isinstance(msg, Mapping) and isinstance(msg.get("content"), list):
            for part in msg["content"]:
                if isinstance(part, Mapping) and part.get("type") == "image_url":
                    return True
    return False


def last_user_text(messages: Sequence[Any]) -> str:
    for msg in reversed(messages):
        if isinstance(msg, Mapping) and msg.get("role") == "user":
            return content_text(msg.get("content"))
    return ""


def words_marker(text: str) -> int | None:
    """``N`` if ``text`` contains the benchmark marker ``words=N``."""
    m = _WORDS_MARKER.search(text)
    return int(m.group(1)) if m else None


def city_from(text: str) -> str | None:
    m = _CITY_RE.search(text)
    return m.group(1) if m else None


def _normalize(text: str) -> list[str]:
    return text.split()


def _pad(words: list[str], target: int, filler: Sequence[str] = _FILLER) -> list[str]:
    out = list(words[:target])
    i = 0
    while len(out) < target:
        out.append(filler[i % len(filler)])
        i += 1
    return out


def _echo(text: str) -> list[str]:
    words = _normalize(text)
    if not words:
        return ["(nothing)"]
    if len(words) > MAX_ECHO_WORDS:
        return [*words[:MAX_ECHO_WORDS], "..."]
    return words


def reply_words(prefix: list[str], text: str, exact: int | None) -> list[str]:
    """Prefix + echo of ``text``: padded to the default length or ``exact`` words."""
    words = prefix + _echo(text)
    if exact is not None:
        return _pad(words, exact)
    if len(words) < DEFAULT_ANSWER_WORDS:
        return _pad(words, DEFAULT_ANSWER_WORDS)
    return words


def limit(text: str, cap: int | None, stops: Sequence[str]) -> tuple[str, str, bool]:
    """Apply a word cap then stop strings; returns (text, finish_reason, capped)."""
    finish = "stop"
    capped = False
    if cap is not None:
        tokens = text.split(" ")
        if len(tokens) > cap:
            text = " ".join(tokens[:cap])
            finish = "length"
            capped = True
    cut = -1
    for s in stops:
        if s:
            i = text.find(s)
            if i != -1 and (cut == -1 or i < cut):
                cut = i
    if cut != -1:
        text = text[:cut]
        finish = "stop"
    return text, finish, capped


def count_words(text: str) -> int:
    return len(text.split())


def stop_list(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str)]
    return []


# --------------------------------------------------------------------------
# JSON Schema instance generator
# --------------------------------------------------------------------------


@dataclass
class Hints:
    """Prompt-derived values used to fill generated JSON."""

    text: str = ""
    city: str = DEFAULT_CITY
    answer: str = ""


def _resolve_ref(ref: str, root: Any) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for raw in ref[1:].lstrip("/").split("/") if ref[1:] else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node


def _merge_all_of(schema: Mapping[str, Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for sub in schema.get("allOf", []):
        if isinstance(sub, Mapping) and "$ref" in sub:
            sub = _resolve_ref(str(sub["$ref"]), root)
        if not isinstance(sub, Mapping):
            continue
        if "allOf" in sub:
            sub = _merge_all_of(sub, root)
        for k, v in sub.items():
            if k == "properties" and isinstance(v, Mapping):
                merged.setdefault("properties", {})
                merged["properties"] = {**merged["properties"], **v}
            elif k == "required" and isinstance(v, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *v]))
            else:
                merged.setdefault(k, v)
    return merged


def _string_for(schema: Mapping[str, Any], name: str | None, hints: Hints) -> str:
    fmt = schema.get("format")
    formats = {
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "time": "00:00:00Z",
        "email": "user@example.com",
        "uri": "https://example.com",
        "url": "https://example.com",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "hostname": "example.com",
        "ipv4": "127.0.0.1",
        "ipv6": "::1",
    }
    lname = (name or "").lower()
    if isinstance(fmt, str) and fmt in formats:
        value = formats[fmt]
    elif any(c in lname for c in _CITY_NAMES):
        value = hints.city
    elif "unit" in lname:
        value = "celsius"
    elif lname in ("answer", "response", "reply", "text", "content", "message") and hints.answer:
        value = hints.answer
    elif lname in ("query", "question", "prompt", "input") and hints.text:
        value = " ".join(hints.text.split())
    elif name:
        value = f"example {name}"
    else:
        value = "example"
    min_len = schema.get("minLength")
    max_len = schema.get("maxLength")
    pattern = schema.get("pattern")
    regex: re.Pattern[str] | None = None
    if isinstance(pattern, str):
        try:
            regex = re.compile(pattern)
        except re.error:
            regex = None
    if regex is not None and regex.search(value) is None:
        candidates = [_string_from_regex(pattern) if isinstance(pattern, str) else None]
        candidates += ["example", "a", "A", "0", "abc123", "a-b", "ABC", "2026-01-01"]
        for candidate in candidates:
            if candidate is not None and regex.search(candidate):
                value = candidate
                break
    sized = value
    if isinstance(min_len, int) and len(sized) < min_len:
        filler = sized[-1] if sized and regex is not None else "x"
        sized = sized + filler * (min_len - len(sized))
    if isinstance(max_len, int) and len(sized) > max_len:
        sized = sized[:max_len]
    if regex is None or regex.search(sized):
        return sized
    return value


def _sre_parser() -> Any:
    try:
        return importlib.import_module("re._parser")  # Python >= 3.11
    except ImportError:  # pragma: no cover - older Pythons
        return importlib.import_module("sre_parse")


class _NoExample(Exception):
    pass


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
}


def _emit_class(items: Any) -> str:
    if any(str(op) == "NEGATE" for op, _ in items):
        excluded = "".join(_emit_class([i]) for i in items if str(i[0]) != "NEGATE")
        for c in "a0_-xZ9 ":
            if c not in excluded:
                return c
        raise _NoExample
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            return chr(av[0])
        if name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(av), "a")
    raise _NoExample


def _emit_regex(items: Any) -> str:
    out: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append("a" if av != ord("a") else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_emit_class(av))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = av
            out.append(_emit_regex(sub) * int(low))
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            out.append(_emit_regex(av[-1]))
        elif name == "BRANCH":
            out.append(_emit_regex(av[1][0]))
        elif name == "CATEGORY":
            out.append(_CATEGORY_CHARS.get(str(av), "a"))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise _NoExample
    return "".join(out)


def _string_from_regex(pattern: str) -> str | None:
    """A string matching a simple regular expression (``None`` if unsure)."""
    try:
        return _emit_regex(_sre_parser().parse(pattern))
    except Exception:
        return None


def _number_for(schema: Mapping[str, Any], integer: bool) -> int | float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    xlo = schema.get("exclusiveMinimum")
    xhi = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    value: float = 1
    lower: float | None = None
    if isinstance(lo, (int, float)):
        lower = lo
        value = max(value, lo)
    if isinstance(xlo, (int, float)) and not isinstance(xlo, bool) and value <= xlo:
        lower = xlo
        value = xlo + 1
    upper_incl = hi if isinstance(hi, (int, float)) and not isinstance(hi, bool) else None
    upper_excl = xhi if isinstance(xhi, (int, float)) and not isinstance(xhi, bool) else None
    if upper_incl is not None and value > upper_incl:
        value = upper_incl
    if upper_excl is not None and value >= upper_excl:
        base = lower if lower is not None else upper_excl - 2
        value = (base + upper_excl) / 2
    if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
        value = math.ceil(value / step) * step
        if upper_incl is not None and value > upper_incl:
            value = math.floor(upper_incl / step) * step
    if integer:
        iv = math.ceil(value) if lower is not None and value < math.ceil(value) else int(value)
        if upper_excl is not None and iv >= upper_excl:
            iv = math.ceil(upper_excl) - 1
        if upper_incl is not None and iv > upper_incl:
            iv = math.floor(upper_incl)
        return int(iv)
    return value


def generate_instance(  # noqa: C901 - one branch per schema construct
    schema: Any,
    root: Any = None,
    hints: Hints | None = None,
    name: str | None = None,
    depth: int = 0,
) -> Any:
    """A small JSON value that validates against ``schema``.

    Covers objects (all declared properties), strings (formats, enums,
    patterns from a few candidates, lengths), numbers and integers (bounds,
    multipleOf), booleans, null, arrays (``max(1, minItems)`` items), ``const``,
    ``enum``, ``anyOf``/``oneOf`` (first non-null branch), ``allOf`` (merged)
    and local ``$ref``.
    """
    hints = hints if hints is not None else Hints()
    root = schema if root is None else root
    if depth > 16:
        return None
    if schema is True or schema is None:
        return f"example {name}" if name else "example"
    if not isinstance(schema, Mapping):
        return None
    if "$ref" in schema:
        target = _resolve_ref(str(schema["$ref"]), root)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        merged = {**target, **siblings} if isinstance(target, Mapping) else siblings
        return generate_instance(merged, root, hints, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        non_null = [v for v in enum if v is not None]
        return non_null[0] if non_null else enum[0]
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            chosen = next(
                (b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")),
                branches[0],
            )
            rest = {k: v for k, v in schema.items() if k != key}
            if isinstance(chosen, Mapping):
                chosen = {**rest, **chosen}
            return generate_instance(chosen, root, hints, name, depth + 1)
    if "allOf" in schema:
        return generate_instance(_merge_all_of(schema, root), root, hints, name, depth + 1)
    stype = schema.get("type")
    if isinstance(stype, list):
        stype = next((t for t in stype if t != "null"), stype[0] if stype else None)
    if stype is None:
        if "properties" in schema or "required" in schema:
            stype = "object"
        elif "items" in schema or "prefixItems" in schema:
            stype = "array"
        elif any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum")):
            stype = "number"
        else:
            stype = "string"
    if stype == "object":
        out: dict[str, Any] = {}
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        for key, sub in props.items():
            out[key] = generate_instance(sub, root, hints, key, depth + 1)
        required = schema.get("required")
        extra = schema.get("additionalProperties")
        if isinstance(required, list):
            for key in required:
                if isinstance(key, str) and key not in out:
                    sub = extra if isinstance(extra, Mapping) else True
                    out[key] = generate_instance(sub, root, hints, key, depth + 1)
        return out
    if stype == "array":
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        count = max(1, min_items if isinstance(min_items, int) else 0)
        if isinstance(max_items, int):
            count = min(count, max_items)
        values: list[Any] = []
        if isinstance(prefix, list):
            values = [generate_instance(s, root, hints, name, depth + 1) for s in prefix]
        while len(values) < count:
            sub = items if isinstance(items, (Mapping, bool)) else True
            if sub is False:
                break
            item_name = name[:-1] if name and name.endswith("s") else name
            values.append(generate_instance(sub, root, hints, item_name, depth + 1))
        return values
    if stype == "string":
        return _string_for(schema, name, hints)
    if stype == "integer":
        return _number_for(schema, integer=True)
    if stype == "number":
        return _number_for(schema, integer=False)
    if stype == "boolean":
        return True
    if stype == "null":
        return None
    return None


# --------------------------------------------------------------------------
# Chat completions
# --------------------------------------------------------------------------


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class ChatResult:
    """Everything needed to render a chat answer as JSON or as SSE chunks."""

    id: str
    created: int
    model: str
    content: str | None
    reasoning: str | None
    reasoning_field: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    tool_calls: list[ToolCall] = field(default_factory=list)


def _tool_name(tool: Any) -> str | None:
    if isinstance(tool, Mapping):
        fn = tool.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return str(fn["name"])
    return None


def select_tool(body: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, str | None]:
    """Which tool to call: ``(tool, None)``, ``(None, None)`` or ``(None, error)``."""
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if not tools:
        if choice == "required" or isinstance(choice, Mapping):
            return None, "tool_choice requires a non-empty 'tools' list"
        return None, None
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, Mapping) else None
        if not isinstance(wanted, str):
            return None, "tool_choice.function.name is required"
        for tool in tools:
            if _tool_name(tool) == wanted:
                return tool, None
        names = ", ".join(n for n in (_tool_name(t) for t in tools) if n)
        return None, f"tool_choice names function '{wanted}' which is not in tools: [{names}]"
    if choice == "none":
        return None, None
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if (choice is None or choice == "auto") and isinstance(last, Mapping):
        if last.get("role") in ("tool", "function"):
            return None, None  # answer with the tool result instead of calling again
    if choice is None or choice == "auto":
        text = last_user_text(messages)
        for tool in tools:
            tname = _tool_name(tool)
            if tname and re.search(rf"\b{re.escape(tname)}\b", text):
                return tool, None
    return tools[0], None


def _tool_result_reply(messages: Sequence[Any], model: str) -> list[str] | None:
    last = messages[-1] if messages else None
    if not isinstance(last, Mapping) or last.get("role") not in ("tool", "function"):
        return None
    result = content_text(last.get("content"))
    name = last.get("name") if isinstance(last.get("name"), str) else None
    call_id = last.get("tool_call_id")
    if name is None and isinstance(call_id, str):
        for msg in reversed(messages):
            calls = msg.get("tool_calls") if isinstance(msg, Mapping) else None
            if isinstance(calls, list):
                for call in calls:
                    if isinstance(call, Mapping) and call.get("id") == call_id:
                        fn = call.get("function")
                        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                            name = str(fn["name"])
    label = f"[{model}] The tool {name} returned:" if name else f"[{model}] The tool returned:"
    return label.split() + _echo(result)


def _reasoning_text(body: Mapping[str, Any], model: EmulatedModel, user_text: str) -> str | None:
    if not model.supports_reasoning or body.get("reasoning_enabled") is False:
        return None
    effort = body.get("reasoning_effort") or _DEFAULT_REASONING_EFFORT
    if effort == "none":
        return None
    target = _REASONING_WORDS.get(str(effort), _REASONING_WORDS[_DEFAULT_REASONING_EFFORT])
    snippet = _normalize(user_text)[:6] or ["(nothing)"]
    head = ["Thinking", "about", '"' + " ".join(snippet) + '"', f"with {effort} effort:"]
    return " ".join(_pad(" ".join(head).split(), target, _THINKING_FILLER))


def build_chat(
    body: Mapping[str, Any],
    model: EmulatedModel,
    prompt_tokens: int,
    tool: Mapping[str, Any] | None,
) -> ChatResult:
    """The deterministic answer to a validated chat request."""
    messages: Sequence[Any] = body.get("messages") or []
    model_id = model.id
    user_text = last_user_text(messages)
    reasoning = _reasoning_text(body, model, user_text)
    reasoning_tokens = count_words(reasoning) if reasoning else 0
    cap = body.get("max_completion_tokens")
    if cap is None:
        cap = body.get("max_tokens")
    stops = stop_list(body.get("stop"))
    hints_city = city_from(user_text) or DEFAULT_CITY
    tool_calls: list[ToolCall] = []
    content: str | None
    if tool is not None:
        fn = tool.get("function") if isinstance(tool.get("function"), Mapping) else {}
        params = fn.get("parameters") if isinstance(fn, Mapping) else None
        args = generate_instance(
            params if isinstance(params, Mapping) else {"type": "object", "properties": {}},
            hints=Hints(text=user_text, city=hints_city, answer=user_text),
        )
        name = str(fn.get("name")) if isinstance(fn, Mapping) else "tool"
        arguments = json.dumps(args, ensure_ascii=False)
        tool_calls.append(ToolCall(new_id("chatcmpl-tool-"), name, arguments))
        content = None
        finish = "tool_calls"
        completion_tokens = estimate_tokens(len(name) + len(arguments))
    else:
        words = _tool_result_reply(messages, model_id)
        exact = words_marker(user_text)
        if body.get("ignore_eos") is True and isinstance(cap, int):
            exact = cap + 1  # generate past the cap: finish_reason "length"
        if words is None:
            words = reply_words([f"[{model_id}]", "You", "said:"], user_text, exact)
        elif exact is not None or len(words) < DEFAULT_ANSWER_WORDS:
            words = _pad(words, exact if exact is not None else DEFAULT_ANSWER_WORDS)
        text = " ".join(words)
        rf = body.get("response_format")
        rtype = rf.get("type") if isinstance(rf, Mapping) else None
        if rtype == "json_object":
            text = json.dumps({"answer": text, "model": model_id}, ensure_ascii=False)
        elif rtype == "json_schema":
            js = rf.get("json_schema") if isinstance(rf, Mapping) else None
            schema = js.get("schema") if isinstance(js, Mapping) else None
            instance = generate_instance(
                schema if isinstance(schema, Mapping) else {"type": "object"},
                hints=Hints(text=user_text, city=hints_city, answer=text),
            )
            text = json.dumps(instance, ensure_ascii=False)
        content, finish, _ = limit(text, cap if isinstance(cap, int) else None, stops)
        completion_tokens = count_words(content)
    if reasoning is not None and model.reasoning_field == "think_tags":
        content = f"<think>{reasoning}</think>\n\n{content or ''}"
    return ChatResult(
        id=new_id("chatcmpl-"),
        created=int(time.time()),
        model=model_id,
        content=content,
        reasoning=reasoning,
        reasoning_field=model.reasoning_field,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
        tool_calls=tool_calls,
    )


def usage_dict(result: ChatResult) -> dict[str, Any]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
        "completion_tokens_details": (
            {"reasoning_tokens": result.reasoning_tokens} if result.reasoning_tokens else None
        ),
        "prompt_tokens_details": None,
    }


def chat_response(result: ChatResult) -> dict[str, Any]:
    """The ``chat.completion`` object (vLLM/OpenAI shape)."""
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.tool_calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in result.tool_calls
        ]
    if result.reasoning is not None and result.reasoning_field != "think_tags":
        message[result.reasoning_field] = result.reasoning
    return {
        "id": result.id,
        "object": "chat.completion",
        "created": result.created,
        "model": result.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": result.finish_reason,
            }
        ],
        "usage": usage_dict(result),
        "system_fingerprint": None,
    }


def _deltas(text: str) -> list[str]:
    tokens = text.split(" ")
    return [tokens[0], *(" " + t for t in tokens[1:])] if text else []


def chat_stream_events(result: ChatResult, include_usage: bool) -> list[bytes]:
    """SSE events (``data: ...\\n\\n``) for a streamed chat answer, [DONE] last."""
    dumps = json.dumps
    head = (
        '{"id":'
        + dumps(result.id)
        + ',"object":"chat.completion.chunk","created":'
        + str(result.created)
        + ',"model":'
        + dumps(result.model, ensure_ascii=False)
    )
    open_choice = head + ',"choices":[{"index":0,"delta":'
    mid = ',"logprobs":null,"finish_reason":null}]}\n\n'
    events: list[str] = []

    def delta(d: str) -> None:
        events.append("data: " + open_choice + d + mid)

    def text_delta(key: str, piece: str) -> None:
        delta('{"' + key + '":' + dumps(piece, ensure_ascii=False) + "}")

    delta('{"role":"assistant","content":""}')
    reasoning = result.reasoning
    content = result.content
    if reasoning is not None:
        if result.reasoning_field == "think_tags":
            prefix = "<think>" + reasoning + "</think>\n\n"
            if content is not None and content.startswith(prefix):
                content = content[len(prefix) :]
            text_delta("content", "<think>")
            for piece in _deltas(reasoning):
                text_delta("content", piece)
            text_delta("content", "</think>\n\n")
        else:
            for piece in _deltas(reasoning):
                text_delta(result.reasoning_field, piece)
    if content:
        for piece in _deltas(content):
            text_delta("content", piece)
    for index, call in enumerate(result.tool_calls):
        first = {
            "tool_calls": [
                {
                    "index": index,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
            ]
        }
        delta(dumps(first, ensure_ascii=False, separators=(",", ":")))
        args = call.arguments
        for i in range(0, len(args), TOOL_ARGUMENT_FRAGMENT):
            frag = args[i : i + TOOL_ARGUMENT_FRAGMENT]
            delta(
                '{"tool_calls":[{"index":'
                + str(index)
                + ',"function":{"arguments":'
                + dumps(frag, ensure_ascii=False)
                + "}}]}"
            )
    events.append(
        "data: " + open_choice + '{},"logprobs":null,"finish_reason":' + dumps(result.finish_reason) + "}]}\n\n"
    )
    if include_usage:
        events.append(
            "data: " + head + ',"choices":[],"usage":' + dumps(usage_dict(result), separators=(",", ":")) + "}\n\n"
        )
    events.append("data: [DONE]\n\n")
    return [e.encode("utf-8") for e in events]


# --------------------------------------------------------------------------
# Text completions
# --------------------------------------------------------------------------


def completion_response(body: Mapping[str, Any], model: EmulatedModel) -> dict[str, Any]:
    """The ``text_completion`` object; one choice per prompt, in order."""
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else list(prompt or [])
    cap = body.get("max_tokens")
    if cap is None:
        cap = COMPLETIONS_DEFAULT_MAX_TOKENS
    stops = stop_list(body.get("stop"))
    choices: list[dict[str, Any]] = []
    prompt_tokens = 0
    completion_tokens = 0
    for index, p in enumerate(prompts):
        text_in = p if isinstance(p, str) else ""
        prompt_tokens += estimate_tokens(len(text_in))
        exact = words_marker(text_in)
        words = reply_words([f"[{model.id}]", "You", "wrote:"], text_in, exact)
        text, finish, _ = limit(" ".join(words), cap if isinstance(cap, int) else None, stops)
        completion_tokens += count_words(text)
        choices.append({"index": index, "text": text, "finish_reason": finish, "logprobs": None})
    return {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model.id,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": None,
    }


__all__ = [
    "DEFAULT_CITY",
    "ChatResult",
    "Hints",
    "ToolCall",
    "build_chat",
    "chat_response",
    "chat_stream_events",
    "completion_response",
    "content_text",
    "estimate_tokens",
    "generate_instance",
    "has_image",
    "message_chars",
    "select_tool",
]
