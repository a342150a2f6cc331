"""A tool's options (``retouch.tools.options``) as the HTTP API takes them: one pydantic model of form fields,
checked on arrival (422 on a bad value), and the keywords the tool function is called with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from retouch.tools.options import Option


def form_model(name: str, options: tuple[Option, ...]) -> type[BaseModel]:
    """The pydantic model named ``name`` whose fields are ``options``, by their form names."""
    fields: dict[str, Any] = {option.form_name: (_annotation(option), _field(option)) for option in options}
    return create_model(name, **fields)


def tool_arguments(options: tuple[Option, ...], values: BaseModel) -> dict[str, Any]:
    """The validated ``values`` as the tool function's keywords."""
    return {option.name: option.argument(getattr(values, option.form_name)) for option in options}


def _annotation(option: Option) -> Any:
    kind: Any = Literal[option.choices] if option.choices else option.kind
    return kind | None if option.default is None else kind


def _field(option: Option) -> Any:
    bounds = option.http_range
    low = None if bounds is None else bounds.low
    above = bounds is not None and bounds.above
    return Field(
        option.default,
        description=option.help,
        ge=None if above else low,
        gt=low if above else None,
        le=None if bounds is None else bounds.high,
        max_length=option.max_length,
    )
