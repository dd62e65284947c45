"""PhotoChanger: a self-hosted photo-processing server for photo booths."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("photochanger")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
