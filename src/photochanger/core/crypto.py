"""Authenticated encryption of small secrets at rest: AES-256-GCM under a key derived from the server's
`PHOTOCHANGER_SECRET_KEY` (HKDF-SHA256), each ciphertext bound to the row it belongs to."""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Layout of a stored value: one version byte, the 96-bit nonce, then ciphertext + 128-bit tag.
_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """The stored value was not made with this secret key for this context (or was altered)."""


class SecretBox:
    """Encrypts and decrypts short strings. `context` (e.g. the row's id) is authenticated but not stored:
    a ciphertext copied onto another row does not decrypt."""

    def __init__(self, secret: str, *, purpose: str = "provider-keys") -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"photochanger:{purpose}:v1".encode()
        ).derive(secret.encode("utf-8"))
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
            raise SecretUnreadable("not a value this server stored")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, context.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise SecretUnreadable("wrong secret key, or the value was altered") from None
