"""A polite HTTP client for `searchapp watch` (standard library only).

Polite by default: robots.txt (cached per host, its Crawl-delay honoured), a
minimum delay between requests to one host, conditional GET (ETag and
Last-Modified), connect/read timeouts and an overall deadline, retries with
exponential back-off on timeouts, connection errors, 429 and 5xx, a size cap
read in chunks (the download is aborted past it), at most MAX_REDIRECTS
redirects with loop detection, and a User-Agent naming the program.

`Fetcher.get` never raises for what the network does: it answers `Fetched`
or `Failure` (with `retry` telling a later poll whether to try again).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.robotparser
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

try:
    VERSION = version("searchapp")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0"

USER_AGENT = f"searchapp/{VERSION} (news search indexer; polls feeds, honours robots.txt)"
ROBOTS_AGENT = "searchapp"
DEFAULT_DELAY = 2.0  # seconds between two requests to one host
DEFAULT_TIMEOUT = 20.0  # seconds to connect, and between two reads
DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # corpus.MAX_ARTICLE_BYTES: no article page is larger
DEFAULT_RETRIES = 2  # tries after the first, on transient errors
DEFAULT_BACKOFF = 1.0  # seconds before the first retry, doubled each time
MAX_REDIRECTS = 5
ROBOTS_TTL = 3600.0  # seconds a host's robots.txt is kept
ROBOTS_RETRY = 60.0  # seconds before asking again when robots.txt could not be read
ROBOTS_MAX_BYTES = 512 * 1024
CHUNK = 64 * 1024
MAX_DELAY = 60.0  # a robots.txt Crawl-delay is honoured up to this


@dataclass
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 for a conditional GET of something unchanged
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass
class Failure:
    url: str
    reason: str
    retry: bool = False  # transient (timeouts, 5xx): worth another poll
    status: int | None = None  # the HTTP status of a permanent failure, if it was one
    robots: bool = False  # not fetched: robots.txt disallows it


class _Transient(Exception):
    """A try that may work next time (timeout, connection error, 429, 5xx)."""


class _Permanent(Exception):
    """A try that will not work by repeating it now."""


class Fetcher:
    def __init__(self, *, delay: float = DEFAULT_DELAY, timeout: float = DEFAULT_TIMEOUT,
                 max_bytes: int = DEFAULT_MAX_BYTES, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF, user_agent: str = USER_AGENT, robots: bool = True,
                 sleep=time.sleep, clock=time.monotonic):
        self.delay = delay
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self.user_agent = user_agent
        self.robots = robots
        self._sleep = sleep
        self._clock = clock
        self._last: dict[str, float] = {}  # host -> when its last request started
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None, str | None]] = {}
        self.requests = 0  # HTTP requests made (robots.txt included)

    # --- politeness ------------------------------------------------------------

    def _host_delay(self, host: str) -> float:
        rules = self._robots.get(host, (0.0, None, None))[1]
        crawl = rules.crawl_delay(ROBOTS_AGENT) if rules is not None else None
        return max(self.delay, min(float(crawl or 0), MAX_DELAY))

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            wait = last + self._host_delay(host) - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last[host] = self._clock()

    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets us fetch the URL now."""
        return self._refusal(url) is None

    def _refusal(self, url: str) -> Failure | None:
        """Why robots.txt keeps us from the URL (read once per ROBOTS_TTL), or None."""
        if not self.robots:
            return None
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(host)
        if cached is None or self._clock() > cached[0]:
            rules, ttl, error = self._read_robots(host)
            cached = self._robots[host] = (self._clock() + ttl, rules, error)
        _until, rules, error = cached
        if error:  # the host is failing: a later poll asks again
            return Failure(url, f"robots.txt unreadable: {error}", retry=True)
        if rules is not None and not rules.can_fetch(ROBOTS_AGENT, url):
            return Failure(url, "disallowed by robots.txt", robots=True)
        return None

    def _read_robots(self, host: str) -> tuple[urllib.robotparser.RobotFileParser | None, float, str | None]:
        """The host's rules (None: no robots.txt, everything allowed), how long to keep
        them, and why they could not be read."""
        rules = urllib.robotparser.RobotFileParser(host + "/robots.txt")
        answer = self._get(host + "/robots.txt", {}, ROBOTS_MAX_BYTES, check_robots=False)
        if isinstance(answer, Fetched):
            rules.parse(answer.body.decode("utf-8", "replace").splitlines())
            return rules, ROBOTS_TTL, None
        if answer.status in (401, 403):
            rules.disallow_all = True  # the convention: a forbidden robots.txt forbids everything
            return rules, ROBOTS_TTL, None
        if answer.status is not None and 400 <= answer.status < 500:
            return None, ROBOTS_TTL, None  # no robots.txt: everything is allowed
        return None, ROBOTS_RETRY, answer.reason

    # --- requests --------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            max_bytes: int | None = None) -> Fetched | Failure:
        """GET with redirects, retries and the politeness rules."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(url, headers, max_bytes or self.max_bytes, check_robots=True)

    def _get(self, url: str, headers: dict, max_bytes: int, check_robots: bool) -> Fetched | Failure:
        seen = {url}
        for _hop in range(MAX_REDIRECTS + 1):
            refusal = self._refusal(url) if check_robots else None
            if refusal is not None:
                return refusal
            answer = self._try(url, headers, max_bytes)
            if not (isinstance(answer, tuple)):
                return answer
            location = answer[1]
            url = urljoin(url, location).split("#", 1)[0]
            if urlsplit(url).scheme not in ("http", "https"):
                return Failure(url, f"redirect to a non-web URL {location!r}")
            if url in seen:
                return Failure(url, f"redirect loop back to {url}")
            seen.add(url)
        return Failure(url, f"more than {MAX_REDIRECTS} redirects")

    def _try(self, url: str, headers: dict, max_bytes: int):
        """One URL with retries: Fetched, Failure, or ("redirect", location)."""
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._once(url, headers, max_bytes)
            except _Transient as exc:
                reason = str(exc)
            except _Permanent as exc:
                return Failure(url, str(exc), status=getattr(exc, "status", None))
        return Failure(url, f"{reason} (after {self.retries + 1} tries)", retry=True)

    def _once(self, url: str, headers: dict, max_bytes: int):
        parts = urlsplit(url)
        host = parts.hostname or ""
        self._wait_turn(f"{parts.scheme}://{parts.netloc}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
        conn = cls(host, parts.port, timeout=self.timeout, **kwargs)
        deadline = self._clock() + max(4 * self.timeout, 30.0)  # a slow drip does not hold us for ever
        self.requests += 1
        try:
            conn.request("GET", path, headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity",
                                               "Accept": "*/*", "Connection": "close", **headers})
            resp = conn.getresponse()
            head = {k.lower(): v for k, v in resp.getheaders()}
            status = resp.status
            if status in (301, 302, 303, 307, 308):
                if not head.get("location"):
                    raise _Permanent(f"HTTP {status} without a Location")
                return ("redirect", head["location"])
            if status == 304:
                return Fetched(url, 304, b"", head)
            if status == 429 or status >= 500:
                raise _Transient(f"HTTP {status}")
            if status != 200:
                exc = _Permanent(f"HTTP {status}")
                exc.status = status
                raise exc
            length = head.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _Permanent(f"larger than {max_bytes} bytes (Content-Length {length})")
            chunks, size = [], 0
            while True:
                chunk = resp.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise _Permanent(f"larger than {max_bytes} bytes (aborted)")
                if self._clock() > deadline:
                    raise _Transient("download too slow (overall deadline)")
                chunks.append(chunk)
            return Fetched(url, 200, b"".join(chunks), head)
        except (TimeoutError, socket.timeout):
            raise _Transient(f"timed out after {self.timeout:g} s") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise _Permanent(f"TLS certificate: {exc.verify_message}") from None
            raise _Transient(f"connection error: {exc.__class__.__name__}: {exc}") from None
        finally:
            conn.close()
