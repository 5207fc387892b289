"""Request bodies accept what JSON Schema calls an integer.

Bodies are strict (`schemas.Body`), and a strict int refuses `24.0`, which
JSON Schema's `integer` includes: a client following the document (the fuzzer
did) got a 422. Every integer field of every body must take it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError

import sandpit.api
from sandpit.api.schemas import Body


def _bodies(cls: type[Body] = Body) -> Iterator[type[Body]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _bodies(sub)


def _integer_fields() -> list[tuple[str, Any]]:
    for module in pkgutil.iter_modules(sandpit.api.__path__):
        importlib.import_module(f"sandpit.api.{module.name}")
    found = []
    for body in _bodies():
        properties = body.model_json_schema()["properties"]
        for name, field in body.model_fields.items():
            schema = properties[field.alias or name]
            types = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
            if "integer" in types:
                found.append((f"{body.__name__}.{name}", field))
    return found


FIELDS = _integer_fields()


def test_the_bodies_have_integer_fields() -> None:
    # Guards the parametrization below against finding nothing.
    assert len(FIELDS) >= 3


@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[n for n, _ in FIELDS])
def test_an_integral_float_is_an_integer(name: str, field: Any) -> None:
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[annotation, *field.metadata]
    adapter: TypeAdapter[Any] = TypeAdapter(annotation, config=ConfigDict(strict=True))
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    value = float(low if low is not None else 1)
    assert adapter.validate_python(value) == int(value)
    with pytest.raises(ValidationError):
        adapter.validate_python(str(int(value)))
