"""The Flask app: search page (with its timeline), co-occurrence page, article
pages (with similar articles), help, error pages, and the JSON API.

Pages are server-rendered without JavaScript: every facet value, sort order and
page number is a real link that rewrites the query string, so history,
bookmarks, keyboards and phones all work the same.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, NotFound
from whoosh.index import IndexError as WhooshIndexError

from . import api, insights
from .errors import QueryError, message
from .indexer import IndexerError
from .schema import FACETS
from .search import MAX_WINDOW, Filters, LiveIndex, get_article, mark

FACET_LABELS = {"outlet": "Media", "actor": "Aktor", "topic": "Topik"}
SIDEBAR_ORDER = ("actor", "topic", "outlet")
SORT_LABELS = {"relevance": "Relevansi", "newest": "Terbaru", "oldest": "Terlama"}
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
          "Agustus", "September", "Oktober", "November", "Desember")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
HTTP_HEADINGS = {400: "Permintaan tidak valid", 404: "Halaman tidak ditemukan", 405: "Metode tidak diizinkan"}
HTTP_MESSAGES = {400: "Server tidak dapat memahami permintaan ini.",
                 404: "Alamat ini tidak ada. Mungkin tautannya sudah usang atau salah ketik.",
                 405: "Halaman ini hanya bisa dibuka dengan GET."}
OTHER_HEADINGS = {4: "Permintaan tidak dapat dilayani", 5: "Terjadi kesalahan"}  # by the first digit of the status
DEFAULT_PER_PAGE = 10
FACET_VISIBLE = 8
INTERVAL_LABELS = {"day": "hari", "week": "minggu", "month": "bulan"}
CHART_HEIGHT = 176  # px; x positions are percentages so the chart fills any width without scaling its text
CHART_TOP, CHART_BOTTOM = 22, 26  # room for the scale label above and the date ticks below
MAX_SERIES = 5  # lines drawn for selected actors (one colour class each)
HEAT_LEVELS = 5
COUNTS_ON_BARS = 12  # up to this many bars, each carries its count; beyond, the count is in its tooltip
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")


def _templates_dir() -> Path:
    """The repo's templates/ in a checkout, else the copy `pip install` put under share/."""
    here = Path(__file__).resolve().parent.parent / "templates"
    return here if here.is_dir() else Path(sys.prefix) / "share" / "searchapp" / "templates"


# --- the state of a search page and the links that change it -------------------


def _clean(values: list[str]) -> tuple[str, ...]:
    """Stripped, non-empty, first occurrence kept: how search() reads facet values."""
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


@dataclass(frozen=True)
class SearchState:
    """The normalised parameters of a search page; each method returns a URL that changes one thing."""

    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"
    per_page: int = DEFAULT_PER_PAGE
    page: int = 1
    required: tuple[str, ...] = ()  # `all_actor`: articles must name every one of these

    @classmethod
    def of(cls, result: dict, args: MultiDict) -> SearchState:
        return cls(
            q=result["query"],
            filters={name: _clean(args.getlist(name)) for name in FACETS},
            date_from=result["from"],
            date_to=result["to"],
            sort=result["sort"],
            per_page=result["per_page"],
            page=result["page"],
            required=_clean(args.getlist("all_actor")),
        )

    @classmethod
    def of_filters(cls, args: MultiDict) -> SearchState:
        """The state of a page that shows a view of the result set, not a page of hits
        (validated like a search: a bad date raises QueryError)."""
        f = Filters.make(**api.filter_params(args))
        return cls(
            q=f.q,
            filters={name: _clean(args.getlist(name)) for name in FACETS},
            date_from=f.date_from.isoformat() if f.date_from else None,
            date_to=f.date_to.isoformat() if f.date_to else None,
            required=_clean(args.getlist("all_actor")),
        )

    @property
    def browsing(self) -> bool:
        return not self.q.strip()

    @property
    def has_filters(self) -> bool:
        return any(self.filters.values()) or bool(self.required or self.date_from or self.date_to)

    def filter_params(self) -> list[tuple[str, str]]:
        """The pairs that select articles: what every view of the result set shares."""
        pairs = [("q", self.q)] if self.q else []
        pairs += [(name, v) for name in FACETS for v in self.filters.get(name, ())]
        pairs += [("all_actor", v) for v in self.required]
        pairs += [(k, v) for k, v in (("from", self.date_from), ("to", self.date_to)) if v]
        return pairs

    def params(self) -> list[tuple[str, str]]:
        """Query-string pairs, defaults left out so URLs stay short and canonical."""
        pairs = self.filter_params()
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if self.page > 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, **changes) -> str:
        """This search with `changes`; any change but paging goes back to page 1."""
        changes.setdefault("page", 1)
        query = urlencode(replace(self, **changes).params())
        return url_for("search_page") + (f"?{query}" if query else "")

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    def toggle(self, facet: str, value: str) -> str:
        values = self.filters.get(facet, ())
        values = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.url(filters={**self.filters, facet: values})

    def sort_url(self, sort: str) -> str:
        return self.url(sort=sort)

    def query_url(self, q: str) -> str:
        return self.url(q=q)

    def without_filters(self) -> str:
        return self.url(filters={}, required=(), date_from=None, date_to=None)

    def period_url(self, start: str, end: str) -> str:
        """This search narrowed to a period, kept inside the dates already chosen."""
        start = max(start, self.date_from) if self.date_from else start
        end = min(end, self.date_to) if self.date_to else end
        return self.url(date_from=start, date_to=end)

    def with_all(self, *actors: str) -> str:
        """This search keeping only articles that also name every one of `actors`."""
        return self.url(required=tuple(dict.fromkeys((*self.required, *actors))))

    def view_url(self, endpoint: str, **extra) -> str:
        """The same articles on another page or API view (filters only, no sort or paging)."""
        query = urlencode([*extra.items(), *self.filter_params()])
        return url_for(endpoint) + (f"?{query}" if query else "")

    def without_dates(self) -> str:
        return self.url(date_from=None, date_to=None)

    def chips(self) -> list[dict]:
        """The active filters, each with a label and the URL that removes it."""
        chips = [
            {"label": FACET_LABELS[name], "value": v, "remove": self.toggle(name, v)}
            for name in FACETS
            for v in self.filters.get(name, ())
        ]
        chips += [
            {"label": "Menyebut", "value": v, "remove": self.url(required=tuple(r for r in self.required if r != v))}
            for v in self.required
        ]
        if self.date_from:
            chips.append({"label": "Sejak", "value": long_date(self.date_from), "remove": self.url(date_from=None)})
        if self.date_to:
            chips.append({"label": "Sampai", "value": long_date(self.date_to), "remove": self.url(date_to=None)})
        return chips

    def sort_options(self) -> list[dict]:
        """Sort links; when browsing, relevance means newest, so only the date orders are offered."""
        current = "newest" if self.browsing and self.sort == "relevance" else self.sort
        names = ("newest", "oldest") if self.browsing else tuple(SORT_LABELS)
        return [
            {"label": SORT_LABELS[s], "url": self.sort_url("relevance" if self.browsing and s == "newest" else s),
             "current": s == current}
            for s in names
        ]


def facet_groups(result: dict) -> list[dict]:
    """Sidebar groups: the top values visible, the rest folded, selected ones never folded away."""
    groups = []
    for name in SIDEBAR_ORDER:
        facet = result["facets"][name]
        rows = facet["results"]
        if not rows:
            continue
        visible = [r for i, r in enumerate(rows) if i < FACET_VISIBLE or r["selected"]]
        more = [r for i, r in enumerate(rows) if i >= FACET_VISIBLE and not r["selected"]]
        groups.append({"name": name, "label": FACET_LABELS[name], "visible": visible, "more": more,
                       "truncated": facet["truncated"]})
    return groups


def reading(result: dict) -> dict:
    """How the query was searched: each word, its stem and the written forms of
    that stem it matched in the corpus; prefix patterns; actor alias,
    abbreviation and name-spelling expansions."""
    searched = result.get("searched_as") or {}
    aliases = list(dict.fromkeys((a["alias"], a["actor"]) for a in searched.get("actors", [])))
    alias_words = {part for alias, _actor in aliases for part in alias.lower().split()}
    words, seen = [], set()
    for w in searched.get("words", []):
        key = (w["word"].lower(), w["stem"])
        forms = list(w.get("forms") or [])
        changed = bool(w["stem"]) and w["stem"] != w["word"].lower()
        if key in seen or (not changed and not forms and key[0] in alias_words):
            continue  # a name searched as an actor says it better below
        seen.add(key)
        words.append({"word": w["word"], "stem": w["stem"], "forms": forms, "changed": changed})
    stems = [(w["word"], w["stem"]) for w in words if w["changed"]]
    synonyms = [(s["typed"], s["forms"]) for s in searched.get("synonyms", [])]
    spellings = [(s["typed"], s["variants"]) for s in searched.get("spellings", [])]
    return {"words": words, "stems": stems, "aliases": aliases, "synonyms": synonyms, "spellings": spellings,
            "shown": bool(stems or aliases or synonyms or spellings
                          or any(w["forms"] or not w["stem"] for w in words))}


# --- views of the whole result set ------------------------------------------------


def _pct(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") + "%"


def _tick_label(start: date, interval: str, with_year: bool) -> str:
    month = MONTHS[start.month - 1][:3]
    if interval == "month":
        return f"{month} {start.year}"
    return f"{start.day} {month}" + (f" {start.year}" if with_year else "")


def _period_label(start: str, end: str, interval: str) -> str:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if interval == "day":
        return long_date(start, weekday=True)
    if interval == "month":
        return f"{MONTHS[first.month - 1]} {first.year}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {MONTHS[first.month - 1][:3]} {first.year}"
    head = f"{first.day} {MONTHS[first.month - 1][:3]}" + (f" {first.year}" if first.year != last.year else "")
    return f"{head} – {short_date(end)}"


def timeline_chart(tl: dict, state: SearchState) -> dict | None:
    """SVG geometry of the timeline: bars (each a link to its period), date ticks,
    and a line per compared actor. X is in percent, Y in px, so text never scales."""
    buckets = tl["buckets"]
    if len(buckets) < 2:
        return None
    n = len(buckets)
    series = list(tl["series"].items())[:MAX_SERIES]
    if len(series) == 1 and series[0][1] == [b["count"] for b in buckets]:
        series = []  # one actor that every result names: its line would trace the bars
    top = max(max(b["count"] for b in buckets), *(max(c, default=0) for _n, c in series), 1)
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    base = CHART_TOP + plot
    gap = 0.22 if n <= 40 else 0.12 if n <= 120 else 0.0
    interval = tl["interval"]

    def y(count: int) -> float:
        return round(base - plot * count / top, 1)

    bars = []
    for i, b in enumerate(buckets):
        height = 0 if not b["count"] else max(2.0, round(plot * b["count"] / top, 1))
        label = _period_label(b["start"], b["end"], interval)
        bars.append({
            "x": _pct(100 * (i + gap / 2) / n), "width": _pct(100 * (1 - gap) / n),
            "slot_x": _pct(100 * i / n), "slot_width": _pct(100 / n),
            "y": round(base - height, 1), "height": height, "count": b["count"],
            "title": f"{label}: {number(b['count'])} artikel",
            "center": _pct(100 * (i + 0.5) / n), "label_y": round(base - height - 5, 1),
            "href": state.period_url(b["start"], b["end"]) if b["count"] else None,
        })
    years = {b["start"][:4] for b in buckets}
    inner = 2 if n >= 9 else 1 if n >= 3 else 0  # room for four labels even at phone width
    spots = sorted({0, n - 1, *(round(k * (n - 1) / (inner + 1)) for k in range(1, inner + 1))})
    ticks = []
    for i in spots:
        start = date.fromisoformat(buckets[i]["start"])
        edge = i in (0, n - 1)
        ticks.append({
            "x": _pct(100 * (i + 0.5) / n), "text_x": "0%" if i == 0 else "100%" if i == n - 1 else _pct(100 * (i + 0.5) / n),
            "anchor": "start" if i == 0 else "end" if i == n - 1 else "middle",
            "label": _tick_label(start, interval, with_year=edge or len(years) > 1),
        })
    lines = []
    for k, (name, counts) in enumerate(series):
        points = [(_pct(100 * (i + 0.5) / n), y(c)) for i, c in enumerate(counts)]
        lines.append({
            "name": name, "cls": f"s{k}", "total": sum(counts), "points": points,
            "segments": [(*points[i], *points[i + 1]) for i in range(len(points) - 1)],
        })
    return {
        "height": CHART_HEIGHT, "base": base, "top_y": CHART_TOP, "mid_y": round(CHART_TOP + plot / 2, 1),
        "top": top, "mid": top / 2, "bars": bars, "counts_shown": n <= COUNTS_ON_BARS, "ticks": ticks, "lines": lines,
        "interval": INTERVAL_LABELS.get(interval, interval), "tick_y": base + 17, "undated": tl["undated"],
        "label": f"Jumlah artikel per {INTERVAL_LABELS.get(interval, interval)}, "
                 f"{short_date(buckets[0]['start'])} sampai {short_date(buckets[-1]['end'])}",
    }


def heatmap(co: dict, state: SearchState) -> dict:
    """The co-occurrence matrix as table rows: each cell its count, a shade level
    and a link to the articles naming both actors (the diagonal: the actor alone)."""
    names = [a["value"] for a in co["actors"]]
    off = [n for i, row in enumerate(co["matrix"]) for j, n in enumerate(row) if i != j]
    peak = max(off, default=0) or 1
    rows = []
    for i, a in enumerate(names):
        cells = []
        for j, b in enumerate(names):
            n = co["matrix"][i][j]
            own = i == j
            level = 0 if not n else HEAT_LEVELS if own else max(1, ceil(HEAT_LEVELS * n / peak))
            cells.append({
                "count": n, "own": own, "cls": "self" if own else f"h{level}",
                "href": (state.with_all(a) if own else state.with_all(a, b)) if n else None,
                "title": f"{a}: {number(n)} artikel" if own else f"{a} & {b}: {number(n)} artikel",
            })
        rows.append({"actor": a, "count": co["actors"][i]["count"], "href": state.with_all(a), "cells": cells})
    pairs = [{**p, "href": state.with_all(p["a"], p["b"])} for p in co["pairs"]]
    return {"names": names, "rows": rows, "pairs": pairs, "peak": peak, "total": co["total"]}


def pages(result: dict) -> dict:
    """Pagination: last page reachable (search() serves 10,000 hits deep) and the numbers to show."""
    per_page, page = result["per_page"], result["page"]
    last = max(1, min(-(-result["total"] // per_page), MAX_WINDOW // per_page))
    shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return {"last": last, "numbers": numbers, "first_hit": (page - 1) * per_page + 1,
            "last_hit": (page - 1) * per_page + len(result["hits"])}


# --- rendering helpers -----------------------------------------------------------


def marked(text: str | None, marks) -> Markup:
    """Text escaped, with only the matched words wrapped in <mark>."""
    return Markup(mark(text or "", marks or [], "<mark>", "</mark>", lambda s: str(escape(s))))


def lead(text: str, words: int = 12) -> str:
    """The first words of a text: the stand-in title of articles without a headline."""
    parts = text.removeprefix("… ").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def title_html(item: dict) -> Markup:
    if item.get("title"):
        return marked(item["title"], item.get("title_highlights"))
    fallback = lead(item.get("snippet") or item.get("body") or "") or item["id"]
    return Markup('<span class="untitled" title="Tanpa judul: ditampilkan kata-kata pertamanya">{}</span>').format(fallback)


def paragraphs(text: str, marks) -> list[Markup]:
    """The body as paragraphs (one per line of text), each with its own marks."""
    out = []
    for line in re.finditer(r"[^\n]*\S[^\n]*", text or ""):
        start, end = line.span()
        inner = [[s - start, e - start] for s, e in marks or [] if s >= start and e <= end]
        out.append(marked(line.group(), inner))
    return out


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


def took(ms: float) -> str:
    return "< 1 ms" if ms < 1 else f"{ms:,.0f} ms".replace(",", ".")


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None: data must never inject javascript: links."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# --- the app -----------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _error_page(status: int, heading: str, code: str, message_code: str, **params):
    """The error as a page (Indonesian) or, under /api/, as JSON in the request's language;
    `code` is the API's kind of error, `message_code` the catalogue message."""
    if _wants_json():
        return api.error_json(status, code, message(message_code, api.language(), **params))
    text = message(message_code, "id", **params)
    return render_template("error.html", status=status, heading=heading, message=text), status


def create_app(test_config: dict | None = None) -> Flask:
    """App factory: one LiveIndex per app, reopened by itself when the live build changes."""
    app = Flask(
        __name__,
        template_folder=str(_templates_dir()),
        static_folder=str(Path(__file__).resolve().parent / "static"),
    )
    app.config.from_mapping(INDEX_DIR=os.environ.get("SEARCHAPP_INDEX", "index"))
    if test_config:
        app.config.from_mapping(test_config)
    app.extensions["searchapp.index"] = LiveIndex(app.config["INDEX_DIR"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.register_blueprint(api.bp)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(marked=marked, long_date=long_date, short_date=short_date, number=number, took=took)
    app.jinja_env.globals.update(title_html=title_html, safe_url=safe_url)

    def without_empty(endpoint: str):
        """A redirect to the same page without empty parameters, or None."""
        pairs = list(request.args.items(multi=True))
        if all(v != "" for _k, v in pairs):
            return None
        clean = [(k, v) for k, v in pairs if v != ""]
        return redirect(url_for(endpoint) + (f"?{urlencode(clean)}" if clean else ""))

    @app.get("/")
    def search_page():
        args = request.args
        if redirected := without_empty("search_page"):
            return redirected
        result = api.run_search(args)
        state = SearchState.of(result, args)
        chart = timeline_chart(api.run_timeline(args), state) if result["total"] else None
        return render_template("search.html", result=result, state=state, pages=pages(result),
                               facet_groups=facet_groups(result), reading=reading(result), chart=chart,
                               export_cap=insights.EXPORT_CAP)

    @app.get("/cooccurrence")
    def cooccurrence_page():
        args = request.args
        if redirected := without_empty("cooccurrence_page"):
            return redirected
        state = SearchState.of_filters(args)
        co = api.run_cooccurrence(args)
        return render_template("cooccurrence.html", state=state, co=co, heat=heatmap(co, state),
                               size=len(co["actors"]), export_cap=insights.EXPORT_CAP)

    @app.get("/article/<path:article_id>")
    def article_page(article_id: str):
        q = request.args.get("q", "")
        live = api.live_index()
        article = get_article(live, article_id, q)
        if article is None:
            raise NotFound(message("article_not_found", "id", id=article_id))
        return render_template("article.html", article=article, back=SearchState(q=q), browse=SearchState(),
                               paragraphs=paragraphs(article["body"], article["highlights"]),
                               similar=insights.similar(live, article_id) or [])

    @app.get("/help")
    def help_page():
        return render_template("help.html", blank=SearchState())

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError):
        if _wants_json():
            return api.query_error_json(exc)
        return render_template("error.html", status=400, heading="Permintaan tidak dapat diproses",
                               message=exc.message("id")), 400

    @app.errorhandler(IndexerError)
    def no_index(exc: IndexerError):
        app.logger.warning("index unavailable: %s", exc)
        return _error_page(503, "Indeks belum tersedia", "index_unavailable", "no_index")

    @app.errorhandler(WhooshIndexError)
    @app.errorhandler(OSError)
    def unreadable_index(exc: Exception):
        app.logger.exception("index unreadable")
        return _error_page(503, "Indeks tidak dapat dibaca", "index_unavailable", "index_unreadable")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else {}
        if _wants_json():
            code = exc.name.lower().replace(" ", "_")
            text = (message(code, api.language()) if code in ("not_found", "method_not_allowed")
                    else message("http_error", api.language(), status=status))
            body, _ = api.error_json(status, code, text)
            return body, status, headers
        own_words = exc.description != type(exc).description  # ours are Indonesian; Werkzeug's are not
        heading = HTTP_HEADINGS.get(status) or OTHER_HEADINGS.get(status // 100, OTHER_HEADINGS[5])
        page = render_template("error.html", status=status, heading=heading,
                               message=exc.description if own_words else HTTP_MESSAGES.get(status, ""))
        return page, status, headers

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        app.logger.exception("unhandled error")
        return _error_page(500, "Terjadi kesalahan", "internal_error", "internal_error")

    return app
