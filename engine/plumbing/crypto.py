"""Encryption at rest for Trakt tokens (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from engine.values.errors import ConfigError


class TokenCipher:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as e:
            raise ConfigError(
                "MULTITUDES_SECRET_KEY is not a valid key",
                user_message="MULTITUDES_SECRET_KEY must be a Fernet key: 32 url-safe base64 bytes. "
                "Generate one with `multitudes keygen`.",
            ) from e

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, payload: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(payload, sort_keys=True).encode())

    def decrypt(self, blob: bytes) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(blob))
        except InvalidToken as e:
            raise ConfigError(
                "stored token cannot be decrypted",
                user_message="Stored Trakt tokens cannot be decrypted: MULTITUDES_SECRET_KEY changed. "
                "Restore the old key or ask people to /link again.",
            ) from e
        return data
