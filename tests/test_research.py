"""Research views: attention as a share, queries compared, actor pages and the
index of actors. Every number is checked against a brute-force count over the
built corpus (the seeds and 600 real articles) or against what its link
returns; every JSON response against /api/openapi.json."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from searchapp.search import search
from searchapp.search.compare import compare
from searchapp.search.insights import timeline
from searchapp.search.profiles import actor_index, actor_profile
from searchapp.search.request import Request
from searchapp.search.service import select
from searchapp.web import create_app

from tests.conftest import app_config, SEEDS, engine_at, rebuild, write_jsonl
from tests.test_api import check, error_of
from tests.test_web import get, query_of, total

pytestmark = pytest.mark.engines


def every_article(engine) -> list[dict]:
    sel = select(engine, Request.make(""))
    return [sel.snapshot.article(d) for d in sel.snapshot.docs(sel.rs)]


def ids_of(engine, **filters) -> set[str]:
    sel = select(engine, Request.make(**filters))
    return {sel.snapshot.article(d)["id"] for d in sel.snapshot.docs(sel.rs)}


def in_period(article: dict, start: str, end: str) -> bool:
    return article["published"] is not None and start <= article["published"].isoformat() <= end


@pytest.fixture(scope="module")
def mixed_index(clickid_records, tmp_path_factory, engine_name):
    """600 real articles drawn from every outlet of the 2019 corpus (its first
    600 all come from one outlet)."""
    path = tmp_path_factory.mktemp("research")
    write_jsonl(path / "sample.jsonl", random.Random(16).sample(clickid_records, 600))
    rebuild([path / "sample.jsonl"], path / "index")
    return path / "index"


@pytest.fixture(scope="module")
def clive(mixed_index, engine_name):
    engine = engine_at(mixed_index)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def engines(clive, tmp_path_factory, engine_name):
    """The engine of each test corpus: the seeds and the 600 mixed articles."""
    seeds = tmp_path_factory.mktemp("research-seeds") / "index"
    rebuild([SEEDS], seeds, procs=1)
    engine = engine_at(seeds)
    yield {"seeds": engine, "mixed": clive}
    engine.close()


@pytest.fixture(scope="module")
def capp(mixed_index, engine_name):
    app = create_app(app_config(mixed_index))
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def cclient(capp):
    return capp.test_client()


@pytest.fixture
def cspec(cclient) -> dict:
    return cclient.get("/api/openapi.json").get_json()


# --- attention as a share ---------------------------------------------------------


@pytest.mark.parametrize("corpus, filters", [
    ("mixed", {"q": "presiden"}), ("mixed", {"q": "polisi", "outlet": ["Tempo", "Okezone"]}), ("mixed", {"q": ""}),
    ("mixed", {"q": "jokowi", "date_from": "2019-09-05", "date_to": "2019-09-20"}),
    ("seeds", {"q": "taliban"}), ("seeds", {"q": ""}), ("seeds", {"q": "amerika", "date_from": "2021-08-01"})])
def test_timeline_shares_equal_brute_force(engines, corpus, filters):
    clive = engines[corpus]
    articles = every_article(clive)
    matched = ids_of(clive, **filters)
    tl = timeline(clive, **filters)
    assert sum(b["count"] for b in tl["buckets"]) + tl["undated"] == tl["total"] == len(matched)
    for b in tl["buckets"]:
        corpus = [a for a in articles if in_period(a, b["start"], b["end"])]
        assert b["corpus"] == len(corpus)
        assert b["count"] == sum(a["id"] in matched for a in corpus)
        assert b["share"] == pytest.approx(b["count"] / b["corpus"] if b["corpus"] else 0, abs=1e-6)
    for o in tl["outlets"]:
        own = [a for a in articles if a["outlet"] == [o["value"]]]
        assert o["corpus"] == len(own) and o["count"] == sum(a["id"] in matched for a in own)
        assert o["share"] == pytest.approx(o["count"] / o["corpus"], abs=1e-6)
        for b, n, s in zip(tl["buckets"], o["counts"], o["shares"]):
            period = [a for a in own if in_period(a, b["start"], b["end"])]
            assert n == sum(a["id"] in matched for a in period)
            assert s == pytest.approx(n / len(period) if period else 0, abs=1e-6)
    assert {o["value"] for o in tl["outlets"]} == {a["outlet"][0] for a in articles if a["id"] in matched and a["outlet"]}


def test_share_switch_on_the_page(cclient, cspec):
    page = get(cclient, "/?q=presiden&measure=share")
    figure = page.find("figure", cls="timeline")
    assert "porsi dari semua berita" in figure.text
    switch = figure.find("nav", cls="measure")
    current = [a for a in switch.find_all("a") if a.attrs.get("aria-current")]
    assert [a.text.strip() for a in current] == ["Porsi"]
    rows = figure.find("table", cls="shares").find_all("tr")[1:]
    tl = cclient.get("/api/timeline", query_string={"q": "presiden"}).get_json()
    check(cspec, "Timeline", tl)
    assert len(rows) == len(tl["outlets"])
    for row, outlet in zip(rows, tl["outlets"]):
        link = row.find("a")
        assert int(link.text.replace(".", "")) == outlet["count"]
        assert total(get(cclient, link.attrs["href"])) == outlet["count"]
    bad = cclient.get("/?q=presiden&measure=ratio")
    assert bad.status_code == 400 and "ukuran harus count" in bad.get_data(as_text=True)


# --- queries compared ---------------------------------------------------------------


@pytest.mark.parametrize("corpus, queries", [
    ("mixed", [{"q": "presiden"}, {"q": "polisi", "outlet": ["Tempo", "Okezone"]}, {"q": "jakarta", "date_to": "2019-09-15"}]),
    ("seeds", [{"q": "taliban"}, {"q": "amerika"}, {"q": "rusia", "date_from": "2021-01-01"}])])
def test_compare_equals_brute_force(engines, corpus, queries):
    clive = engines[corpus]
    cmp = compare(clive, queries)
    articles = {a["id"]: a for a in every_article(clive)}
    sets = [ids_of(clive, **q) for q in queries]
    assert [q["total"] for q in cmp["queries"]] == [len(s) for s in sets]
    for q, matched in zip(cmp["queries"], sets):
        for b, n, s in zip(cmp["buckets"], q["counts"], q["shares"]):
            period = [a for a in articles.values() if in_period(a, b["start"], b["end"])]
            assert b["corpus"] == len(period)
            assert n == sum(a["id"] in matched for a in period)
            assert s == pytest.approx(n / len(period) if period else 0, abs=1e-6)
        outlets = Counter(articles[i]["outlet"][0] for i in matched if articles[i]["outlet"])
        assert {o["value"]: o["count"] for o in q["outlets"]} == dict(outlets)
        actors = Counter(a for i in matched for a in articles[i]["actor"])
        top = sorted(actors.items(), key=lambda vn: (-vn[1], vn[0].lower()))[:10]
        assert [(a["value"], a["count"]) for a in q["actors"]] == top
    seen = Counter(i for s in sets for i in s)
    assert cmp["overlap"]["articles"] == sum(1 for n in seen.values() if n > 1)
    assert [p["count"] for p in cmp["overlap"]["pairs"]] == [len(sets[0] & sets[1]), len(sets[0] & sets[2]),
                                                            len(sets[1] & sets[2])]


def test_compare_page_numbers_link_to_their_articles(cclient, cspec):
    url = "/compare?q=presiden&q=polisi&q=jakarta&measure=share"
    body = cclient.get("/api/compare?q=presiden&q=polisi&q=jakarta").get_json()
    check(cspec, "Compare", body)
    page = get(cclient, url)
    points = [a for a in page.find("svg", cls="compare-lines").find_all("a")]
    assert points
    for a in points[:6]:
        period = query_of(a.attrs["href"])
        assert count_in_title(a) == total(get(cclient, a.attrs["href"])), period
    table = page.find("table", cls="compare-table")
    for link in table.find_all("a")[:8]:
        assert int(link.text.replace(".", "")) == total(get(cclient, link.attrs["href"]))
    overlap = page.find("section", aria_labelledby="h-overlap")
    first = overlap.find("p").find("a")
    assert body["count"] == "stories" and "angka menghitung berita" in " ".join(page.find("p", cls="view-lead").text.lower().split())
    overlap_count = int(first.find("strong").text.replace(".", ""))
    assert overlap_count == body["overlap"]["stories"] == total(get(cclient, first.attrs["href"]))
    for link in overlap.find("ul").find_all("a"):
        assert int(link.text.replace(".", "")) == total(get(cclient, link.attrs["href"]))


def count_in_title(a) -> int:
    """The results count in a point's label ('…: 12 berita dari 345 (3,48%)')."""
    label = a.attrs["aria-label"]
    return int(re.split(r" (?:berita|artikel) dari ", label.rsplit(": ", 1)[1])[0].replace(".", ""))


def test_each_compared_query_keeps_its_own_filters(cclient):
    body = cclient.get("/api/compare", query_string=[("q", "polisi"), ("q", "polisi"), ("outlet2", "Tempo"),
                                                     ("from1", "2019-09-10")]).get_json()
    first, second = body["queries"]
    assert first["from"] == "2019-09-10" and first["filters"]["outlet"] == []
    assert second["from"] is None and second["filters"]["outlet"] == ["Tempo"]
    assert {o["value"] for o in second["outlets"]} == {"Tempo"} and second["total"] < first["total"]


@pytest.mark.parametrize("query, reason", [("q=presiden", "compare_count"), ("q=a&q=b&q=c&q=d&q=e", "compare_count"),
                                           ("q=a&q=b&from1=kemarin", "bad_date")])
def test_compare_refuses_bad_input(cclient, query, reason):
    assert error_of(cclient.get(f"/api/compare?{query}"), 400, "invalid_parameter", reason)


def test_compare_page_starts_with_a_form(cclient):
    page = get(cclient, "/compare?q=presiden")
    form = page.find("form", cls="compare-add")
    assert [i.attrs["value"] for i in form.find_all("input") if i.attrs.get("type") == "hidden"] == ["presiden"]


# --- actor pages --------------------------------------------------------------------


@pytest.mark.parametrize("corpus", ["mixed", "seeds"])
def test_actor_profile_equals_brute_force(engines, corpus):
    clive = engines[corpus]
    articles = every_article(clive)
    name = Counter(a for art in articles for a in art["actor"]).most_common(1)[0][0]
    profile = actor_profile(clive, name)
    naming = [a for a in articles if name in a["actor"]]
    assert profile["total"] == len(naming)
    assert profile["share"] == pytest.approx(len(naming) / len(articles), abs=1e-6)
    outlets = Counter(a["outlet"][0] for a in naming if a["outlet"])
    per_outlet = Counter(a["outlet"][0] for a in articles if a["outlet"])
    assert {o["value"]: (o["count"], o["corpus"]) for o in profile["outlets"]} == {
        v: (n, per_outlet[v]) for v, n in outlets.items()}
    assert [o["share"] for o in profile["outlets"]] == sorted((o["share"] for o in profile["outlets"]), reverse=True)
    co = Counter(a for art in naming for a in art["actor"] if a != name)
    assert [(r["value"], r["count"]) for r in profile["co_actors"]] == sorted(
        co.items(), key=lambda vn: (-vn[1], vn[0].lower()))[:20]
    topics = Counter(t for art in naming for t in art["topic"])
    assert [(r["value"], r["count"]) for r in profile["topics"]] == sorted(
        topics.items(), key=lambda vn: (-vn[1], vn[0].lower()))[:10]
    dated = sorted((a for a in naming if a["published"]), key=lambda a: a["published"], reverse=True)
    assert [h["published"] for h in profile["latest"]][:3] == [a["published"].isoformat() for a in dated[:3]]
    assert all(name in h["actor"] for h in profile["latest"] + profile["relevant"])
    assert sum(b["count"] for b in profile["timeline"]["buckets"]) + profile["timeline"]["undated"] == len(naming)


def test_actor_page_and_api(cclient, cspec, clive):
    index = cclient.get("/api/actors").get_json()
    check(cspec, "ActorIndex", index)
    name = index["actors"][0]["name"]
    body = cclient.get(f"/api/actors/{name}").get_json()
    check(cspec, "ActorProfile", body)
    assert body["total"] == index["actors"][0]["count"] == search(clive, require_actor=[name])["total"]
    page = get(cclient, f"/actor/{name}")
    assert page.find("h1").text.strip() == name
    for link in page.find("section", aria_labelledby="h-actor-outlets").find_all("a"):
        assert int(link.text.replace(".", "")) == total(get(cclient, link.attrs["href"]))
    co = page.find("section", aria_labelledby="h-co-actors")
    first = co.find("a")
    assert total(get(cclient, first.attrs["href"])) == int(co.find("span", cls="count").text.replace(".", ""))
    assert error_of(cclient.get("/api/actors/Tidak Ada Sama Sekali"), 404, "not_found")
    assert cclient.get("/actor/Tidak Ada Sama Sekali").status_code == 404


def test_actor_index_is_sortable_and_searchable(clive, cclient):
    articles = every_article(clive)
    mentions = Counter(a for art in articles for a in art["actor"])
    by_count = actor_index(clive)
    assert [(r["name"], r["count"]) for r in by_count["actors"]] == sorted(
        mentions.items(), key=lambda vn: (-vn[1], vn[0].lower()))
    by_name = actor_index(clive, sort="name")
    assert [r["name"] for r in by_name["actors"]] == sorted(mentions, key=str.lower)
    snap = clive.snapshot()
    with_alias = next(a for a in snap.tables.gazetteer.actors() if a.name in mentions and any(
        x.casefold() != a.name.casefold() for x in a.aliases))
    alias = next(x for x in with_alias.aliases if x.casefold() != with_alias.name.casefold())
    found = actor_index(clive, q=alias.lower())
    assert with_alias.name in [r["name"] for r in found["actors"]]
    page = get(cclient, "/actors?sort=name")
    names = [li.find("a").text for li in page.find("ol", cls="actor-index").find_all("li")]
    assert names == [r["name"] for r in by_name["actors"]]
    assert error_of(cclient.get("/api/actors?sort=loud"), 400, "invalid_parameter", "bad_sort")


def test_every_actor_chip_and_facet_value_links_to_its_page(cclient):
    page = get(cclient, "/?q=presiden")
    sidebar = page.find("section", aria_labelledby="h-actor")
    pages = [a.attrs["href"] for a in sidebar.find_all("a", cls="to-actor")]
    assert pages and all(h.startswith("/actor/") for h in pages)
    chips = [a.attrs["href"] for a in page.find_all("a", cls="tag-page")]
    assert chips and all(h.startswith("/actor/") for h in chips)
    assert get(cclient, pages[0]).find("h1").text.strip()
