"""The board's optional access password: only its SHA-256 lives in the environment, never the password.

Make the hash with `python -c "import hashlib;print(hashlib.sha256(b'...').hexdigest())"` and set
`WXRISK_BOARD_PASSWORD_SHA256` to it; unset, the board is open.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from wxrisk.config import WxriskError

PASSWORD_ENV = "WXRISK_BOARD_PASSWORD_SHA256"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def expected_sha256(environ: Mapping[str, str]) -> str | None:
    """The configured password hash (lower-case hex), or None when the board has no password."""
    value = environ.get(PASSWORD_ENV, "").strip().lower()
    if not value:
        return None
    if not _SHA256_HEX.fullmatch(value):
        raise WxriskError(f"{PASSWORD_ENV}: not a SHA-256 hex digest (64 hex digits, got {len(value)} characters)")
    return value


def password_matches(password: str, sha256_hex: str) -> bool:
    """Whether `password` hashes to `sha256_hex` (compared in constant time)."""
    entered = hashlib.sha256(password.encode("utf-8")).hexdigest()
    return hmac.compare_digest(entered, sha256_hex)
