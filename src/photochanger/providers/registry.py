"""Explicit registry of provider drivers, built once in the composition root."""

from collections.abc import Iterator

from photochanger.providers.base import Operation, Provider


class UnknownProvider(KeyError):
    pass


class UnknownOperation(KeyError):
    pass


class ProviderRegistry:
    def __init__(self, *providers: Provider) -> None:
        self._providers: dict[str, Provider] = {}
        for provider in providers:
            self.register(provider)

    def register(self, provider: Provider) -> None:
        if provider.id in self._providers:
            raise ValueError(f"provider {provider.id!r} registered twice")
        self._providers[provider.id] = provider

    def get(self, provider_id: str) -> Provider:
        try:
            return self._providers[provider_id]
        except KeyError:
            raise UnknownProvider(provider_id) from None

    def operation(self, provider_id: str, operation_id: str) -> Operation:
        provider = self.get(provider_id)
        try:
            return provider.operations[operation_id]
        except KeyError:
            raise UnknownOperation(f"{provider_id}.{operation_id}") from None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._providers
