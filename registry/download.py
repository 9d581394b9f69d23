"""Downloads of official list files over HTTP (requests), with the care a list needs.

- a session with timeouts: connecting and every read (`Policy.timeout`) and the whole file
  (`Policy.deadline`, so a server trickling bytes cannot hold a refresh for ever);
- retries with exponential backoff on connection errors, timeouts, cut-off bodies and
  5xx / 408 / 429 answers, honouring Retry-After (seconds or a date, capped);
- conditional GET: the ETag and Last-Modified of the last good download, 304 = unchanged;
- a size cap, checked on Content-Length and while streaming;
- the body streamed to a temporary file next to its destination, with its SHA-256, renamed
  into place only when complete (a Content-Length it falls short of is an error).

No Flask, no SQL: `refresh` decides what to do with the files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

log = logging.getLogger(__name__)

USER_AGENT = f"sanctions-registry/0.1 (official list refresh; requests {requests.__version__})"
CHUNK = 256 * 1024
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}

# progress(bytes so far, bytes expected or None)
ByteProgress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Policy:
    timeout: float = 30.0  # seconds to connect, and between two reads
    deadline: float = 900.0  # seconds for the whole file
    retries: int = 3  # further attempts after the first
    backoff: float = 2.0  # first wait before a retry; doubles each time
    max_wait: float = 120.0  # longest wait honoured, Retry-After included
    max_bytes: int = 512 * 1024 * 1024


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Download:
    url: str
    modified: bool  # False: the server answered 304 Not Modified
    path: Path | None
    size: int
    sha256: str | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    attempts: int
    seconds: float

    @property
    def published(self) -> str | None:
        """The date of Last-Modified, as an ISO date."""
        return http_date(self.last_modified)


class DownloadError(Exception):
    """The file could not be fetched; `reason` says why, in words for a person."""

    def __init__(self, url: str, reason: str, attempts: int = 1) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.attempts = attempts


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip, deflate"
    return session


def download(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: Policy = Policy(),
    max_bytes: int | None = None,
    progress: ByteProgress | None = None,
    notice: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Download:
    """Fetch `url` into `dest` (conditionally when given the validators of the last copy).
    Raises DownloadError once the retries are spent or for an answer retrying cannot fix;
    `notice` hears of each retry."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return _attempt(
                session,
                url,
                dest,
                etag,
                last_modified,
                policy,
                max_bytes or policy.max_bytes,
                progress,
                attempt,
                started,
            )
        except _Retry as problem:
            if attempt > policy.retries:
                tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                raise DownloadError(url, problem.reason + tries, attempt) from None
            wait = policy.backoff * 2 ** (attempt - 1)
            if problem.retry_after is not None:
                wait = problem.retry_after
            wait = min(wait, policy.max_wait)
            message = f"{url}: {problem.reason}; retry {attempt} in {wait:.1f} s"
            log.info("%s", message)
            if notice:
                notice(message)
            sleep(wait)


def _attempt(
    session: requests.Session,
    url: str,
    dest: Path,
    etag: str | None,
    last_modified: str | None,
    policy: Policy,
    max_bytes: int,
    progress: ByteProgress | None,
    attempt: int,
    started: float,
) -> Download:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    began = time.monotonic()
    try:
        response = session.get(
            url, headers=headers, stream=True, timeout=(policy.timeout, policy.timeout)
        )
    except requests.Timeout:
        raise _Retry(f"no answer within {policy.timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise _Retry(f"connection failed ({_cause(exc)})") from None
    except requests.RequestException as exc:
        raise DownloadError(url, f"request failed ({_cause(exc)})", attempt) from None
    with contextlib.closing(response):
        status = response.status_code
        if status == 304:
            return Download(
                url=url,
                modified=False,
                path=None,
                size=0,
                sha256=None,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                content_type=None,
                attempts=attempt,
                seconds=time.monotonic() - started,
            )
        if status in RETRY_STATUSES:
            raise _Retry(
                f"HTTP {status} {response.reason or ''}".strip(),
                retry_after(response.headers.get("Retry-After")),
            )
        if status != 200:
            raise DownloadError(url, f"HTTP {status} {response.reason or ''}".strip(), attempt)
        length = _int(response.headers.get("Content-Length"))
        if length is not None and length > max_bytes:
            raise DownloadError(
                url, f"the server announces {length:,} bytes, over the cap of {max_bytes:,}"
            )
        coding = response.headers.get("Content-Encoding", "").strip().lower()
        encoded = coding not in ("", "identity")  # Content-Length counts the encoded bytes
        size, sha256 = _stream(response, dest, length, encoded, policy, max_bytes, progress, began)
        return Download(
            url=url,
            modified=True,
            path=dest,
            size=size,
            sha256=sha256,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            attempts=attempt,
            seconds=time.monotonic() - started,
        )


def _stream(
    response: requests.Response,
    dest: Path,
    length: int | None,
    encoded: bool,
    policy: Policy,
    max_bytes: int,
    progress: ByteProgress | None,
    began: float,
) -> tuple[int, str]:
    """The body into `dest` via a temporary file; its size and SHA-256."""
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    size = 0
    raw = response.raw
    try:
        with part.open("wb") as out:
            while True:
                try:
                    # read1: whatever one read gives, so the deadline is checked even
                    # while a server trickles bytes slower than any read timeout.
                    chunk = raw.read1(CHUNK, decode_content=True)
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    raise _Retry(_body_failure(exc, size, length)) from None
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(response.url, f"more than the cap of {max_bytes:,} bytes")
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(size, None if encoded else length)
                if time.monotonic() - began > policy.deadline:
                    raise _Retry(
                        f"too slow: {size:,} bytes in {policy.deadline:g} s, the deadline for "
                        "the whole file"
                    )
            if not encoded and length is not None and size != length:
                raise _Retry(f"truncated: got {size:,} of the {length:,} bytes announced")
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return size, digest.hexdigest()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _cause(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, in few words."""
    while True:
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, BaseException):
            exc = arg
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _body_failure(exc: BaseException, size: int, length: int | None) -> str:
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return f"the server stopped sending after {size:,} bytes (read timeout)"
    if "IncompleteRead" in _cause(exc) and length is not None:
        return f"truncated: the connection closed after {size:,} of the {length:,} bytes announced"
    expected = f" of the {length:,} bytes announced" if length is not None else ""
    return f"the connection broke after {size:,} bytes{expected} ({_cause(exc)})"
