"""The HTML pages: search (with its timeline), co-occurrence, quotes,
queries compared, actor pages and the index of actors, article (with similar
articles) and help.

Pages are server-rendered without JavaScript: every facet value, sort order and
page number is a real link that rewrites the query string, so history,
bookmarks, keyboards and phones all work the same.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from searchapp.search import insights
from searchapp.errors import message
from searchapp.web import engine, params
from searchapp.web.charts import compare_chart, compare_table, heatmap, query_name, timeline_chart, unit_of
from searchapp.web.formatting import paragraphs
from searchapp.web.params import SearchState
from searchapp.web.results import facet_groups, pagination, quote_view, reading

bp = Blueprint("pages", __name__)
SIGNIFICANT_ON_PAGE = 15  # "Kata khas" under a query; browsing (the whole corpus, newest) has none


def _without_empty(endpoint: str) -> Response | None:
    """A redirect to the same page without empty parameters, or None."""
    pairs = list(request.args.items(multi=True))
    if all(v != "" for _k, v in pairs):
        return None
    clean = [(k, v) for k, v in pairs if v != ""]
    return redirect(url_for(endpoint) + (f"?{urlencode(clean)}" if clean else ""))


@bp.get("/")
def search_page() -> Response | str:
    args = request.args
    if redirected := _without_empty("pages.search_page"):
        return redirected
    result = engine.run_search(args)
    state = SearchState.of(result, args)
    chart = timeline_chart(engine.run_timeline(args), state) if result["total"] else None
    significant = engine.run_significant(args, SIGNIFICANT_ON_PAGE) if result["total"] and not state.browsing else None
    return render_template("search.html", result=result, state=state, pages=pagination(result),
                           facet_groups=facet_groups(result), reading=reading(result), chart=chart,
                           significant=significant, export_cap=insights.EXPORT_CAP)


@bp.get("/cooccurrence")
def cooccurrence_page() -> Response | str:
    args = request.args
    if redirected := _without_empty("pages.cooccurrence_page"):
        return redirected
    state = SearchState.of_filters(args)
    co = engine.run_cooccurrence(args)
    return render_template("cooccurrence.html", state=state, co=co, heat=heatmap(co, state),
                           size=len(co["actors"]), export_cap=insights.EXPORT_CAP)


@bp.get("/quotes")
def quotes_page() -> Response | str:
    """The "Kutipan" view: who said what in the result set's articles."""
    args = request.args
    if redirected := _without_empty("pages.quotes_page"):
        return redirected
    state = SearchState.of_filters(args)
    result = engine.run_quotes(args)
    return render_template("quotes.html", state=state, result=result, view=quote_view(result, state))


@bp.get("/compare")
def compare_page() -> str:
    """Two to four queries compared; with fewer, the form to add one."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "measure"]
    if len(request.args.getlist("q")) < 2:
        states = [SearchState.of_keywords(q) for q in params.compare_params(request.args)]
        return render_template("compare.html", cmp=None, states=states, kept=kept, blank=SearchState(),
                               names=[query_name(s, i) for i, s in enumerate(states)])
    queries, cmp = engine.run_compare(request.args)
    states = [SearchState.of_keywords(q) for q in queries]
    measure = params.measure(request.args)
    measure_urls = {m: url_for("pages.compare_page") + "?" + urlencode(kept + ([("measure", m)] if m != "count" else []))
                    for m in params.MEASURES}
    unit_kept = [(k, v) for k, v in request.args.items(multi=True) if k != "count"]
    count_urls = {c: url_for("pages.compare_page") + "?" + urlencode(unit_kept + [("count", c)])
                  for c in ("stories", "articles")}
    return render_template("compare.html", cmp=cmp, states=states, measure=measure, measure_urls=measure_urls, kept=kept,
                           chart=compare_chart(cmp, states, measure), table=compare_table(cmp, states),
                           count_urls=count_urls, unit=unit_of(cmp["count"]), blank=SearchState())


@bp.get("/actors")
def actors_page() -> str:
    return render_template("actors.html", index=engine.actors(request.args), blank=SearchState())


@bp.get("/actor/<path:name>")
def actor_page(name: str) -> str:
    profile = engine.actor(name, request.args)
    if profile is None:
        raise NotFound(message("actor_not_found", "id", name=name))
    measure = params.measure(request.args) if "measure" in request.args else "share"
    state = SearchState(required=(name,), measure=measure, count=profile["count"])
    articles = "articles" if profile["count"] == "articles" else None
    measure_urls = {m: url_for("pages.actor_page", name=name, measure=None if m == "share" else m, count=articles)
                    for m in params.MEASURES}
    count_urls = {c: url_for("pages.actor_page", name=name, measure=None if measure == "share" else measure,
                             count="articles" if c == "articles" else None) for c in ("stories", "articles")}
    return render_template("actor.html", actor=profile, state=state, chart=timeline_chart(profile["timeline"], state),
                           measure_urls=measure_urls, count_urls=count_urls, unit=unit_of(profile["count"]),
                           blank=SearchState())


MARKER_LABELS = {"dateline": "tanda baris", "kutipan": "dikutip dari", "sumber": "sumber:", "rilis": "siaran pers"}


@bp.get("/article/<path:article_id>")
def article_page(article_id: str) -> str:
    q = request.args.get("q", "")
    article = engine.article(article_id, q)
    if article is None:
        raise NotFound(message("article_not_found", "id", id=article_id))
    anchors = [quote["start"] for quote in engine.article_quotes(article_id)]
    return render_template("article.html", article=article, back=SearchState(q=q), browse=SearchState(),
                           paragraphs=paragraphs(article["body"], article["highlights"], anchors),
                           similar=engine.similar(article_id) or [], marker_labels=MARKER_LABELS)


@bp.get("/help")
def help_page() -> str:
    return render_template("help.html", blank=SearchState())
