"""What several admin pages show alike: the catalogue's provider and operation titles in the viewer's
language."""

from fastapi import Request

from photochanger.admin.rendering import translator
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import service as slots_service


def catalogue_titles(request: Request, providers: ProviderRegistry) -> dict[tuple[str, str], str]:
    """(provider id, operation id) -> "Provider · Operation", translated."""
    t = translator(request)
    titles: dict[tuple[str, str], str] = {}
    for provider in slots_service.catalogue(providers):
        for op in provider.operations:
            titles[(provider.id, op.id)] = f"{t.gettext(provider.title)} · {t.gettext(op.title)}"
    return titles
