"""Request-body validation against the CompactifAI OpenAPI document.

The verbatim OpenAPI document (``openapi.json`` next to this module) is loaded
once.  Bodies are validated against ``components.schemas.ChatCompletionRequest``
and ``components.schemas.CompletionRequest`` with :mod:`jsonschema`
(Draft 2020-12, which OpenAPI 3.1 uses), every ``$ref`` resolved against the
whole document.

``jsonschema`` costs 100-300 microseconds per valid chat request, which would
dominate the emulator's per-request budget, so each schema is also compiled
once into a small closure-based checker covering the keywords the document
uses.  The compiled checker only decides "valid / not valid"; whenever it says
"not valid", ``jsonschema`` re-validates and is the authority for both the
verdict and the error details.  Schemas using keywords the compiler does not
know fall back to ``jsonschema`` alone.  (A test cross-checks both on
thousands of mutated bodies.)

Errors are reported the way FastAPI/pydantic v2 reports them (HTTP 422,
``{"detail": [{"type", "loc", "msg", "input", "ctx"?}]}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable

import jsonschema  # type: ignore[import-untyped,unused-ignore]

Check = Callable[[Any], bool]
ErrorDetail = dict[str, Any]

SPEC_PATH = Path(__file__).with_name("openapi.json")

_SPEC: dict[str, Any] | None = None


def load_spec() -> dict[str, Any]:
    """The OpenAPI document (read and parsed once per process)."""
    global _SPEC
    if _SPEC is None:
        with SPEC_PATH.open("rb") as fh:
            loaded = json.load(fh)
        if not isinstance(loaded, dict):  # pragma: no cover - shipped file
            raise RuntimeError("openapi.json is not a JSON object")
        _SPEC = loaded
    return _SPEC


# --------------------------------------------------------------------------
# jsonschema-compatible equality (True != 1, 1 == 1.0)
# --------------------------------------------------------------------------

_TRUE = object()
_FALSE = object()


def _unbool(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


def json_equal(one: Any, two: Any) -> bool:
    """Equality as JSON Schema defines it (mirrors ``jsonschema._utils.equal``)."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(json_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        if len(one) != len(two):
            return False
        return all(k in two and json_equal(v, two[k]) for k, v in one.items())
    return bool(_unbool(one) == _unbool(two))


# --------------------------------------------------------------------------
# Compiled fast checker
# --------------------------------------------------------------------------


class UnsupportedSchema(Exception):
    """The compiler met a keyword it does not implement."""


# Keywords jsonschema ignores for validation (annotations, containers, or
# OpenAPI extensions): safe to skip.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "$comment",
        "$defs",
        "definitions",
        "$schema",
        "contentMediaType",
        "contentEncoding",
        "discriminator",
        "xml",
        "externalDocs",
    }
)

_HANDLED = frozenset(
    {
        "type",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "$ref",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
    }
)


def _true(_: Any) -> bool:
    return True


def _false(_: Any) -> bool:
    return False


def _is_null(x: Any) -> bool:
    return x is None


def _is_bool(x: Any) -> bool:
    return x is True or x is False


def _is_int(x: Any) -> bool:
    t = type(x)
    if t is int:
        return True
    if t is float:
        return bool(x.is_integer())
    if t is bool:
        return False
    if isinstance(x, int):
        return not isinstance(x, bool)
    return isinstance(x, float) and x.is_integer()


def _is_number(x: Any) -> bool:
    t = type(x)
    if t is int or t is float:
        return True
    if t is bool:
        return False
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_str(x: Any) -> bool:
    return isinstance(x, str)


def _is_list(x: Any) -> bool:
    return isinstance(x, list)


def _is_dict(x: Any) -> bool:
    return isinstance(x, dict)


_TYPE_CHECKS: dict[str, Check] = {
    "null": _is_null,
    "boolean": _is_bool,
    "integer": _is_int,
    "number": _is_number,
    "string": _is_str,
    "array": _is_list,
    "object": _is_dict,
}


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _true
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks

        def both(x: Any) -> bool:
            return a(x) and b(x)

        return both
    frozen = tuple(checks)

    def every(x: Any) -> bool:
        for c in frozen:
            if not c(x):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        self._refs: dict[str, Check] = {}

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnsupportedSchema(f"non-local $ref {ref!r}")
        node: Any = self._root
        pointer = ref[1:]
        if pointer:
            for raw in pointer.lstrip("/").split("/"):
                part = raw.replace("~1", "/").replace("~0", "~")
                if isinstance(node, Mapping) and part in node:
                    node = node[part]
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    raise UnsupportedSchema(f"unresolvable $ref {ref!r}")
        return node

    def ref(self, ref: str) -> Check:
        found = self._refs.get(ref)
        if found is not None:
            return found
        holder: list[Check] = []

        def lazy(x: Any) -> bool:  # only reached through a recursive $ref
            return holder[0](x)

        self._refs[ref] = lazy
        compiled = self.compile(self._resolve(ref))
        holder.append(compiled)
        self._refs[ref] = compiled
        return compiled

    def compile(self, schema: Any) -> Check:  # noqa: C901 - one branch per keyword
        if schema is True:
            return _true
        if schema is False:
            return _false
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"schema is not an object: {schema!r}")
        for key in schema:
            if key not in _HANDLED and key not in _ANNOTATIONS:
                raise UnsupportedSchema(f"keyword {key!r}")
        checks: list[Check] = []

        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "const" in schema:
            checks.append(self._const(schema["const"]))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        numeric = self._numeric(schema)
        if numeric is not None:
            checks.append(numeric)
        string = self._string(schema)
        if string is not None:
            checks.append(string)
        array = self._array(schema)
        if array is not None:
            checks.append(array)
        obj = self._object(schema)
        if obj is not None:
            checks.append(obj)
        if "anyOf" in schema:
            checks.append(self._any_of([self.compile(s) for s in schema["anyOf"]]))
        if "allOf" in schema:
            checks.append(_all_of([self.compile(s) for s in schema["allOf"]]))
        if "oneOf" in schema:
            checks.append(self._one_of([self.compile(s) for s in schema["oneOf"]]))
        if "not" in schema:
            inner = self.compile(schema["not"])

            def negated(x: Any) -> bool:
                return not inner(x)

            checks.append(negated)
        return _all_of(checks)

    @staticmethod
    def _type(spec: Any) -> Check:
        names = [spec] if isinstance(spec, str) else list(spec)
        try:
            preds = [_TYPE_CHECKS[n] for n in names]
        except (KeyError, TypeError) as exc:
            raise UnsupportedSchema(f"type {spec!r}") from exc
        if len(preds) == 1:
            return preds[0]

        def any_type(x: Any) -> bool:
            return any(p(x) for p in preds)

        return any_type

    @staticmethod
    def _const(value: Any) -> Check:
        if isinstance(value, str):

            def const_str(x: Any) -> bool:
                return x == value if isinstance(x, str) else False

            return const_str

        def const_any(x: Any) -> bool:
            return json_equal(x, value)

        return const_any

    @staticmethod
    def _enum(values: Any) -> Check:
        if not isinstance(values, list):
            raise UnsupportedSchema("enum is not a list")
        if values and all(isinstance(v, str) for v in values):
            allowed = frozenset(values)

            def enum_str(x: Any) -> bool:
                return isinstance(x, str) and x in allowed

            return enum_str
        frozen = tuple(values)

        def enum_any(x: Any) -> bool:
            return any(json_equal(x, v) for v in frozen)

        return enum_any

    @staticmethod
    def _numeric(schema: Mapping[str, Any]) -> Check | None:
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        xlo = schema.get("exclusiveMinimum")
        xhi = schema.get("exclusiveMaximum")
        if lo is None and hi is None and xlo is None and xhi is None:
            return None
        for bound in (lo, hi, xlo, xhi):
            if bound is not None and not _is_number(bound):
                raise UnsupportedSchema("non-numeric bound")

        def bounded(x: Any) -> bool:
            if not _is_number(x):
                return True
            if lo is not None and x < lo:
                return False
            if hi is not None and x > hi:
                return False
            if xlo is not None and x <= xlo:
                return False
            return not (xhi is not None and x >= xhi)

        return bounded

    @staticmethod
    def _string(schema: Mapping[str, Any]) -> Check | None:
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        pattern = schema.get("pattern")
        if min_len is None and max_len is None and pattern is None:
            return None
        regex = re.compile(pattern) if isinstance(pattern, str) else None
        if pattern is not None and regex is None:
            raise UnsupportedSchema("pattern is not a string")

        def string(x: Any) -> bool:
            if not isinstance(x, str):
                return True
            n = len(x)
            if min_len is not None and n < min_len:
                return False
            if max_len is not None and n > max_len:
                return False
            return not (regex is not None and regex.search(x) is None)

        return string

    def _array(self, schema: Mapping[str, Any]) -> Check | None:
        items_schema = schema.get("items")
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        if items_schema is None and min_items is None and max_items is None:
            return None
        if isinstance(items_schema, list):
            raise UnsupportedSchema("array-form items")
        item = self.compile(items_schema) if items_schema is not None else None

        def array(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            n = len(x)
            if min_items is not None and n < min_items:
                return False
            if max_items is not None and n > max_items:
                return False
            if item is not None:
                for v in x:
                    if not item(v):
                        return False
            return True

        return array

    def _object(self, schema: Mapping[str, Any]) -> Check | None:
        props_schema = schema.get("properties")
        required = schema.get("required")
        additional = schema.get("additionalProperties")
        min_props = schema.get("minProperties")
        max_props = schema.get("maxProperties")
        if props_schema is None and required is None and additional is None and min_props is None and max_props is None:
            return None
        props: dict[str, Check] = {}
        if props_schema is not None:
            if not isinstance(props_schema, Mapping):
                raise UnsupportedSchema("properties is not an object")
            for name, sub in props_schema.items():
                props[name] = self.compile(sub)
        req = tuple(required) if required is not None else ()
        extra: Check | None
        if additional is None or additional is True:
            extra = None
        else:
            extra = self.compile(additional)

        def obj(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for r in req:
                if r not in x:
                    return False
            if min_props is not None and len(x) < min_props:
                return False
            if max_props is not None and len(x) > max_props:
                return False
            for k, v in x.items():
                c = props.get(k)
                if c is None:
                    if extra is not None and not extra(v):
                        return False
                elif not c(v):
                    return False
            return True

        return obj

    @staticmethod
    def _any_of(branches: list[Check]) -> Check:
        frozen = tuple(branches)

        def any_of(x: Any) -> bool:
            for c in frozen:
                if c(x):
                    return True
            return False

        return any_of

    @staticmethod
    def _one_of(branches: list[Check]) -> Check:
        frozen = tuple(branches)

        def one_of(x: Any) -> bool:
            return sum(1 for c in frozen if c(x)) == 1

        return one_of


def compile_schema(schema: Any, root: Mapping[str, Any] | None = None) -> Check:
    """Compile ``schema`` (``$ref`` s resolved in ``root``) into a predicate.

    Raises :class:`UnsupportedSchema` for keywords outside the supported subset.
    """
    return _Compiler(root if root is not None else schema).compile(schema)


# --------------------------------------------------------------------------
# jsonschema errors -> FastAPI / pydantic v2 error details
# --------------------------------------------------------------------------

_TYPE_ERRORS: dict[str, tuple[str, str]] = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "null": ("none_required", "Input should be None"),
}


def _fmt_num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ctx_num(value: Any, schema: Any) -> Any:
    declared = schema.get("type") if isinstance(schema, Mapping) else None
    if declared == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fmt_expected(values: Sequence[Any]) -> str:
    parts = [f"'{v}'" if isinstance(v, str) else _fmt_num(v) for v in values]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _loc(path: Sequence[Any]) -> list[Any]:
    return ["body", *path]


def _detail(err: Any) -> list[ErrorDetail]:  # noqa: C901 - one branch per keyword
    kw = err.validator
    value = err.validator_value
    inst = err.instance
    loc = _loc(list(err.absolute_path))
    if kw == "required":
        missing = [p for p in value if isinstance(inst, dict) and p not in inst]
        return [{"type": "missing", "loc": [*loc, p], "msg": "Field required", "input": inst} for p in missing]
    if kw == "type":
        names = [value] if isinstance(value, str) else list(value)
        first = next((n for n in names if n != "null"), names[0] if names else "object")
        if first == "integer" and isinstance(inst, float) and not isinstance(inst, bool):
            return [
                {
                    "type": "int_from_float",
                    "loc": loc,
                    "msg": "Input should be a valid integer, got a number with a fractional part",
                    "input": inst,
                }
            ]
        if first == "object" and len(loc) == 1:
            return [
                {
                    "type": "model_attributes_type",
                    "loc": loc,
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": inst,
                }
            ]
        etype, msg = _TYPE_ERRORS.get(first, ("value_error", str(err.message)))
        return [{"type": etype, "loc": loc, "msg": msg, "input": inst}]
    if kw in ("const", "enum"):
        values = [value] if kw == "const" else list(value)
        expected = _fmt_expected(values)
        return [
            {
                "type": "literal_error",
                "loc": loc,
                "msg": f"Input should be {expected}",
                "input": inst,
                "ctx": {"expected": expected},
            }
        ]
    bounds = {
        "maximum": ("less_than_equal", "less than or equal to", "le"),
        "minimum": ("greater_than_equal", "greater than or equal to", "ge"),
        "exclusiveMaximum": ("less_than", "less than", "lt"),
        "exclusiveMinimum": ("greater_than", "greater than", "gt"),
    }
    if kw in bounds:
        etype, words, key = bounds[kw]
        return [
            {
                "type": etype,
                "loc": loc,
                "msg": f"Input should be {words} {_fmt_num(value)}",
                "input": inst,
                "ctx": {key: _ctx_num(value, err.schema)},
            }
        ]
    if kw == "minItems":
        n = len(inst) if isinstance(inst, list) else 0
        return [
            {
                "type": "too_short",
                "loc": loc,
                "msg": f"List should have at least {_plural(int(value), 'item')} after validation, not {n}",
                "input": inst,
                "ctx": {"field_type": "List", "min_length": int(value), "actual_length": n},
            }
        ]
    if kw == "maxItems":
        n = len(inst) if isinstance(inst, list) else 0
        return [
            {
                "type": "too_long",
                "loc": loc,
                "msg": f"List should have at most {_plural(int(value), 'item')} after validation, not {n}",
                "input": inst,
                "ctx": {"field_type": "List", "max_length": int(value), "actual_length": n},
            }
        ]
    if kw == "minLength":
        return [
            {
                "type": "string_too_short",
                "loc": loc,
                "msg": f"String should have at least {_plural(int(value), 'character')}",
                "input": inst,
                "ctx": {"min_length": int(value)},
            }
        ]
    if kw == "maxLength":
        return [
            {
                "type": "string_too_long",
                "loc": loc,
                "msg": f"String should have at most {_plural(int(value), 'character')}",
                "input": inst,
                "ctx": {"max_length": int(value)},
            }
        ]
    if kw == "additionalProperties" and value is False:
        return [{"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted", "input": inst}]
    return [{"type": "value_error", "loc": loc, "msg": str(err.message), "input": inst}]


def _depth(err: Any) -> int:
    return len(err.absolute_path)


def _branches(err: Any) -> list[list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for sub in err.context:
        rel = list(sub.relative_schema_path)
        index = rel[0] if rel and isinstance(rel[0], int) else 0
        grouped.setdefault(index, []).append(sub)
    return [grouped[i] for i in sorted(grouped)]


def _flatten(err: Any) -> list[ErrorDetail]:
    """Turn one jsonschema error into FastAPI details, resolving ``anyOf``.

    For an ``anyOf``/``oneOf`` failure the most useful branch is chosen:
    branches whose *type* does not even match the instance (e.g. the ``null``
    branch of an ``Optional``) and branches rejected by a discriminator-like
    ``const``/``enum`` one level down (e.g. ``role``) are set aside; among the
    rest the branch with the fewest errors wins.  If every branch was rejected
    by the same discriminator, one ``literal_error`` lists the accepted values.
    """
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        return _detail(err)
    base = _depth(err)
    branches = _branches(err)

    def wrong_type(errs: list[Any]) -> bool:
        return any(e.validator == "type" and _depth(e) == base for e in errs)

    def wrong_kind(errs: list[Any]) -> bool:
        return any(e.validator in ("const", "enum") and _depth(e) == base + 1 for e in errs)

    candidates = [b for b in branches if not wrong_type(b) and not wrong_kind(b)]
    if candidates:
        best = min(candidates, key=len)
        out: list[ErrorDetail] = []
        for e in best:
            out.extend(_flatten(e))
        return out
    kinds = [b for b in branches if not wrong_type(b)]
    if kinds:
        discs = [e for b in kinds for e in b if e.validator in ("const", "enum") and _depth(e) == base + 1]
        paths = {tuple(e.absolute_path) for e in discs}
        if len(paths) == 1:
            expected_values: list[Any] = []
            for e in discs:
                vals = [e.validator_value] if e.validator == "const" else list(e.validator_value)
                for v in vals:
                    if not any(json_equal(v, seen) for seen in expected_values):
                        expected_values.append(v)
            expected = _fmt_expected(expected_values)
            return [
                {
                    "type": "literal_error",
                    "loc": _loc(list(discs[0].absolute_path)),
                    "msg": f"Input should be {expected}",
                    "input": discs[0].instance,
                    "ctx": {"expected": expected},
                }
            ]
        out = []
        for e in kinds[0]:
            out.extend(_flatten(e))
        return out
    for b in branches:
        for e in b:
            if e.validator == "type" and e.validator_value != "null":
                return _detail(e)
    return _detail(branches[0][0]) if branches and branches[0] else _detail(err)


def to_fastapi(errors: list[Any]) -> list[ErrorDetail]:
    """Map jsonschema errors to FastAPI ``detail`` entries (deduplicated)."""
    out: list[ErrorDetail] = []
    seen: set[tuple[str, str, str]] = set()
    for err in errors:
        for d in _flatten(err):
            key = (json.dumps(d["loc"]), d["type"], d["msg"])
            if key not in seen:
                seen.add(key)
                out.append(d)
    return out


class BodyValidator:
    """Validate request bodies against one ``components.schemas`` entry."""

    def __init__(self, schema_name: str, spec: dict[str, Any] | None = None) -> None:
        doc = spec if spec is not None else load_spec()
        schemas = doc.get("components", {}).get("schemas", {})
        if schema_name not in schemas:
            raise KeyError(f"schema {schema_name!r} not in the OpenAPI document")
        self.schema_name = schema_name
        # The whole document is the root resource, so every "#/components/..."
        # reference resolves exactly as written in the spec.
        root = dict(doc)
        root["$ref"] = f"#/components/schemas/{schema_name}"
        self._jsonschema: Any = jsonschema.Draft202012Validator(root)
        self._fast: Check | None
        try:
            self._fast = compile_schema(schemas[schema_name], doc)
        except UnsupportedSchema:
            self._fast = None

    @property
    def compiled(self) -> bool:
        """Whether the fast compiled checker is in use."""
        return self._fast is not None

    def is_valid_fast(self, body: Any) -> bool | None:
        """The compiled checker's verdict (None if the schema is not compiled)."""
        return None if self._fast is None else self._fast(body)

    def is_valid_jsonschema(self, body: Any) -> bool:
        return bool(self._jsonschema.is_valid(body))

    def validate(self, body: Any) -> list[ErrorDetail] | None:
        """``None`` if ``body`` is valid, else FastAPI-style error details."""
        if self._fast is not None and self._fast(body):
            return None
        errors = list(self._jsonschema.iter_errors(body))
        if not errors:
            return None
        return to_fastapi(errors)


def json_decode_error(exc: ValueError) -> list[ErrorDetail]:
    """FastAPI's detail for a body that is not JSON."""
    pos = getattr(exc, "pos", 0)
    msg = getattr(exc, "msg", None) or str(exc)
    return [
        {
            "type": "json_invalid",
            "loc": ["body", pos],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": msg},
        }
    ]


def missing_body_error() -> list[ErrorDetail]:
    return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]


_validators: dict[str, BodyValidator] = {}


def get_validator(schema_name: str) -> BodyValidator:
    """Process-wide cached validator for ``schema_name``."""
    v = _validators.get(schema_name)
    if v is None:
        v = BodyValidator(schema_name)
        _validators[schema_name] = v
    return v


CHAT_SCHEMA = "ChatCompletionRequest"
COMPLETION_SCHEMA = "CompletionRequest"

__all__ = [
    "CHAT_SCHEMA",
    "COMPLETION_SCHEMA",
    "SPEC_PATH",
    "BodyValidator",
    "UnsupportedSchema",
    "compile_schema",
    "get_validator",
    "json_decode_error",
    "json_equal",
    "load_spec",
    "missing_body_error",
    "to_fastapi",
]
