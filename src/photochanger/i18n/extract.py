"""A pybabel extraction method for the strings that reach the UI as data rather than as literals: provider
and operation titles, the parameter schemas' titles, help texts and option values (context `option`), and
the titles of every problem the API can answer with.

`babel.cfg` maps it onto `providers/registry.py`; the file's text is not read: the registry the app builds is
walked instead, so a parameter another change adds is extracted without touching this module."""

from collections.abc import Collection, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from photochanger.core.errors import PhotoChangerError

Extracted = tuple[int, str, str | tuple[str, ...], list[str]]


def _schema_messages(schema: Mapping[str, Any]) -> Iterator[tuple[str, str | tuple[str, ...]]]:
    from photochanger.admin.forms import build_fields

    if schema.get("description"):
        yield "gettext", str(schema["description"])
    for field in build_fields(schema, {}):
        yield "gettext", field.title
        if field.description:
            yield "gettext", field.description
        for option in field.options:
            yield "pgettext", ("option", option)


def _subclasses(cls: "type[PhotoChangerError]") -> "Iterator[type[PhotoChangerError]]":
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def ui_messages() -> Iterator[tuple[str, str | tuple[str, ...]]]:
    """(gettext keyword, message) for every data string the admin and guest pages show."""
    import httpx

    from photochanger.app import build_providers
    from photochanger.config import AppConfig
    from photochanger.core.errors import PhotoChangerError
    from photochanger.slots.service import catalogue

    registry = build_providers(AppConfig(), httpx.AsyncClient())
    for provider in catalogue(registry):
        yield "gettext", provider.title
        for operation in provider.operations:
            yield "gettext", operation.title
            yield from _schema_messages(operation.params_schema)
    # Only the product's own errors: a test module may define subclasses in the same process.
    errors = [cls for cls in _subclasses(PhotoChangerError) if cls.__module__.startswith("photochanger.")]
    for error in sorted(errors, key=lambda cls: cls.__qualname__):
        yield "gettext", error.title


def extract_ui_data(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """Babel extraction method (`module:function` in babel.cfg)."""
    seen: set[tuple[str, str | tuple[str, ...]]] = set()
    for funcname, message in ui_messages():
        if message and (funcname, message) not in seen:
            seen.add((funcname, message))
            yield 0, funcname, message, []
