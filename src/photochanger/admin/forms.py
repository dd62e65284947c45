"""Form fields generated from an operation's JSON Schema (as served by the provider catalogue), and the
conversion of a submitted HTML form back into the `params` object the slot API validates."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

PARAM_PREFIX = "param."
_COLOR = "^#[0-9a-fA-F]{6}$"
_LONG_TEXT = 300


@dataclass
class FormField:
    """One input of the generated form; `kind` selects the widget in the template."""

    name: str
    kind: str  # bool | int | number | enum | media | media_list | textarea | text | color | lines
    title: str
    description: str
    required: bool
    value: Any = None
    options: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    nullable: bool = False
    error: str | None = None
    needs_transparency: bool = False

    @property
    def input_name(self) -> str:
        return PARAM_PREFIX + self.name

    @property
    def step(self) -> str:
        return "1" if self.kind == "int" else "any"


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property with `$ref`/`allOf` inlined and `anyOf [X, null]` unwrapped; True when null is allowed."""
    out = dict(prop)
    nullable = False
    if "anyOf" in out:
        variants = [v for v in out.pop("anyOf") if v.get("type") != "null"]
        nullable = len(variants) < len(prop["anyOf"])
        if variants:
            out = {**variants[0], **out}
    if "allOf" in out and len(out["allOf"]) == 1:
        out = {**out.pop("allOf")[0], **out}
    ref = out.pop("$ref", None)
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        out = {**target, **{k: v for k, v in out.items() if k not in ("title",) or "title" not in target}}
        out.update({k: v for k, v in prop.items() if k in ("title", "description", "default")})
    return out, nullable


def _kind(name: str, prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if prop.get("x-template-media"):
        return "media_list" if kind == "array" else "media"
    if "enum" in prop:
        return "enum"
    if kind == "boolean":
        return "bool"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "number"
    if kind == "array":
        return "lines"
    if prop.get("pattern") == _COLOR:
        return "color"
    if (prop.get("maxLength") or 0) > _LONG_TEXT or "prompt" in name:
        return "textarea"
    return "text"


def build_fields(
    schema: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, str] | None = None
) -> list[FormField]:
    """The schema's properties as form fields, filled from `values` (else the schema default)."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    errors = errors or {}
    fields: list[FormField] = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _resolve(raw, defs)
        kind = _kind(name, prop)
        value = values.get(name, prop.get("default"))
        if kind in ("media_list", "lines") and not isinstance(value, list):
            value = [] if value in (None, "") else [value]
        fields.append(
            FormField(
                name=name,
                kind=kind,
                title=str(prop.get("title") or name),
                description=str(prop.get("description") or ""),
                required=name in required,
                value=value,
                options=[str(option) for option in prop.get("enum", [])],
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                max_length=prop.get("maxLength"),
                nullable=nullable,
                error=errors.get(name),
                needs_transparency=bool(prop.get("x-needs-transparency")),
            )
        )
    return fields


def parse_params(schema: Mapping[str, Any], form: FormData) -> dict[str, Any]:
    """`param.<name>` form values converted to the schema's types. Blank optional inputs are left out so the
    operation's defaults apply; unparseable numbers are passed through for the API to reject per field."""
    params: dict[str, Any] = {}
    for item in build_fields(schema, {}):
        key = item.input_name
        if item.kind == "bool":
            params[item.name] = form.get(key) == "on"
            continue
        if item.kind in ("media_list", "lines"):
            raw_items: Sequence[Any] = form.getlist(key)
            if item.kind == "lines":
                raw_items = [line for value in raw_items for line in str(value).splitlines()]
            cleaned = [str(v).strip() for v in raw_items if str(v).strip()]
            if cleaned or key in form or key + ".present" in form:
                params[item.name] = cleaned
            continue
        raw = form.get(key)
        if not isinstance(raw, str):
            continue
        text = raw.strip() if item.kind != "textarea" else raw.strip("\r\n ")
        if not text:
            continue
        if item.kind == "int":
            params[item.name] = int(text) if re.fullmatch(r"[+-]?\d+", text) else text
        elif item.kind == "number":
            try:
                params[item.name] = float(text)
            except ValueError:
                params[item.name] = text
        else:
            params[item.name] = text
    return params


def problem_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """A form model's validation errors as the problem `errors` entries the API sends (dotted field, type,
    message), so a page shows them as it shows the service's."""
    return [
        {"field": ".".join(str(part) for part in err["loc"]), "type": err["type"], "msg": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def field_errors(
    errors: ValidationError | Sequence[Mapping[str, Any]] | None,
) -> dict[str, dict[str, str]]:
    """A form model's validation errors, or problem `errors` entries, grouped as
    {"params": {name: type|msg}, "": {field: type|msg}}: the first error per field wins, keyed by the
    top-level parameter (list indexes folded into their field). The one place a page's field errors come
    from; `rendering.field_messages` words them."""
    if isinstance(errors, ValidationError):
        errors = problem_errors(errors)
    out: dict[str, dict[str, str]] = {"params": {}, "": {}}
    for error in errors or []:
        parts = str(error.get("field", "")).split(".")
        if parts and parts[0] == "settings":
            parts = parts[1:]
        message = f"{error.get('type', '')}|{error.get('msg', '')}"
        if len(parts) >= 2 and parts[0] == "params":
            out["params"].setdefault(parts[1], message)
        elif parts and parts[0]:
            out[""].setdefault(parts[0], message)
    return out
