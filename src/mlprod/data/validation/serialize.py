"""Schemas to and from JSON and YAML, through pydantic models that validate the input.

The written form is small and hand-editable: options at their defaults are
left out, and a check is ``{"check": "<kind>", **parameters}``. Timestamps
are written as ``{"$timestamp": "<ISO 8601>"}`` and non-finite floats as
``{"$float": "inf"}``, so every built-in check and option round-trips.

Examples
--------
>>> import mlprod as mp
>>> print(mp.Schema({"age": mp.Column("int64", checks=[mp.checks.ge(0)])}).to_yaml(), end="")
columns:
  age:
    checks:
    - check: ge
      value: 0
    dtype: int64
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlprod.data.validation import checks as _checks
from mlprod.data.validation.schema import Column, Schema
from mlprod.errors import ConfigurationError, SerializationError

__all__ = [
    "CheckModel",
    "ColumnModel",
    "SchemaModel",
    "column_to_dict",
    "schema_from_dict",
    "schema_from_json",
    "schema_from_yaml",
    "schema_to_dict",
    "schema_to_json",
    "schema_to_yaml",
]

FORMAT_VERSION = 1


class CheckModel(BaseModel):
    """One check: its kind under ``check``, its parameters alongside."""

    model_config = ConfigDict(extra="allow", frozen=True)
    check: str


class ColumnModel(BaseModel):
    """One column's declaration."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dtype: str | None = None
    nullable: bool = False
    unique: bool = False
    required: bool = True
    coerce: bool = False
    categories: list[Any] | None = None
    ordered: bool = False
    checks: list[CheckModel] = Field(default_factory=list)
    description: str | None = None


class SchemaModel(BaseModel):
    """A whole schema as written to JSON/YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mlprod_schema: int = FORMAT_VERSION
    name: str | None = None
    columns: dict[str, ColumnModel] = Field(default_factory=dict)
    strict: bool = False
    ordered: bool = False
    coerce: bool = False
    unique: list[str] | None = None
    checks: list[CheckModel] = Field(default_factory=list)


def _encode(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": str(value)}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"$timestamp"}:
            return pd.Timestamp(value["$timestamp"])
        if set(value) == {"$float"}:
            return float(value["$float"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _check_to_dict(check: Any, *, where: str) -> dict[str, Any]:
    if not isinstance(check, _checks.BuiltinCheck):
        name = _checks.check_name(check)
        raise SerializationError(
            f"Check {name!r} on {where} is a custom function and cannot be serialised: "
            "use a built-in from mp.checks instead, or rebuild the schema without it "
            "before saving (it is not dropped silently).",
            obj_type=type(check).__name__,
            serializer="schema",
        )
    return {k: _encode(v) for k, v in check.to_dict().items()}


def column_to_dict(column: Column, *, name: str = "a column") -> dict[str, Any]:
    """A column as plain data, options at their defaults left out."""
    model = ColumnModel(
        dtype=column.dtype,
        nullable=column.nullable,
        unique=column.unique,
        required=column.required,
        coerce=column.coerce,
        categories=_encode(list(column.categories)) if column.categories is not None else None,
        ordered=column.ordered,
        checks=[CheckModel(**_check_to_dict(c, where=f"column {name!r}")) for c in column.checks],
        description=column.description,
    )
    return model.model_dump(exclude_defaults=True)


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """A schema as plain data (the content of its JSON/YAML form)."""
    model = SchemaModel(
        name=schema.name,
        columns={},
        strict=schema.strict,
        ordered=schema.ordered,
        coerce=schema.coerce,
        unique=list(schema.unique) if schema.unique else None,
        checks=[CheckModel(**_check_to_dict(c, where="the schema")) for c in schema.checks],
    )
    out = model.model_dump(exclude_defaults=True)
    out["columns"] = {name: column_to_dict(col, name=name) for name, col in schema.columns.items()}
    return dict(sorted(out.items()))


def _explain(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err["loc"]) or "<top>"
        problems.append(f"{where}: {err['msg']}")
    return "; ".join(problems)


def schema_from_dict(data: Mapping[str, Any]) -> Schema:
    """Rebuild a schema from plain data, reporting every malformed field at once."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"A schema document must be a mapping with a 'columns' key, got {type(data).__name__}.",
            parameter="schema",
        )
    try:
        model = SchemaModel.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigurationError(
            f"Malformed schema: {_explain(exc)}. Fix these fields (see docs/validation.md "
            "for the format).",
            parameter="schema",
        ) from None
    if model.mlprod_schema > FORMAT_VERSION:
        raise ConfigurationError(
            f"Schema format {model.mlprod_schema} is newer than this mlprod reads "
            f"({FORMAT_VERSION}): upgrade mlprod.",
            parameter="mlprod_schema",
            value=model.mlprod_schema,
        )

    def build_checks(specs: list[CheckModel]) -> list[Any]:
        return [_checks.from_dict(_decode(spec.model_dump())) for spec in specs]

    columns = {}
    for name, col in model.columns.items():
        try:
            columns[name] = Column(
                col.dtype,
                nullable=col.nullable,
                unique=col.unique,
                required=col.required,
                coerce=col.coerce,
                categories=_decode(col.categories) if col.categories is not None else None,
                ordered=col.ordered,
                checks=build_checks(col.checks),
                description=col.description,
            )
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"Column {name!r}: {exc.message}", parameter=exc.parameter, value=exc.value
            ) from None
    return Schema(
        columns,
        strict=model.strict,
        ordered=model.ordered,
        coerce=model.coerce,
        unique=model.unique,
        checks=build_checks(model.checks),
        name=model.name,
    )


def schema_to_json(schema: Schema, *, indent: int | None = 2) -> str:
    """The schema as JSON text."""
    return json.dumps(schema_to_dict(schema), indent=indent, ensure_ascii=False, allow_nan=False)


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def schema_from_json(text: str | bytes) -> Schema:
    """Read a schema from JSON text."""
    try:
        data = json.loads(_text(text))
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"Schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            parameter="schema",
        ) from None
    return schema_from_dict(data)


def schema_to_yaml(schema: Schema) -> str:
    """The schema as YAML text."""
    import yaml

    return yaml.safe_dump(schema_to_dict(schema), sort_keys=True, allow_unicode=True)


def schema_from_yaml(text: str | bytes) -> Schema:
    """Read a schema from YAML text (JSON is YAML too)."""
    import yaml

    try:
        data = yaml.safe_load(_text(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationError(
            f"Schema is not valid YAML{where}: {getattr(exc, 'problem', exc)}.",
            parameter="schema",
        ) from None
    return schema_from_dict(data)
