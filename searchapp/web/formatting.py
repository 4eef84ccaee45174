"""How values are written on the pages: Indonesian dates and numbers, text with
its matched words in <mark>, titles of untitled articles, safe links.

Every function escapes what it is given: article text and metadata come from
crawled pages and must never become markup or a javascript: link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from searchapp.search.highlight import mark
from searchapp.ingest.repair import paragraph_spans
from searchapp.search.quotes import anchor

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
          "Agustus", "September", "Oktober", "November", "Desember")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

Marks = Sequence[Sequence[int]] | None  # [start, end] character offsets of matched words


def marked(text: str | None, marks: Marks) -> Markup:
    """Text escaped, with only the matched words wrapped in <mark>."""
    return Markup(mark(text or "", marks or [], "<mark>", "</mark>", lambda s: str(escape(s))))


def lead(text: str, words: int = 12) -> str:
    """The first words of a text: the stand-in title of articles without a headline."""
    parts = text.removeprefix("… ").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def title_html(item: dict) -> Markup:
    """The title with its marks, or the first words of the article, shown as such."""
    if item.get("title"):
        return marked(item["title"], item.get("title_highlights"))
    fallback = lead(item.get("snippet") or item.get("body") or "") or item["id"]
    return Markup('<span class="untitled" title="Tanpa judul: ditampilkan kata-kata pertamanya">{}</span>').format(fallback)


QUOTE_ANCHOR = '<span class="quote-anchor" id="{}"></span>'  # where a quote's link lands


def paragraphs(text: str, marks: Marks, anchors: Sequence[int] = ()) -> list[Markup]:
    """The body as paragraphs (one per line of text), each with its own marks,
    and an anchor (`kutipan-<offset>`) at each of `anchors` (body offsets of quotes)."""
    out = []
    text = text or ""
    for start, end in paragraph_spans(text):
        line = text[start:end]
        inner = [[s - start, e - start] for s, e in marks or [] if s >= start and e <= end]
        points = [(a - start, a) for a in dict.fromkeys(anchors) if start <= a < end]
        out.append(_anchored(line, inner, points) if points else marked(line, inner))
    return out


def _anchored(text: str, marks: Marks, points: list[tuple[int, int]]) -> Markup:
    """Text with its marks and an empty anchor at each (offset in the text,
    quote's body offset naming it); an anchor inside a mark stands before
    it, so marks stay whole."""
    marks = marks or []
    moved = sorted((next((s for s, e in marks if s < at < e), at), ident) for at, ident in points)
    pieces, pos = [], 0
    for at, ident in moved:
        pieces += [marked(text[pos:at], [[s - pos, e - pos] for s, e in marks if s >= pos and e <= at]),
                   Markup(QUOTE_ANCHOR).format(anchor(ident))]
        pos = at
    pieces.append(marked(text[pos:], [[s - pos, e - pos] for s, e in marks if s >= pos]))
    return Markup("").join(pieces)


def long_date(iso: str | None, weekday: bool = False) -> str:
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    text = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{DAYS[day.weekday()]}, {text}" if weekday else text


def short_date(iso: str | None) -> str:
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def number(n: int) -> str:
    """Indonesian digit grouping: 21.940."""
    return f"{n:,}".replace(",", ".")


def percent(share: float) -> str:
    """A share as an Indonesian percentage with two significant decimals: 1,25% · 0,031%."""
    value = share * 100
    digits = 2 if value >= 1 or value == 0 else max(2, 1 - int(f"{value:e}".split("e")[1]))
    return f"{value:.{digits}f}".replace(".", ",") + "%"


def took(ms: float) -> str:
    return "< 1 ms" if ms < 1 else f"{ms:,.0f} ms".replace(",", ".")


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None: data must never inject javascript: links."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


FILTERS: dict[str, Callable[..., object]] = dict(
    marked=marked, long_date=long_date, short_date=short_date, number=number, took=took,
    percent=percent)
GLOBALS: dict[str, Callable[..., object]] = dict(title_html=title_html, safe_url=safe_url)
