"""A news site on loopback for `searchapp watch`'s tests and bench/watch.py.

Article pages are made from real corpus records (Indonesian text: a <title>,
og:title, article:published_time, an <article> of <p> paragraphs); feeds list
them as RSS 2.0 (with an ETag), Atom (with Last-Modified), a sitemap index
over a Google News sitemap and a plain sitemap, and a feed repeating old items
on every poll. With `faults=True` a further feed lists the pages that go wrong:
one sleeping past the client's timeout, one failing twice with 500 then
working, one always 500, a redirect loop, a 20 MB page (with and without a
Content-Length), a path robots.txt disallows, an image, a 404, and a redirect
to an article; and /broken.xml is malformed XML. Every request is counted.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import os

_CORPUS = Path("shared") / "corpora" / "clickid-2019.jsonl.gz"
# beside the checkout (as tests/conftest.py has it), else this machine's shared folder (a worktree elsewhere)
CLICKID = next((p for p in (Path(os.environ.get("SEARCHAPP_CLICKID", "/nonexistent")),
                            Path(__file__).resolve().parents[2] / _CORPUS, Path("/work") / _CORPUS) if p.exists()),
               Path(__file__).resolve().parents[2] / _CORPUS)
HUGE = 20 * 1024 * 1024
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
LAST_MODIFIED = formatdate(1568102400, usegmt=True)  # 2019-09-10


def article_records(n: int, path: Path = CLICKID, skip: int = 0) -> list[dict]:
    """n corpus records long enough for an article page (≥ 5 sentences), unique titles."""
    out, titles = [], set()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i < skip:
                continue
            rec = json.loads(line)
            body, title = (rec.get("body") or "").strip(), (rec.get("title") or "").strip()
            if len(body) < 800 or len(_SENTENCE_RE.split(body)) < 5 or not title or title in titles:
                continue
            titles.add(title)
            out.append(rec)
            if len(out) >= n:
                break
    return out


def page_html(rec: dict) -> bytes:
    sentences = _SENTENCE_RE.split(rec["body"].strip())
    paras = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
    title, outlet = html.escape(rec["title"]), html.escape(rec.get("outlet") or "Berita")
    published = rec.get("published") or "2019-09-10"
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html>
<html lang="id">
<head>
  <meta charset="utf-8">
  <title>{title} - {outlet}</title>
  <meta property="og:title" content="{title}">
  <meta property="og:type" content="article">
  <meta property="article:published_time" content="{published}T08:00:00+07:00">
  <meta name="author" content="Redaksi {outlet}">
</head>
<body>
  <header><nav><a href="/">Beranda</a> <a href="/news">Berita</a> <a href="/sport">Olahraga</a></nav></header>
  <main>
    <article>
      <h1>{title}</h1>
      <p class="byline">Redaksi {outlet} &middot; <time datetime="{published}">{published}</time></p>
{body}
    </article>
  </main>
  <footer><p>&copy; 2019 {outlet}. Hak cipta dilindungi undang-undang.</p></footer>
</body>
</html>
""".encode("utf-8")


def rss(items: list[tuple[str, str, str]], title: str = "Berita terbaru") -> bytes:
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
        f"<pubDate>{formatdate(time.mktime(time.strptime(d, '%Y-%m-%d')), usegmt=True)}</pubDate></item>\n"
        for u, t, d in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://127.0.0.1/</link><description>fixture</description>\n{entries}</channel></rss>\n"
            ).encode("utf-8")


def atom(items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link rel="alternate" href="{escape(u)}"/><id>{escape(u)}</id>'
        f"<updated>{d}T08:00:00+07:00</updated></entry>\n" for u, t, d in items)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Atom fixture</title><id>urn:fixture</id><updated>2019-09-10T08:00:00Z</updated>\n"
            f"{entries}</feed>\n").encode("utf-8")


def news_sitemap(items: list[tuple[str, str, str]]) -> bytes:
    urls = "".join(
        f"<url><loc>{escape(u)}</loc><news:news><news:publication><news:name>Fixture</news:name>"
        f"<news:language>id</news:language></news:publication><news:publication_date>{d}</news:publication_date>"
        f"<news:title>{escape(t)}</news:title></news:news></url>\n" for u, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + urls + "</urlset>\n").encode("utf-8")


def sitemap(items: list[tuple[str, str, str]]) -> bytes:
    urls = "".join(f"<url><loc>{escape(u)}</loc><lastmod>{d}</lastmod></url>\n" for u, _t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + urls + "</urlset>\n").encode("utf-8")


def sitemap_index(locs: list[str]) -> bytes:
    maps = "".join(f"<sitemap><loc>{escape(u)}</loc></sitemap>\n" for u in locs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + maps + "</sitemapindex>\n").encode("utf-8")


class Site:
    """The site: `start()`, then `url(path)`; `articles` maps each article page's
    path to its record; `served` counts the 200 answers per path, `hits` every request."""

    def __init__(self, records: list[dict], *, faults: bool = True, page_delay: float = 0.0, slow_seconds: float = 3.0,
                 feeds: int = 4):
        self.records = records
        self.faults = faults
        self.page_delay = page_delay
        self.slow_seconds = slow_seconds
        self.hits: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.agents: set[str] = set()  # the User-Agent headers seen
        self._lock = threading.Lock()
        self.articles = {f"/news/{i:05d}-{_slug(r['title'])}.html": r for i, r in enumerate(records)}
        self.feeds: list[str] = []  # the feed paths a FEEDS file lists
        self.routes: dict[str, bytes] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._build(feeds)
        self.thread: threading.Thread | None = None

    # --- content ---------------------------------------------------------------

    def _items(self, paths):
        return [(self.url(p), self.articles[p]["title"], self.articles[p].get("published") or "2019-09-10")
                for p in paths]

    def _build(self, feeds: int) -> None:
        paths = list(self.articles)
        parts = [paths[i::feeds] for i in range(feeds)]  # rss, atom, news sitemap, plain sitemap
        self.routes["/rss.xml"] = rss(self._items(parts[0]))
        self.routes["/atom.xml"] = atom(self._items(parts[1] if feeds > 1 else []))
        self.routes["/sitemap-news.xml"] = news_sitemap(self._items(parts[2] if feeds > 2 else []))
        self.routes["/sitemap-pages.xml"] = sitemap(self._items(parts[3] if feeds > 3 else []))
        self.routes["/sitemap_index.xml"] = sitemap_index([self.url("/sitemap-news.xml"),
                                                           self.url("/sitemap-pages.xml")])
        self.routes["/repeat.xml"] = rss(self._items(paths[:5]), "Old news, again")  # no validators: full each time
        self.feeds = ["/rss.xml", "/atom.xml", "/sitemap_index.xml", "/repeat.xml"]
        self.routes["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
        for path, rec in self.articles.items():
            self.routes[path] = page_html(rec)
        if self.faults:
            extra = article_records(2, skip=len(self.records) * 3 + 500)
            self.flaky_path, self.moved_path = "/news/flaky.html", "/news/moved-here.html"
            self.routes[self.flaky_path] = page_html(extra[0])
            self.routes[self.moved_path] = page_html(extra[1])
            self.routes["/private/secret.html"] = page_html(extra[0])
            self.routes["/broken.xml"] = b'<?xml version="1.0"?>\n<<rss version= 2.0><channel><item>\x00&&& </rss'
            fault_pages = ["/slow.html", self.flaky_path, "/down.html", "/loop/a", "/huge.html", "/huge-stream.html",
                           "/private/secret.html", "/image.png", "/missing.html", "/redirect.html"]
            self.routes["/faults.xml"] = rss([(self.url(p), p, "2019-09-10") for p in fault_pages], "Faults")
            self.feeds += ["/faults.xml", "/broken.xml", "/no-such-feed.xml"]
            self.extra_articles = {self.flaky_path: extra[0], self.moved_path: extra[1]}
        else:
            self.extra_articles = {}

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def feeds_file(self, path: Path, feeds: list[str] | None = None) -> Path:
        path.write_text("# fixture feeds\n\n" + "".join(self.url(f) + "\n" for f in (feeds or self.feeds)), "utf-8")
        return path

    def expected_urls(self) -> set[str]:
        """The article pages a complete watch ends with in the index (final URLs)."""
        return {self.url(p) for p in [*self.articles, *self.extra_articles]}

    # --- serving ---------------------------------------------------------------

    def start(self) -> Site:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *_args):
                pass

            def _send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8", **headers):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k.replace("_", "-"), v)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
                if status == 200:
                    with site._lock:
                        site.served[self.path] += 1

            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path
                with site._lock:
                    site.hits[path] += 1
                    hits = site.hits[path]
                    site.agents.add(self.headers.get("User-Agent", ""))
                try:
                    self._route(path, hits)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _route(self, path: str, hits: int):
                if path == "/rss.xml":
                    if self.headers.get("If-None-Match") == '"rss-v1"':
                        with site._lock:
                            site.not_modified[path] += 1
                        return self._send(304, ETag='"rss-v1"')
                    return self._send(200, site.routes[path], "application/rss+xml", ETag='"rss-v1"')
                if path == "/atom.xml":
                    if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                        with site._lock:
                            site.not_modified[path] += 1
                        return self._send(304)
                    return self._send(200, site.routes[path], "application/atom+xml", Last_Modified=LAST_MODIFIED)
                if path.endswith(".xml") and path in site.routes:
                    return self._send(200, site.routes[path], "application/xml")
                if path == "/robots.txt":
                    return self._send(200, site.routes[path], "text/plain")
                if site.faults:
                    if path == "/slow.html":
                        time.sleep(site.slow_seconds)
                        return self._send(200, site.routes[site.flaky_path])
                    if path == site.flaky_path and hits <= 2:
                        return self._send(500, b"busy")
                    if path == "/down.html":
                        return self._send(500, b"down")
                    if path == "/loop/a":
                        return self._send(302, b"", Location="/loop/b")
                    if path == "/loop/b":
                        return self._send(302, b"", Location=site.url("/loop/a"))
                    if path == "/redirect.html":
                        return self._send(301, b"", Location=site.moved_path)
                    if path == "/image.png":
                        return self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
                    if path == "/huge.html":
                        return self._huge(with_length=True)
                    if path == "/huge-stream.html":
                        return self._huge(with_length=False)
                if path in site.routes:
                    if site.page_delay:
                        time.sleep(site.page_delay)
                    return self._send(200, site.routes[path])
                return self._send(404, b"not found")

            def _huge(self, with_length: bool):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                if with_length:
                    self.send_header("Content-Length", str(HUGE))
                self.end_headers()
                block = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
                for _ in range(HUGE // len(block)):
                    self.wfile.write(block)

        return Handler


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "artikel"
