"""An Atom 1.0 feed of a search, so a reader follows a query or an actor in any
feed reader.

Built from the dict search() returns (sort="newest") with xml.etree: Atom is a
small fixed vocabulary, and ElementTree escapes every text and attribute, so
markup in crawled titles stays text. No Flask here: the caller passes the
absolute URLs, so the feed reads the same whatever serves it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

FEED_SIZE = 50  # entries: the newest articles of the search
ATOM = "http://www.w3.org/2005/Atom"
# Articles carry a day, not a time; Indonesian outlets date in Western Indonesian Time.
WIB = timezone(timedelta(hours=7))
# Characters XML 1.0 cannot hold at all (control characters of crawled text): dropped, or the feed is unparsable.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def stamp(day: str) -> str:
    """A publication day as the RFC 3339 instant Atom requires: its midnight in Jakarta."""
    return datetime.combine(date.fromisoformat(day), time(), WIB).isoformat()


def _web_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host: a javascript: or data: URL of the data never becomes a link."""
    parts = urlsplit((url or "").strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: NOT_XML.sub("", v) for k, v in attrs.items()})
    if text is not None:
        element.text = NOT_XML.sub("", text)
    return element


def _entry(feed: ET.Element, hit: dict, url: str) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", url)
    title = hit["title"] or " ".join(hit["snippet"].removeprefix("… ").split()[:12]) or hit["id"]
    _add(entry, "title", title, type="text")
    _add(entry, "published", stamp(hit["published"]))
    _add(entry, "updated", stamp(hit["published"]))
    _add(entry, "link", rel="alternate", type="text/html", href=url)
    if original := _web_url(hit["url"]):
        _add(entry, "link", rel="related", type="text/html", href=original)
    if hit["outlet"]:
        _add(_add(entry, "author"), "name", hit["outlet"])
    for topic in hit["topic"]:
        _add(entry, "category", term=topic)
    _add(entry, "summary", hit["snippet"], type="text")


def atom(result: dict, *, title: str, feed_url: str, page_url: str, article_url: Callable[[str], str]) -> bytes:
    """The feed of `result` (search(..., sort="newest")): one entry per dated hit,
    newest first, each identified by its article page `article_url(id)`.

    Undated articles are left out: a feed is ordered by time and a made-up date
    would show an old article as new; newest-first puts them last, so only the
    tail of a short feed is lost. `updated` is the newest entry's day (the time
    of the request for an empty feed), so it moves only when articles do.
    """
    entries = [hit for hit in result["hits"] if hit["published"]]
    feed = ET.Element("feed", xmlns=ATOM)
    feed.set("xml:lang", "id")
    _add(feed, "id", feed_url)
    _add(feed, "title", title, type="text")
    _add(feed, "updated", stamp(entries[0]["published"]) if entries
         else datetime.now(timezone.utc).isoformat(timespec="seconds"))
    _add(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(feed, "author"), "name", "searchapp")  # for entries without an outlet: Atom wants an author on each
    _add(feed, "generator", "searchapp")
    for hit in entries:
        _entry(feed, hit, article_url(hit["id"]))
    ET.indent(feed)  # readable when opened in a browser
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
