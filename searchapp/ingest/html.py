"""Articles from saved news pages (.html) with trafilatura.

A saved page is mostly not the article: menus, teasers, "Baca juga" lists,
photo galleries and comment boxes surround a few paragraphs. trafilatura finds
those paragraphs and the page's metadata (title, date, author, site, canonical
URL); this module turns its result into an `Article` or says why the page is
not one.

Pages that are not articles are `Skipped`, decided on the 42 pages of
tests/data/html (gold.json):

* the URL (canonical, else the one given) names a listing: "indeks"/"index"
  (kompas, liputan6, viva), a tag, search, RSS or photo page ("readfoto",
  "inpicture", photo.liputan6.com: one caption and a gallery), or a site's
  home page (an empty path);
* the extracted body is shorter than `MIN_BODY_CHARS`: home pages without
  a URL leave nothing or a few teasers, the shortest real article (republika,
  five paragraphs) has over 900 characters;
* the page has no title;
* the file is an RSS/Atom feed (saved with .html by some scrapers).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import trafilatura

from searchapp.ingest import outlets
from searchapp.ingest.corpus import MAX_ARTICLE_BYTES, Article, Skipped, article_from_record, read_sidecar, stable_id
from searchapp.ingest.repair import is_boilerplate

MIN_BODY_CHARS = 500
# URL path segments (or host labels) of pages that list articles instead of being one.
_LISTING = {
    "indeks": "index page", "index": "index page", "arsip": "index page", "archive": "index page",
    "tag": "tag page", "tags": "tag page", "topik": "tag page", "topic": "tag page",
    "search": "search page", "cari": "search page", "pencarian": "search page",
    "rss": "feed", "feed": "feed",
    "foto": "photo page", "photo": "photo page", "readfoto": "photo page", "inpicture": "photo page",
    "galeri": "photo page", "gallery": "photo page",
}
_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_AFFIX_SEP_RE = re.compile(r"\s+(?:[-|–—:]{1,2})\s+|(?<=\w):\s+")
_INLINE = {"a", "b", "strong", "i", "em", "u", "span", "font", "small", "sup", "sub", "abbr", "q", "cite", "mark"}
_LOOSE_MIN_CHARS = 80
_DATELINE_MAX_CHARS = 40
_FURNITURE_MAX_CHARS = 60
_TRAILER_MAX_CHARS = 160
_CREDIT_RE = re.compile(r"(?<=[.!?\"”’])\s*\([^()]{1,60}\)$")
_DASHES = ("-", "–", "—")
_SENTENCE_END = (".", "!", "?", '"', "”", "’", "'")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_FEED_RE = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*|<\?xml-stylesheet[^>]*\?>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)
_DOMAIN_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")
_GENERIC_LABELS = {"www", "m", "com", "co", "id", "net", "org", "or", "go", "ac", "news", "online"}


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Text of a page: BOM, else the declared (HTTP) or <meta> charset, else UTF-8, else cp1252.

    Old Indonesian pages are often cp1252/latin-1 without saying so; cp1252
    decodes them as a browser would rather than failing the page.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    m = _CHARSET_RE.search(data[:4096])
    for encoding in (declared, m.group(1).decode("ascii") if m else None):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def page_kind(url: str | None) -> str | None:
    """"index page", "photo page", "home page", ... for a URL that is not an article's, else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url if "//" in url else "//" + url)
    except ValueError:
        return None
    labels = (parts.hostname or "").split(".")
    segments = [s.lower() for s in parts.path.split("/") if s]
    for word in (*labels[:-2], *segments):
        if word in _LISTING:
            return _LISTING[word]
    if not segments and not parts.query:
        return "home page"
    return None


def _site_tokens(url: str | None, site: str | None) -> set[str]:
    """Lower-case names a title affix may use for the site: "kompas", "okezone", "tempo"."""
    tokens = set()
    host = urlsplit(url).hostname if url and "//" in url else None
    for label in (host or "").split("."):
        if label not in _GENERIC_LABELS and len(label) > 2:
            tokens.add(label)
    for word in re.findall(r"[a-z0-9]{3,}", (site or "").lower()):
        if word not in _GENERIC_LABELS:
            tokens.add(word)
    return tokens


def _is_site_affix(part: str, tokens: set[str]) -> bool:
    low = part.lower()
    return bool(_DOMAIN_RE.match(low.strip())) or any(t in low for t in tokens)


def headline(title: str, h1s: list[str], url: str | None, site: str | None) -> str:
    """The headline inside a page title.

    Titles wrap it in site names ("... - Kompas.com Regional", "KapanLagi.com:
    ...", "... | ihram.co.id"); a page's <h1> of three words or more that the
    title contains is the headline itself. Otherwise (on kompas the <h1> is the
    section) one affix naming the site is cut at each end, no more: a headline
    may itself name the outlet.
    """
    for h1 in h1s:
        if len(h1.split()) >= 3 and h1.casefold() in title.casefold():
            return h1
    tokens = _site_tokens(url, site)
    parts = _AFFIX_SEP_RE.split(title)
    whole = len(parts)
    if len(parts) > 1 and _is_site_affix(parts[-1], tokens):
        parts.pop()
    if len(parts) > 1 and _is_site_affix(parts[0], tokens):
        parts.pop(0)
    if len(parts) == whole:
        return title
    # What is left, with the separators the title used inside it.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip()


def _run_text(text: str | None, nodes: list) -> int:
    return len((text or "").strip()) + sum(
        len("".join(n.itertext()).strip()) + len((n.tail or "").strip()) for n in nodes if isinstance(n.tag, str)
    )


def _plain(text: str | None, nodes: list) -> str:
    parts = [text or ""] + ["".join(n.itertext()) + (n.tail or "") for n in nodes if isinstance(n.tag, str)]
    return " ".join("".join(parts).split())


def _is_dateline(text: str | None, nodes: list) -> bool:
    """A place and a dash written before the first paragraph, outside it."""
    plain = _plain(text, nodes)
    return 0 < len(plain) <= _DATELINE_MAX_CHARS and plain.endswith(_DASHES)


def _wrap_loose_text(tree: lxml.html.HtmlElement) -> None:
    """Put paragraphs written straight into a container into <p> elements.

    kapanlagi, kompas otomotif and viva write the lead paragraph (the one with
    the dateline, "<b>Kapanlagi.com</b> - ...") as loose text before the first
    <p> or between <br>s; trafilatura keeps only <p>-like blocks and loses it.
    A run of inline content of at least `_LOOSE_MIN_CHARS` between block
    elements or <br>s becomes a <p>.
    """
    for el in list(tree.iter("div", "span", "td", "section", "article", "font")):
        if not any(isinstance(c.tag, str) and c.tag in ("p", "br") for c in el):
            continue
        new: list = []
        text, nodes = el.text, []
        el.text = None

        def flush() -> None:
            if _run_text(text, nodes) >= _LOOSE_MIN_CHARS:
                p = lxml.html.Element("p")
                p.text = text
                p.extend(nodes)
                new.append(p)
                return
            if new:
                new[-1].tail = (new[-1].tail or "") + (text or "")
            else:
                el.text = text
            new.extend(nodes)

        for child in list(el):
            if not isinstance(child.tag, str) or child.tag in _INLINE:
                nodes.append(child)
                continue
            if child.tag == "p" and _is_dateline(text, nodes):  # "<strong>Jakarta</strong> - <p>Galaxy …" (detik)
                child.text = f"{_plain(text, nodes)} {child.text or ''}"
                text, nodes = None, []
            flush()
            text, nodes = child.tail, []
            child.tail = None
            new.append(child)
        flush()
        for child in list(el):
            el.remove(child)
        el.extend(new)


def _parse(text: str) -> lxml.html.HtmlElement | None:
    try:  # lxml refuses str input that still declares its encoding (XHTML pages)
        return lxml.html.document_fromstring(_XML_DECL_RE.sub("", text, count=1))
    except (ValueError, lxml.etree.ParserError):
        return None


def _is_furniture(line: str, title: str, last: bool = False) -> bool:
    """A kicker, breadcrumb, dateline stamp, the headline again, "Load More...": not a paragraph.
    At the end, a longer line without a sentence end too: the titles of related stories, an
    embedded post ("… #GRAMMYs"), an author's name."""
    if line.casefold() == title.casefold():
        return True
    longest = _TRAILER_MAX_CHARS if last else _FURNITURE_MAX_CHARS
    if len(line) >= longest or (line.endswith(_DASHES) and any(c.isalpha() for c in line)):
        return False  # a paragraph, or a dateline on its own line ("Jakarta -")
    sentence = _CREDIT_RE.sub("", line)  # "… Denpasar. (Luh Wayanti)": the reporter's credit after the end
    return line.endswith("...") or not sentence.rstrip(")").endswith(_SENTENCE_END)


def _paragraphs(text: str, title: str) -> list[str]:
    """Extracted lines without credits and footers (the .txt reader's rules) and page furniture at either end."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line and not is_boilerplate(line)]
    while lines and _is_furniture(lines[0], title):
        lines.pop(0)
    while lines and _is_furniture(lines[-1], title, last=True):
        lines.pop()
    return lines


def _clean_site(site: str | None) -> str | None:
    if not site or "://" in site:  # some pages put a Facebook URL in og:site_name
        return None
    return site.strip() or None


def article_from_html(html: bytes | str, url: str | None, source: str, overrides: dict | None = None) -> Article | Skipped:
    """The article of a saved page, or why the page is not one (see the module docstring).

    `url` is where the page was fetched (a WARC target URI); the page's own
    canonical URL wins when it has one. `overrides` (a sidecar .json) replace
    extracted fields.
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    if not text.strip():
        return Skipped(source, "empty page")
    if "\x00" in text[:8192]:
        return Skipped(source, "binary file (contains NUL bytes)")
    if _FEED_RE.match(text[:4096]):
        return Skipped(source, "not an article: RSS/Atom feed")
    tree = _parse(text)
    if tree is None:
        return Skipped(source, "unparseable HTML")
    h1s = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    _wrap_loose_text(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, favor_precision=True, with_metadata=True, include_comments=False, include_tables=False, include_images=False
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura/lxml raise no documented set; one bad page must not stop a build
        return Skipped(source, f"unparseable HTML: {type(exc).__name__}: {exc}")
    canonical = (doc.url if doc is not None else None) or url
    for candidate in (canonical, url):
        kind = page_kind(candidate)
        if kind:
            return Skipped(source, f"not an article: {kind} ({candidate})")
    site = _clean_site(doc.sitename) if doc is not None else None
    title = headline(doc.title, h1s, canonical, site) if doc is not None and doc.title else ""
    body = "\n\n".join(_paragraphs(doc.text or "", title)) if doc is not None else ""
    if len(body) < MIN_BODY_CHARS:
        return Skipped(source, f"no article body ({len(body)} characters)")
    if not title:
        return Skipped(source, "not an article: no title")
    record = {
        "title": title,
        "published": doc.date,
        "outlet": outlets.from_url(canonical) or outlets.from_url(url) or outlets.canonical(site),
        "url": canonical,
        "body": body,
        "author": doc.author,
        "site": site,
    }
    if canonical:
        record["id"] = stable_id(canonical)
    record = {k: v for k, v in record.items() if v is not None}
    return article_from_record({**record, **(overrides or {})}, source)


def read_html(path: Path) -> Iterator[Article | Skipped]:
    """One saved page (.html/.htm); a sidecar NAME.json overrides fields as for .txt."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            yield Skipped(source, f"too large for one page ({size} bytes > {MAX_ARTICLE_BYTES})")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Skipped(source, str(exc))
        return
    overrides = read_sidecar(path)
    yield overrides if isinstance(overrides, Skipped) else article_from_html(data, None, source, overrides)

