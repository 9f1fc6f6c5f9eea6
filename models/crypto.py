"""Encryption at rest for SSPF case data: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

The keys come from the environment (``SAMORDNA_SSPF_KEYS``, comma-separated, newest first) or from a
file such as a mounted secret (``SAMORDNA_SSPF_KEY_FILE``, one key per line, newest first); they never
reach the database. The newest key encrypts; every listed key decrypts, so a new key can be put first
while old rows are still readable, and ``rotate`` re-encrypts a value under the newest key.

A stored value is the Fernet token as text. Messages never repeat a key or a plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import Settings


class KeyringError(ValueError):
    """The keys are missing, malformed, or do not open a stored value; the message is Swedish."""


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode("ascii")


@dataclass(frozen=True, slots=True)
class Keyring:
    """The SSPF keys, newest first."""

    keys: tuple[str, ...]

    @classmethod
    def from_sources(cls, keys: str, key_file: Path | None) -> Keyring:
        """Keys from a comma-separated text and/or a file with one per line (the text's first)."""
        found = [key.strip() for key in keys.split(",") if key.strip()]
        if key_file is not None:
            try:
                lines = key_file.read_text(encoding="utf-8").splitlines()
            except OSError:
                raise KeyringError(f"nyckelfilen {key_file} går inte att läsa.") from None
            found.extend(line.strip() for line in lines if line.strip() and not line.startswith("#"))
        if not found:
            raise KeyringError(
                "ingen krypteringsnyckel för SSPF-data. Sätt SAMORDNA_SSPF_KEYS "
                "(eller SAMORDNA_SSPF_KEY_FILE); "
                "en ny nyckel skapas med: samordna sspf nyckel ny"
            )
        for position, key in enumerate(found, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise KeyringError(
                    f"nyckel {position} är ingen giltig Fernet-nyckel (44 tecken base64)."
                ) from None
        return cls(tuple(dict.fromkeys(found)))

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """The keys the settings name (SAMORDNA_SSPF_KEYS, then SAMORDNA_SSPF_KEY_FILE)."""
        return cls.from_sources(settings.sspf_keys.get_secret_value(), settings.sspf_key_file)

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])

    def encrypt(self, plaintext: str | None) -> str | None:
        """The token of ``plaintext`` under the newest key; None stays None."""
        if plaintext is None:
            return None
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        """The plaintext of a stored token; None stays None."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise KeyringError(
                "krypterade uppgifter kan inte öppnas med de nycklar som är angivna "
                "(saknas en äldre nyckel i SAMORDNA_SSPF_KEYS?)."
            ) from None

    def rotate(self, token: str | None) -> str | None:
        """The same plaintext re-encrypted under the newest key."""
        if token is None:
            return None
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise KeyringError(
                "ett krypterat värde kan inte öppnas med någon av de angivna nycklarna."
            ) from None

    def is_current(self, token: str | None) -> bool:
        """Whether ``token`` is encrypted under the newest key."""
        if token is None:
            return True
        try:
            Fernet(self.keys[0]).decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True
