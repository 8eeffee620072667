"""Safe downloads shared by every source: time-outs, back-off retries, size checks, atomic files, cache.

Retried: connection errors, time-outs, bodies shorter than announced, HTTP 5xx.
Never retried: HTTP 4xx (a 404 means the forecast is not published yet: one request, one clear line).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

import requests

from wxrisk import __version__
from wxrisk.config import Settings, WxriskError
from wxrisk.vocab import atomic_path, atomic_write_bytes

USER_AGENT = f"wxrisk/{__version__} (road weather risk; python-requests)"


class NotPublishedError(WxriskError):
    """The server answered 404: the forecast asked for is not (yet) published."""


class SourceUnavailableError(WxriskError):
    """The service kept failing (connection, time-out, 5xx, short bodies) through every retry."""


class _TransientError(Exception):
    """A failure worth another attempt: connection lost, time-out, short body, HTTP 5xx."""


@dataclass(frozen=True)
class HttpPolicy:
    """Time-outs and retry rules of one fetch.

    connect_timeout_s : time allowed to open the connection [s]
    read_timeout_s : time allowed between bytes of the answer [s]
    max_attempts : attempts per request, the first included
    backoff_s : wait after the first failed attempt, doubled after each further one [s]
    request_interval_s : pause between consecutive requests, to stay under rate limits [s]
    """

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_attempts: int = 4
    backoff_s: float = 2.0
    request_interval_s: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, **defaults: float) -> HttpPolicy:
        """The policy from `settings.extra["http"]` (a dict of the field names), over `defaults`."""
        policy = replace(cls(), **defaults)
        overrides = dict(settings.extra.get("http", {}))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise WxriskError(f"settings.extra['http']: unknown keys {unknown} (known: {sorted(known)})")
        return replace(policy, **overrides)

    def backoff_before_attempt_s(self, attempt: int) -> float:
        """Wait before attempt number `attempt` (2, 3, ...) [s]: exponential back-off."""
        return self.backoff_s * 2 ** (attempt - 2)


def make_session() -> requests.Session:
    """A requests session that names wxrisk to the servers it calls."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def get_bytes(
    session: requests.Session,
    url: str,
    policy: HttpPolicy,
    what: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    expected_length: int | None = None,
) -> bytes:
    """The body of a GET, checked complete, with retries on transient failures only.

    what : a short description of the thing fetched, for error messages
    expected_length : the body size the caller knows (e.g. from an index) [bytes]
    Raises NotPublishedError on 404, WxriskError on any other 4xx, SourceUnavailableError when
    the retries run out.
    """
    last_error: _TransientError | None = None
    for attempt in range(1, policy.max_attempts + 1):
        if attempt > 1:
            time.sleep(policy.backoff_before_attempt_s(attempt))
        try:
            return _get_once(session, url, policy, what, params, headers, expected_length)
        except _TransientError as exc:
            last_error = exc
    raise SourceUnavailableError(f"{what}: gave up after {policy.max_attempts} attempts ({last_error})")


def _get_once(session, url, policy, what, params, headers, expected_length) -> bytes:
    timeout = (policy.connect_timeout_s, policy.read_timeout_s)
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeout, stream=True)
        body = response.content
    except requests.Timeout as exc:
        raise _TransientError(f"time-out after {policy.read_timeout_s:g} s at {short_url(url)}") from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise _TransientError(f"connection failed at {short_url(url)}: {type(exc).__name__}") from exc
    finally:
        if policy.request_interval_s:
            time.sleep(policy.request_interval_s)
    _check_status(response, what)
    _check_complete(response, body, expected_length)
    return body


def _check_status(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status == 404:
        raise NotPublishedError(f"{what}: not published yet, or no longer kept (HTTP 404 from {short_url(response.url)})")
    if 400 <= status < 500:
        raise WxriskError(f"{what}: HTTP {status}: {first_line(response.content)} ({short_url(response.url)})")
    if status >= 500:
        raise _TransientError(f"HTTP {status} from {short_url(response.url)}")


def _check_complete(response: requests.Response, body: bytes, expected_length: int | None) -> None:
    """Reject a body shorter (or longer) than the server announced or the caller expects."""
    announced = response.headers.get("Content-Length")
    wire_bytes = response.raw.tell() if response.raw is not None else len(body)
    if announced is not None and announced.isdigit() and wire_bytes != int(announced):
        raise _TransientError(f"truncated body from {short_url(response.url)}: {wire_bytes} of {announced} bytes")
    if expected_length is not None and len(body) > expected_length:
        raise WxriskError(f"{short_url(response.url)}: {len(body)} bytes, expected {expected_length} "
                          f"(HTTP {response.status_code}: the server ignored the Range header?)")
    if expected_length is not None and len(body) < expected_length:
        raise _TransientError(f"short body from {short_url(response.url)}: {len(body)} of {expected_length} bytes")


def first_line(body: bytes, limit: int = 160) -> str:
    """The start of a (probably JSON, HTML or text) body on one line, shortened for a message."""
    text = " ".join(body[:4096].decode("utf-8", errors="replace").split())
    return (text or "(empty body)")[:limit]


def short_url(url: str | None, limit: int = 200) -> str:
    """A URL cut to `limit` characters for a one-line message."""
    url = url or "?"
    return url if len(url) <= limit else url[: limit - 3] + "..."


def cache_dir(settings: Settings, source: str) -> Path:
    """Where downloads of `source` are kept: `data_dir/cache/<source>`."""
    return Path(settings.data_dir) / "cache" / source


def cache_key(**parts: object) -> str:
    """A short stable hash of what identifies a download (issue time, bbox, variables, ...)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def concatenate_atomic(path: Path, parts: list[Path]) -> Path:
    """Write the parts one after the other into `path`, whole or not at all."""
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
        out.flush()
        os.fsync(out.fileno())
    return path


def remove_parts(folder: Path) -> None:
    """Delete a folder of partial downloads once the whole file is in the cache."""
    if folder.is_dir():
        for part in folder.iterdir():
            part.unlink()
        folder.rmdir()


def download_parts(folder: Path, steps: list[int], get_step: Callable[[int], bytes]) -> list[Path]:
    """One checked file per forecast step in `folder`; steps already there are not fetched again."""
    paths = []
    for step in steps:
        part = folder / f"step-{step:03d}.grib2"
        if not part.exists():
            atomic_write_bytes(part, get_step(step))
        paths.append(part)
    return paths
