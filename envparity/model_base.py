"""What every envparity model shares: frozen pydantic models that refuse unknown fields, and the
``instance`` marker of a field that describes one process or machine, not the environment."""

from __future__ import annotations

from typing import Any, Dict, Union

from pydantic import BaseModel, ConfigDict, Field

# A JSON scalar: what framework switches and declared seeds hold.
Scalar = Union[bool, int, float, str, None]

_INSTANCE: Dict[str, Any] = {"instance": True}


def _instance(default: Any = None, **kwargs: Any) -> Any:
    """A field that describes this process or machine, not the environment."""
    if "default_factory" in kwargs:
        return Field(json_schema_extra=_INSTANCE, **kwargs)
    return Field(default, json_schema_extra=_INSTANCE, **kwargs)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
