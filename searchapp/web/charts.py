"""The charts drawn on the server as SVG and HTML (the pages run no JavaScript):
the timeline of a result set and the co-occurrence heat map of its actors.

Each function turns an insights dict into geometry and links only; the
templates draw it. Every bar and cell links to exactly the articles it counts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from math import ceil

from searchapp.search.querylang import MAX_QUERY_CHARS
from searchapp.web.formatting import MONTHS, long_date, number, percent, short_date
from searchapp.web.params import SearchState

INTERVAL_LABELS = {"day": "hari", "week": "minggu", "month": "bulan"}
CHART_HEIGHT = 176  # px; x positions are percentages so the chart fills any width without scaling its text
CHART_TOP, CHART_BOTTOM = 22, 26  # room for the scale label above and the date ticks below
MAX_SERIES = 5  # lines drawn for selected actors (one colour class each)
HEAT_LEVELS = 5
COUNTS_ON_BARS = 12  # up to this many bars, each carries its count; beyond, the count is in its tooltip


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


def _ticks(buckets: list[dict], interval: str) -> list[dict]:
    """Date labels under the first, last and a few middle periods."""
    n = len(buckets)
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
    return ticks


def timeline_chart(tl: dict, state: SearchState) -> dict | None:
    """SVG geometry of the timeline: bars (each a link to its period), date ticks,
    and a line per compared actor; heights are article counts, or with
    `measure=share` the share of all the period's articles. X is in percent,
    Y in px, so text never scales."""
    buckets = tl["buckets"]
    if len(buckets) < 2:
        return None
    n = len(buckets)
    share = state.measure == "share"
    key = "share" if share else "count"
    series = list(tl["series"].items())[:MAX_SERIES]
    if len(series) == 1 and series[0][1] == [b["count"] for b in buckets]:
        series = []  # one actor that every result names: its line would trace the bars
    if share:
        series = [(name, tl["series_share"][name]) for name, _counts in series]
    top = max([b[key] for b in buckets] + [v for _n, c in series for v in c]) or 1
    shown = percent if share else number
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    base = CHART_TOP + plot
    gap = 0.22 if n <= 40 else 0.12 if n <= 120 else 0.0
    interval = tl["interval"]

    def y(count: int) -> float:
        return round(base - plot * count / top, 1)

    bars = []
    for i, b in enumerate(buckets):
        height = 0 if not b["count"] else max(2.0, round(plot * b[key] / top, 1))
        label = _period_label(b["start"], b["end"], interval)
        bars.append({
            "x": _pct(100 * (i + gap / 2) / n), "width": _pct(100 * (1 - gap) / n),
            "slot_x": _pct(100 * i / n), "slot_width": _pct(100 / n),
            "y": round(base - height, 1), "height": height, "count": b["count"], "value": shown(b[key]),
            "title": f"{label}: {number(b['count'])} artikel dari {number(b['corpus'])} ({percent(b['share'])})",
            "center": _pct(100 * (i + 0.5) / n), "label_y": round(base - height - 5, 1),
            "href": state.period_url(b["start"], b["end"]) if b["count"] else None,
        })
    ticks = _ticks(buckets, interval)
    lines = []
    for k, (name, counts) in enumerate(series):
        points = [(_pct(100 * (i + 0.5) / n), y(c)) for i, c in enumerate(counts)]
        lines.append({
            "name": name, "cls": f"s{k}", "total": sum(tl["series"][name]), "points": points,
            "segments": [(*points[i], *points[i + 1]) for i in range(len(points) - 1)],
        })
    unit = unit_of(tl.get("count"))
    return {
        "height": CHART_HEIGHT, "base": base, "top_y": CHART_TOP, "mid_y": round(CHART_TOP + plot / 2, 1),
        "top": shown(top) + ("" if share else f" {unit}"), "bars": bars, "share": share, "counts_shown": n <= COUNTS_ON_BARS, "ticks": ticks, "lines": lines,
        "interval": INTERVAL_LABELS.get(interval, interval), "tick_y": base + 17, "undated": tl["undated"], "unit": unit,
        "outlets": [{**o, "href": state.url(filters={**state.filters, "outlet": (o["value"],)})} for o in tl["outlets"]],
        "label": f"{'Porsi dari semua ' + unit if share else 'Jumlah ' + unit} per {INTERVAL_LABELS.get(interval, interval)}, "
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


def query_name(state: SearchState, i: int) -> str:
    """How a compared query is named on the page: its words, or what it filters."""
    if state.q:
        return state.q
    chosen = [v for values in state.filters.values() for v in values] + list(state.required)
    return ", ".join(chosen) or f"Kueri {i + 1} (semua artikel)"


def unit_of(count: str | None) -> str:
    """What a count counts, as the page says it."""
    return "berita" if count == "stories" else "artikel"


def compare_chart(cmp: dict, states: list[SearchState], measure: str) -> dict | None:
    """SVG geometry of compared queries: a line per query over the same
    periods (counts or shares), each point a link to that query's articles
    of the period."""
    buckets = cmp["buckets"]
    if len(buckets) < 2:
        return None
    n = len(buckets)
    share = measure == "share"
    values = [q["shares"] if share else q["counts"] for q in cmp["queries"]]
    top = max(max(v, default=0) for v in values) or 1
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    base = CHART_TOP + plot
    shown = percent if share else number
    unit = unit_of(cmp.get("count"))
    lines = []
    for k, (q, line, state) in enumerate(zip(cmp["queries"], values, states)):
        name = query_name(state, k)
        points = []
        for i, (b, v) in enumerate(zip(buckets, line)):
            points.append({
                "x": _pct(100 * (i + 0.5) / n), "y": round(base - plot * v / top, 1),
                "href": state.period_url(b["start"], b["end"]) if q["counts"][i] else None,
                "title": f"{name}, {_period_label(b['start'], b['end'], cmp['interval'])}: "
                         f"{number(q['counts'][i])} {unit} dari {number(b['corpus'])} ({percent(q['shares'][i])})",
            })
        lines.append({"name": name, "cls": f"s{k}", "total": q["total"], "href": state.url(), "points": points,
                      "segments": [(a["x"], a["y"], b["x"], b["y"]) for a, b in zip(points, points[1:])]})
    return {
        "height": CHART_HEIGHT, "base": base, "top_y": CHART_TOP, "mid_y": round(CHART_TOP + plot / 2, 1),
        "top": shown(top) + ("" if share else f" {unit}"), "lines": lines, "ticks": _ticks(buckets, cmp["interval"]),
        "tick_y": base + 17, "share": share, "interval": INTERVAL_LABELS.get(cmp["interval"], cmp["interval"]),
        "unit": unit,
        "label": f"{'Porsi dari semua ' + unit if share else 'Jumlah ' + unit} per "
                 f"{INTERVAL_LABELS.get(cmp['interval'], cmp['interval'])}, satu garis per kueri",
    }


def _together(states: list[SearchState]) -> str | None:
    """The search for the articles that at least two of the queries find,
    when one search can say it: the same filters, every query non-empty, not
    too long a query."""
    first = states[0]
    if any(s.filters != first.filters or s.required != first.required for s in states) or not all(s.q for s in states):
        return None
    pairs = [f"(({a.q}) ({b.q}))" for i, a in enumerate(states) for b in states[i + 1 :]]
    if len(" OR ".join(pairs)) > MAX_QUERY_CHARS:
        return None
    starts = [s.date_from for s in states if s.date_from]
    ends = [s.date_to for s in states if s.date_to]
    both = replace(first, q=" OR ".join(pairs), date_from=max(starts, default=None), date_to=min(ends, default=None))
    return both.url()


def compare_table(cmp: dict, states: list[SearchState]) -> dict:
    """Outlets side by side (each cell a link to that query's articles of the
    outlet), top actors per query, and the overlap with links where one
    search can express it."""
    queries = cmp["queries"]
    order: dict[str, int] = {}
    for q in queries:
        for o in q["outlets"]:
            order[o["value"]] = order.get(o["value"], 0) + o["count"]
    cells = [{o["value"]: o for o in q["outlets"]} for q in queries]
    outlets = [{"value": v, "cells": [
        {**cells[i][v], "href": states[i].url(filters={**states[i].filters, "outlet": (v,)})} if v in cells[i] else None
        for i in range(len(queries))]} for v in sorted(order, key=lambda v: (-order[v], v.lower()))]
    actors = [[{**a, "href": states[i].url(filters={**states[i].filters, "actor": (a["value"],)})} for a in q["actors"]]
              for i, q in enumerate(queries)]
    pairs = [{**p, "a_name": query_name(states[p["a"]], p["a"]), "b_name": query_name(states[p["b"]], p["b"]),
              "href": _together([states[p["a"]], states[p["b"]]])} for p in cmp["overlap"]["pairs"]]
    names = [query_name(s, i) for i, s in enumerate(states)]
    overlap = cmp["overlap"]["stories" if cmp.get("count") == "stories" else "articles"]
    return {"names": names, "outlets": outlets, "actors": actors, "pairs": pairs,
            "overlap": overlap, "overlap_href": _together(states)}
