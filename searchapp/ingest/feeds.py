"""Reading feeds: RSS and Atom (feedparser) and XML sitemaps (sitemap
indexes and Google News sitemaps included).

`parse(data, url)` gives a `Feed` (its entries, and for a sitemap index the
sitemaps it lists) or a `FeedError` with the reason: malformed XML is an
answer, never an exception.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

from searchapp.ingest.corpus import parse_date

MAX_ENTRIES = 50_000  # the sitemap protocol's own limit per file
_SITEMAP_ROOT_RE = re.compile(rb"<(?:[\w.-]+:)?(urlset|sitemapindex)[\s>]")
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    url: str
    title: str | None = None
    published: date | None = None


@dataclass
class Feed:
    url: str
    kind: str  # rss, atom, sitemap, sitemapindex
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # a sitemap index's children
    warning: str | None = None  # malformed, but entries were read (feedparser is lenient)


@dataclass(frozen=True)
class FeedError:
    url: str
    reason: str


def _web_url(value: str | None, base: str) -> str | None:
    """An absolute http(s) URL without its fragment, or None."""
    if not value or not value.strip():
        return None
    url = urljoin(base, value.strip()).split("#", 1)[0]
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_sitemap(data: bytes, url: str) -> Feed | FeedError:
    if _DOCTYPE_RE.search(data[:4096]):
        return FeedError(url, "sitemap with a DOCTYPE or entity declaration refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return FeedError(url, f"malformed sitemap XML: {exc}")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        return FeedError(url, f"not a sitemap (root element <{kind}>)")
    feed = Feed(url, "sitemap" if kind == "urlset" else "sitemapindex")
    for item in root:
        if len(feed.entries) + len(feed.sitemaps) >= MAX_ENTRIES:
            break
        fields: dict[str, str] = {}
        for child in item.iter():
            name = _local(child.tag)
            if child.text and child.text.strip() and name not in fields:
                fields[name] = child.text.strip()
        loc = _web_url(fields.get("loc"), url)
        if loc is None:
            continue
        if kind == "sitemapindex":
            feed.sitemaps.append(loc)
        else:  # news:title and news:publication_date in a news sitemap, lastmod otherwise
            published = parse_date(fields.get("publication_date") or fields.get("lastmod"))
            feed.entries.append(Entry(loc, fields.get("title"), published))
    return feed


def _parse_feed(data: bytes, url: str) -> Feed | FeedError:
    import feedparser

    try:
        parsed = feedparser.parse(data, response_headers={"content-location": url})
    except Exception as exc:  # feedparser is lenient; anything it still raises is a broken feed
        return FeedError(url, f"unreadable feed: {exc}")
    version = parsed.get("version") or ""
    feed = Feed(url, "atom" if version.startswith("atom") else "rss")
    for item in parsed.entries[:MAX_ENTRIES]:
        link = item.get("link")
        if not link:  # Atom: the alternate link, else the first
            links = item.get("links") or []
            link = next((ln.get("href") for ln in links if ln.get("rel") == "alternate"), None) or (
                links[0].get("href") if links else None)
        loc = _web_url(link, url)
        if loc is None:
            continue
        when = item.get("published_parsed") or item.get("updated_parsed")
        published = date(*when[:3]) if when else parse_date(item.get("published") or item.get("updated"))
        feed.entries.append(Entry(loc, (item.get("title") or "").strip() or None, published))
    if parsed.get("bozo"):
        problem = f"malformed feed XML: {parsed.get('bozo_exception')}"
        if not feed.entries:
            return FeedError(url, problem)
        feed.warning = f"{problem} ({len(feed.entries)} entries read leniently)"
    elif not version and not feed.entries:
        return FeedError(url, "not an RSS or Atom feed, nor a sitemap")
    return feed


def parse(data: bytes, url: str) -> Feed | FeedError:
    """The entries of an RSS/Atom feed or sitemap, or why it cannot be read."""
    if not data or not data.strip():
        return FeedError(url, "empty response")
    if _SITEMAP_ROOT_RE.search(data[:4096]):
        return _parse_sitemap(data, url)
    return _parse_feed(data, url)
