"""Reading a project config (YAML or JSON) into a checked ProjectConfig, or precise errors."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from depictio.errors import InvalidArgument
from depictio.projects.checks import Violation, cross_field_violations, expand_locations
from depictio.projects.config_models import ProjectConfig

MAX_CONFIG_BYTES = 2 * 1024 * 1024
M = TypeVar("M", bound=BaseModel)


class ConfigInvalid(InvalidArgument):
    """A config that does not validate; `violations` are (field path, what was expected)."""

    def __init__(self, violations: Sequence[Violation], subject: str = "project config") -> None:
        self.violations = list(violations)
        lines = [
            f"{path}: {description}" if path else description for path, description in violations
        ]
        super().__init__("; ".join(lines) if lines else f"{subject} is invalid")


def format_path(location: Sequence[int | str]) -> str:
    """'workflows[0].data_collections[1].config' from ('workflows', 0, 'data_collections', …)."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, list, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for argument in typing.get_args(annotation):
            found += _models_in(argument)
    return found


def allowed_keys(root: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    """The keys the model at `location` (the parent of an unknown key) accepts."""
    models = [root]
    for part in location:
        if isinstance(part, int):
            continue
        next_models: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(part)
            if field is not None:
                next_models += _models_in(field.annotation)
        models = next_models or models
    return sorted({name for model in models for name in model.model_fields})


def describe_error(root: type[BaseModel], error: Mapping[str, Any]) -> Violation:
    """(path, description) of one pydantic error, worded for the person editing the file."""
    location = [part for part in error["loc"] if not str(part).startswith("function-")]
    path = format_path(location)
    kind = error["type"]
    if kind == "missing":
        return path, "required"
    if kind == "extra_forbidden":
        expected = ", ".join(allowed_keys(root, location[:-1]))
        return path, f"unknown key (expected one of: {expected})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "string_pattern_mismatch", "string_type", "int_parsing"):
        message = f"{message[0].lower()}{message[1:]}, got {error.get('input')!r}"
    return path, message


def violations_of(root: type[BaseModel], error: ValidationError) -> list[Violation]:
    """Every problem pydantic found, in document order, without repeats."""
    found: list[Violation] = []
    for item in error.errors():
        described = describe_error(root, item)
        if described not in found:
            found.append(described)
    return found


def load_config_text(text: str, config_format: str = "yaml", subject: str = "config") -> Any:
    """The data of a YAML or JSON text; errors name the line."""
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise InvalidArgument(f"{subject}: larger than {MAX_CONFIG_BYTES} bytes")
    if not text.strip():
        raise InvalidArgument(f"{subject}: empty")
    try:
        if config_format == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{subject}: not valid JSON: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{subject}: not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise InvalidArgument(f"{subject}: nested too deeply to be read") from exc


def validated(
    model: type[M], data: Any, subject: str, error: type[ConfigInvalid] = ConfigInvalid
) -> M:
    """`data` as a `model` instance; `error` lists every problem by field path otherwise."""
    if not isinstance(data, dict):
        raise error([("", f"a {subject} is a mapping, got {type(data).__name__}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(violations_of(model, exc)) from exc


def validate_project_config(data: Any, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    """A ProjectConfig from parsed data, {ENV} placeholders expanded; ConfigInvalid otherwise."""
    config = validated(ProjectConfig, data, "project config")
    problems = cross_field_violations(config) + expand_locations(config, environ)
    if problems:
        raise ConfigInvalid(problems)
    return config


def parse_project_config(
    text: str, config_format: str = "yaml", environ: Mapping[str, str] | None = None
) -> ProjectConfig:
    """A checked ProjectConfig from YAML or JSON text."""
    return validate_project_config(load_config_text(text, config_format, "project config"), environ)
