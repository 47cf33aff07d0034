"""``litellm-compactifai``: demo, emulator, models and savings.

litellm-compactifai demo                 # offline on the bundled emulator unless COMPACTIFAI_API_KEY is set
litellm-compactifai emulator --port 8787
litellm-compactifai models [--live] [--json]
litellm-compactifai savings --input-tokens N --output-tokens M [--model ID] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from typing import Any, Dict, List, Optional, Sequence

import litellm

from . import catalog, discovery, doctor, settings

DEMO_KEY = "demo-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City, e.g. San Sebastián"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _per_million(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 1_000_000:.2f}"


def _flag(value: Optional[bool]) -> str:
    return "?" if value is None else ("yes" if value else "no")


# --- models -----------------------------------------------------------------------------------------


def _model_rows(live: Optional[List[str]]) -> List[Dict[str, Any]]:
    rows = []
    ids = list(catalog.CATALOG) if live is None else live + [m for m in catalog.CATALOG if m not in live]
    for model_id in ids:
        record = catalog.get(model_id)
        info = litellm.model_cost.get(f"{catalog.PROVIDER}/{model_id}", {})
        if record is not None and record.mode != "chat":
            continue
        status: str = record.status if record else "live only"
        if live is not None:
            status = "live" if model_id in live else f"not live ({status})"
        rows.append(
            {
                "id": model_id,
                "kind": record.kind if record else "?",
                "tools": info.get("supports_function_calling"),
                "reasoning": bool(info.get("supports_reasoning")),
                "vision": bool(info.get("supports_vision")),
                "context": info.get("max_input_tokens"),
                "input_per_1m": _scaled(info.get("input_cost_per_token")),
                "output_per_1m": _scaled(info.get("output_cost_per_token")),
                "status": status,
                "retired": record.retired if record else None,
            }
        )
    return rows


def _scaled(value: Any) -> Optional[float]:
    return None if not isinstance(value, (int, float)) else round(value * 1_000_000, 6)


def _print_models(rows: List[Dict[str, Any]]) -> None:
    print(
        _table(
            [
                [
                    r["id"],
                    r["kind"],
                    _flag(r["tools"]),
                    _flag(r["reasoning"]),
                    _flag(r["vision"]),
                    str(r["context"] or "-"),
                    "-" if r["input_per_1m"] is None else f"{r['input_per_1m']:.2f}",
                    "-" if r["output_per_1m"] is None else f"{r['output_per_1m']:.2f}",
                    r["status"] + (f" {r['retired']}" if r["retired"] else ""),
                ]
                for r in rows
            ],
            ["model", "kind", "tools", "reasoning", "vision", "context", "in $/1M", "out $/1M", "status"],
        )
    )


def cmd_models(args: argparse.Namespace) -> int:
    live = discovery.refresh_models(api_key=args.api_key, api_base=args.api_base) if args.live else None
    rows = _model_rows(live)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_models(rows)
    return 0


# --- savings ----------------------------------------------------------------------------------------


def savings_rows(input_tokens: int, output_tokens: int, model: Optional[str] = None) -> List[Dict[str, Any]]:
    """Cost of a workload on each priced slim model against its priced original."""
    rows = []
    for record in catalog.CATALOG.values():
        if (
            record.kind != "slim"
            or record.counterpart is None
            or (model and model not in (record.id, record.counterpart))
        ):
            continue
        original = catalog.get(record.counterpart)
        if original is None or None in (
            record.input_cost_per_token,
            record.output_cost_per_token,
            original.input_cost_per_token,
            original.output_cost_per_token,
        ):
            continue
        slim_cost = input_tokens * record.input_cost_per_token + output_tokens * record.output_cost_per_token  # type: ignore[operator]
        original_cost = (
            input_tokens * original.input_cost_per_token + output_tokens * original.output_cost_per_token  # type: ignore[operator]
        )
        rows.append(
            {
                "slim": record.id,
                "original": original.id,
                "slim_usd": round(slim_cost, 6),
                "original_usd": round(original_cost, 6),
                "saving_percent": round(100 * (1 - slim_cost / original_cost), 1) if original_cost else 0.0,
            }
        )
    return rows


def cmd_savings(args: argparse.Namespace) -> int:
    rows = savings_rows(args.input_tokens, args.output_tokens, args.model)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0 if rows else 1
    if not rows:
        print("No priced slim/original pair matches; see `litellm-compactifai models`.", file=sys.stderr)
        return 1
    print(f"Workload: {args.input_tokens:,} input + {args.output_tokens:,} output tokens (published prices)")
    print(
        _table(
            [
                [
                    r["slim"],
                    r["original"],
                    f"${r['slim_usd']:.4f}",
                    f"${r['original_usd']:.4f}",
                    f"{r['saving_percent']}%",
                ]
                for r in rows
            ],
            ["slim model", "original", "slim cost", "original cost", "saving"],
        )
    )
    return 0


# --- emulator ---------------------------------------------------------------------------------------


def cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator import serve

    serve(host=args.host, port=args.port, api_keys=args.api_key or None)
    return 0


# --- demo -------------------------------------------------------------------------------------------


def _cost(response: Any) -> str:
    try:
        return f"${litellm.completion_cost(completion_response=response):.8f}"
    except Exception:  # noqa: BLE001 - an unpriced model has no cost to show
        return "n/a (no published price)"


def cmd_demo(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        key = settings.env_api_key()
        base: Optional[str] = None
        emulator = None
        if key is None:
            from .emulator import Emulator

            emulator = stack.enter_context(Emulator(api_keys={DEMO_KEY}, record=False))
            key, base = DEMO_KEY, emulator.base_url
            print(f"No COMPACTIFAI_API_KEY: running on the bundled emulator at {base}\n")
        else:
            print(f"Using the real CompactifAI API at {settings.resolve_api_base()}\n")
        common: Dict[str, Any] = {"api_key": key, "api_base": base}
        costs: List[List[str]] = []
        messages = [{"role": "user", "content": "In one sentence, what is a compressed LLM?"}]

        print("1. Chat: compactifai/cai-mistral-small-3-1-slim")
        response = litellm.completion(model="compactifai/cai-mistral-small-3-1-slim", messages=messages, **common)
        print(f"   {response.choices[0].message.content}")
        costs.append(["chat", "cai-mistral-small-3-1-slim", str(response.usage.total_tokens), _cost(response)])

        print("\n2. Stream: compactifai/hypernova-60b")
        usage: Any = None
        stream = litellm.completion(
            model="compactifai/hypernova-60b",
            messages=messages,
            stream=True,
            max_tokens=40,
            stream_options={"include_usage": True},
            **common,
        )
        print("   ", end="")
        for chunk in stream:
            usage = getattr(chunk, "usage", None) or usage
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                print(text, end="", flush=True)
        print()
        if usage is not None:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model="compactifai/hypernova-60b",
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
            )
            costs.append(["stream", "hypernova-60b", str(usage.total_tokens), f"${prompt_cost + completion_cost:.8f}"])

        print("\n3. Tool call: compactifai/hypernova-60b with get_weather")
        weather = [{"role": "user", "content": "What's the weather like in San Sebastián?"}]
        response = litellm.completion(
            model="compactifai/hypernova-60b", messages=weather, tools=[WEATHER_TOOL], tool_choice="auto", **common
        )
        for call in response.choices[0].message.tool_calls or []:
            print(f"   -> {call.function.name}({call.function.arguments})")
        costs.append(["tools", "hypernova-60b", str(response.usage.total_tokens), _cost(response)])

        print("\n4. Gated tool call: compactifai/cai-mistral-small-3-1-slim has no tool support")
        try:
            litellm.completion(
                model="compactifai/cai-mistral-small-3-1-slim", messages=weather, tools=[WEATHER_TOOL], **common
            )
            print("   (the call went through: tool support changed since the catalog was bundled)")
        except litellm.UnsupportedParamsError as exc:
            print(f"   refused before any request: {type(exc).__name__}: {exc.message}")

        print("\n5. Text completion (native /v1/completions): compactifai/cai-mistral-small-3-1-slim")
        text = litellm.text_completion(
            model="compactifai/cai-mistral-small-3-1-slim", prompt="The capital of France is", max_tokens=12, **common
        )
        print(f"   {text.choices[0].text}")
        costs.append(["text", "cai-mistral-small-3-1-slim", str(text.usage.total_tokens), _cost(text)])

        print("\n6. Live model list (GET /v1/models) merged with the catalog")
        live = discovery.refresh_models(api_key=key, api_base=base)
        _print_models([r for r in _model_rows(live) if r["status"] == "live"])

        if emulator is not None:
            from .emulator import EmulatedModel

            print("\n7. A model the catalog never heard of, without tools (emulator only)")
            emulator.add_model(EmulatedModel(id="brand-new-13b", supports_function_calling=False))
            discovery.refresh_models(api_key=key, api_base=base)
            try:
                litellm.completion(model="compactifai/brand-new-13b", messages=weather, tools=[WEATHER_TOOL], **common)
            except litellm.UnsupportedParamsError as exc:
                print(f"   refused after refresh_models(): {exc.message.split('. Use')[0]}")

        print("\nCost of each call")
        print(_table(costs, ["call", "model", "tokens", "cost"]))
    return 0


# --- entry point ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litellm-compactifai", description="CompactifAI for LiteLLM")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="chat, stream, tools, gating, text completion, models and costs")
    demo.set_defaults(func=cmd_demo)

    emulator = sub.add_parser("emulator", help="serve the offline CompactifAI emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8787)
    emulator.add_argument("--api-key", action="append", help="accepted key (repeatable; default: any)")
    emulator.set_defaults(func=cmd_emulator)

    models = sub.add_parser("models", help="the model catalog (or the live list merged with it)")
    models.add_argument("--live", action="store_true", help="read GET /v1/models first")
    models.add_argument("--api-key", default=None)
    models.add_argument("--api-base", default=None)
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)

    savings = sub.add_parser("savings", help="cost of a workload on slim models against their originals")
    savings.add_argument("--input-tokens", type=int, required=True)
    savings.add_argument("--output-tokens", type=int, required=True)
    savings.add_argument("--model", default=None)
    savings.add_argument("--json", action="store_true")
    savings.set_defaults(func=cmd_savings)

    doctor.configure_parser(
        sub.add_parser("doctor", help="check key, base URL, LiteLLM, the route, tool gating and a proxy config")
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (litellm.AuthenticationError, litellm.BadRequestError, litellm.APIConnectionError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    sys.exit(main())
