"""Quotes in the product (issue 17): extracted at index time and stored with
each article, filtered and counted by speaker in the engine, searched and
paged by the quotes view, shown on the "Kutipan" tab, the article page (an
anchor at each quote), the actor page and /api/quotes.

On real articles: the five seeds and 100 articles of the 2019 corpus
(tests/data/quotes_sample.txt: stories of copies, and articles quoting
gazetteer actors). Every figure is checked against brute force over the
extractor's own output for the articles of the result set.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote as urlquote

import pytest
from openapi_spec_validator import validate as validate_spec

from searchapp.engine import document
from searchapp.search.quotes import QUOTE_ARTICLES, latest_quotes, quotes
from searchapp.search.request import Request
from searchapp.search.service import by_count, search, select
from searchapp.text.quotes import QuoteExtractor
from searchapp.web import create_app
from searchapp.web.formatting import paragraphs

from tests.conftest import SEEDS, add, app_config, engine_at, rebuild
from tests.test_api import check, error_of

pytestmark = pytest.mark.engines

SAMPLE = Path(__file__).parent / "data" / "quotes_sample.txt"


def write(records: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture(scope="module")
def sample_file(clickid_records, tmp_path_factory) -> Path:
    wanted = [line.strip() for line in SAMPLE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    by_id = {r["id"]: r for r in clickid_records}
    return write([by_id[i] for i in wanted], tmp_path_factory.mktemp("quotes") / "sample.jsonl")


@pytest.fixture(scope="module")
def qindex(sample_file, tmp_path_factory, engine_name) -> Path:
    index_dir = tmp_path_factory.mktemp("quotes-index")
    rebuild([SEEDS, sample_file], index_dir, engine=engine_name)
    return index_dir


@pytest.fixture(scope="module")
def qlive(qindex, engine_name):
    live = engine_at(qindex, engine_name)
    yield live
    live.close()


@pytest.fixture(scope="module")
def qapp(qindex, engine_name):
    app = create_app(app_config(qindex, engine_name))
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def qclient(qapp):
    return qapp.test_client()


@pytest.fixture(scope="module")
def extracted(qlive) -> dict[str, list[dict]]:
    """Every article's quotes as the extractor gives them, on the stored body, with the build's gazetteer."""
    snap = qlive.snapshot()
    extractor = QuoteExtractor(snap.tables.gazetteer)
    docs = snap.docs(select(qlive, Request.make()).rs)
    return {a["id"]: [asdict(q) for q in extractor.extract(a["body"])] for a in snap.articles(docs)}


def who(quote: dict) -> str | None:
    """Whom a quote counts under, written out: the resolved actor, else the speaker as listed."""
    return quote["actor"] or quote["name"] or None


def listed_ids(engine, q: str = "", **filters) -> list[str]:
    """The ids of the articles a search lists, in its order (one per story when collapsed), every page."""
    out, page = [], 1
    while True:
        found = search(engine, q, page=page, per_page=100, **filters)
        out += [h["id"] for h in found["hits"]]
        if len(out) >= (found["stories"] if found["collapse"] else found["total"]):
            return out
        page += 1


def brute_counts(engine, extracted, **filters) -> Counter[str]:
    """Per speaker, the articles (or stories) of the result set quoting them."""
    sel = select(engine, Request.make(**filters))
    snap = sel.snapshot
    ids = snap.ids(snap.docs(sel.rs))
    keys = snap.story_keys(sel.rs) if sel.request.counts_stories else ids
    quoting: dict[str, set] = {}
    for article_id, key in zip(ids, keys):
        for q in extracted[article_id]:
            if who(q):
                quoting.setdefault(who(q), set()).add(key)
    return Counter({name: len(keys) for name, keys in quoting.items()})


def every_quote(engine, **params) -> list[dict]:
    """Every quote of a view, read page by page."""
    out, page = [], 1
    while True:
        found = quotes(engine, page=page, per_page=100, **params)
        out += found["quotes"]
        if len(out) >= found["total"]:
            assert len(out) == found["total"]
            return out
        page += 1


def most_quoted(extracted) -> str:
    """The resolved actor quoted in the most articles of the sample."""
    named = Counter(a for qs in extracted.values() for a in {q["actor"] for q in qs if q["actor"]})
    return named.most_common(1)[0][0]


# --- index time ------------------------------------------------------------------------


def test_stored_quotes_equal_the_extractor(qlive, extracted):
    snap = qlive.snapshot()
    docs = [snap.find(i) for i in extracted]
    assert snap.quotes(docs) == list(extracted.values())
    assert sum(map(len, extracted.values())) > 300  # the sample is about quotes
    for article, stored in zip(snap.articles(docs), snap.quotes(docs)):
        assert all(article["body"][q["start"]:q["end"]] == q["text"] for q in stored)


@pytest.mark.parametrize("article_id, text, kind, speaker, name, actor, cue", [
    ("000_565565d7109e7dca", 'Taliban bisa "melawan ISIS secara mandiri."', "indirect", "Suhai Shaheen",
     "Suhai Shaheen", "Suhail Shaheen", "mengatakan"),
    ("002_7e5cca7df8c90f80", "Kita bisa menangani ISIS secara mandiri,", "direct", "Shaheen", "Shaheen",
     "Suhail Shaheen", "kata"),
    ("004_bb470fe27ea90ed2", "Kabulov mendesak Taliban", "indirect", "Kementerian itu", "Kementerian itu", None,
     "mengatakan"),
    ("597434bfbced1cea", "Pimpinan KPK merasa perlu bertemu dengan Presiden", "indirect", "Agus Rahardjo",
     "Agus Rahardjo", "Agus Rahardjo", "menuturkan"),
    ("9497661e4c97e130", "Iya ke bu Menteri Keuangan ya", "direct", "Presiden Joko Widodo", "Presiden Joko Widodo",
     "Joko Widodo", "ujarnya"),
    ("ab449758a18ae9a2", "Thailand masih transisi di bawah pelatih baru", "direct", "McMenemy", "McMenemy",
     "Simon McMenemy", "ucap"),
    ("c1699cfa46d919fe", "Ketika rakyat Papua berada dalam situasi disintegrasi bangsa", "direct", "Jokowi", "Jokowi",
     "Joko Widodo", "ujarnya"),
    ("863bf5669e85dc19", "penerimaan uang terhadap Imam terjadi dua kali", "indirect", "Alexander Marwata",
     "Alexander Marwata", "Alexander Marwata", "Menurut"),
    # a short name listed by the full one its article gives, in both outlets running the story
    ("3aeecc49fe840548", "Ke depan para trainers ini", "direct", "Haiyani", "Haiyani Rumondang", None, "kata"),
    ("c03e12d74ad55741", "Kedepan para trainers ini", "direct", "Haiyani", "Haiyani Rumondang", None, "kata"),
    ("0d9b4a62d0722535", "demonstrasi yang digelar mahasiswa", "indirect", "Dimas", "Dheatantra Dimas", None,
     "menegaskan"),
])
def test_quotes_of_real_sentences_are_stored_with_their_speakers(qlive, article_id, text, kind, speaker, name, actor,
                                                                  cue):
    snap = qlive.snapshot()
    stored = snap.quotes([snap.find(article_id)])[0]
    found = [q for q in stored if q["text"].startswith(text)]
    assert len(found) == 1
    q = found[0]
    assert (q["kind"], q["speaker"], q["name"], q["actor"], q["cue"]) == (kind, speaker, name, actor, cue)
    assert set(q) == {"text", "start", "end", "kind", "speaker", "name", "actor", "cue"}
    listed = quotes(qlive, speaker=actor or name, collapse="off", per_page=100)["quotes"]
    assert (article_id, q["start"]) in {(x["article"]["id"], x["start"]) for x in listed}
    assert all(x["name"] for x in listed)
    if name != speaker:  # the short name as written is no speaker value of its own
        assert quotes(qlive, speaker=speaker, collapse="off")["total"] == 0


# --- the engine: speaker filter and counts ------------------------------------------------


FILTERS = [{}, {"q": "pemerintah"}, {"q": "taliban"}, {"collapse": "off"}, {"q": "kpk", "count": "articles"},
           {"date_from": "2019-09-15"}, {"outlet": ["Okezone", "Kompas.com"]}]


@pytest.mark.parametrize("filters", FILTERS)
def test_speaker_counts_equal_brute_force(qlive, extracted, filters):
    sel = select(qlive, Request.make(**filters))
    expected = brute_counts(qlive, extracted, **filters)
    assert sel.snapshot.speaker_counts(sel.counted) == expected
    rows = quotes(qlive, per_page=1, **filters)["speakers"]
    shown = {r["value"]: r["count"] for r in rows["results"]}
    assert shown == {v: expected[v] for v in shown} and not any(r["selected"] for r in rows["results"])
    assert len(shown) == min(30, len(expected)) and rows["truncated"] == (len(expected) > 30)
    if len(expected) > len(shown):
        assert min(shown.values()) >= max(n for v, n in expected.items() if v not in shown)


@pytest.mark.parametrize("filters", FILTERS)
def test_speaker_filter_equals_brute_force(qlive, extracted, filters):
    counts = brute_counts(qlive, extracted, **filters)
    chosen = [v for v, _n in by_count(counts.items())[:2]]
    for speakers in ([chosen[0]], chosen):
        articles = listed_ids(qlive, **filters, speaker=speakers)
        assert all({who(q) for q in extracted[i]} & set(speakers) for i in articles)
        if filters.get("collapse") == "off":
            everything = listed_ids(qlive, **filters)
            assert articles == [i for i in everything if {who(q) for q in extracted[i]} & set(speakers)]
        elif len(speakers) == 1 and filters.get("count") != "articles":
            assert len(articles) == counts[speakers[0]]
        found = quotes(qlive, speaker=speakers, per_page=100, **filters)
        assert {r["value"] for r in found["speakers"]["results"] if r["selected"]} == set(speakers)
        assert {r["value"]: r["count"] for r in found["speakers"]["results"]}[speakers[0]] == counts[speakers[0]]
        if not filters.get("q"):
            expected = [(i, q["start"]) for i in articles for q in extracted[i] if who(q) in speakers]
            got = every_quote(qlive, speaker=speakers, **filters)
            assert [(q["article"]["id"], q["start"]) for q in got] == expected
            assert all(who(q) in speakers for q in got)


def test_an_unknown_speaker_selects_nothing_and_is_shown_selected(qlive):
    found = quotes(qlive, speaker="Tidak Pernah Dikutip")
    assert found["total"] == found["articles"] == 0 and found["quotes"] == []
    assert {"value": "Tidak Pernah Dikutip", "count": 0, "selected": True} in found["speakers"]["results"]


# --- the view: matching, order, paging --------------------------------------------------


@pytest.mark.parametrize("filters", [{}, {"collapse": "off"}, {"outlet": ["Okezone"]}, {"date_to": "2019-09-12"}])
def test_browsing_lists_every_quote_of_the_listed_articles(qlive, extracted, filters):
    listed = listed_ids(qlive, **filters)
    got = every_quote(qlive, **filters)
    assert [(q["article"]["id"], q["start"]) for q in got] == [(i, q["start"]) for i in listed for q in extracted[i]]
    dates = [q["article"]["published"] or "" for q in got]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True) and dates == dated + [""] * (len(dates) - len(dated))
    for q in got:
        assert q["highlights"] == [] and q["anchor"] == f"kutipan-{q['start']}"
        assert {k: q[k] for k in ("text", "start", "end", "kind", "speaker", "name", "actor", "cue")} in \
            extracted[q["article"]["id"]]


def alone(text: str, start: int, end: int) -> bool:
    """Whether a word stands alone, not glued to others ("KPK" of "@KPK_RI" does not): what is marked."""
    return not re.match(r"\w", text[start - 1:start] or " ") and not re.match(r"\w", text[end:end + 1] or " ")


def _in_order(got: list[dict]) -> list[str]:
    return list(dict.fromkeys(q["article"]["id"] for q in got))


@pytest.mark.parametrize("q, words", [
    ("pemerintah", ["pemerintah"]), ("taliban", ["taliban"]), ("korupsi revisi", ["korupsi", "revisi"]),
    ("menteri", ["menteri"]), ("kpk", ["kpk"]),
])
@pytest.mark.parametrize("collapse", ["on", "off"])
def test_a_query_keeps_the_quotes_holding_its_words(qlive, extracted, q, words, collapse):
    snap = qlive.snapshot()
    stemmer = snap.tables.stemmer
    stems = {stemmer.stem(w) for w in words}
    got = every_quote(qlive, q=q, collapse=collapse)
    ranked = listed_ids(qlive, q, collapse=collapse)  # relevance order
    expected = []
    for article_id in ranked:
        for quote in extracted[article_id]:
            spans = [[s, e] for t, w, s, e in stemmer.analyze(quote["text"])
                     if (t in stems or w in words) and alone(quote["text"], s, e)]
            if spans:
                expected.append((article_id, quote["start"], spans))
    assert [(x["article"]["id"], x["start"], x["highlights"]) for x in got] == expected
    assert expected, "the table's queries all find quotes"
    for x in got:
        assert all(stemmer.stem(x["text"][s:e].lower()) in stems for s, e in x["highlights"])


@pytest.mark.parametrize("params", [{"q": "pemerintah"}, {"collapse": "off"},
                                    {"speaker": ["Agus Rahardjo", "Joko Widodo"]}])
def test_pages_follow_each_other(qlive, params):
    whole = quotes(qlive, per_page=100, **params)
    total = whole["total"]
    assert total > 7
    pages = [quotes(qlive, page=n, per_page=3, **params) for n in range(1, -(-min(total, 100) // 3) + 1)]
    assert [q for p in pages for q in p["quotes"]][:100] == whole["quotes"]
    assert all(p["total"] == total and p["per_page"] == 3 for p in pages)
    assert quotes(qlive, page=total + 1, per_page=1, **params)["quotes"] == []


def test_a_cap_reads_the_first_articles_and_says_so(qlive, extracted):
    capped = quotes(qlive, cap=10, collapse="off", per_page=100)
    assert capped["articles_read"] == 10 and capped["capped"] and capped["articles"] > 10
    first = listed_ids(qlive, collapse="off")[:10]
    assert capped["total"] == sum(len(extracted[i]) for i in first)
    assert _in_order(capped["quotes"]) == [i for i in first if extracted[i]]
    assert not quotes(qlive)["capped"] and QUOTE_ARTICLES >= len(extracted)


# --- pages ---------------------------------------------------------------------------------


def test_the_search_page_has_a_quotes_tab(qclient):
    html = qclient.get("/?q=pemerintah").get_data(as_text=True)
    assert re.search(r'<a href="/quotes\?q=pemerintah">Kutipan</a>', html)


def test_the_quotes_page_shows_quotes_as_written_linking_to_article_and_actor(qclient, qlive):
    found = quotes(qlive, q="pemerintah", per_page=20)
    response = qclient.get("/quotes?q=pemerintah")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-current="page">Kutipan</a>' in html
    assert html.count("<mark>") == sum(len(q["highlights"]) for q in found["quotes"]) > 0
    for q in found["quotes"]:
        assert f'href="/article/{q["article"]["id"]}?q=pemerintah#kutipan-{q["start"]}"' in html
        if q["actor"]:
            assert f'href="/actor/{urlquote(q["actor"])}"' in html
    speaker = found["speakers"]["results"][0]["value"]
    assert f'href="/quotes?q=pemerintah&amp;speaker={urlquote(speaker).replace("%20", "+")}"' in html


def test_a_chosen_speaker_is_kept_and_can_be_removed(qclient, qlive):
    name = "Agus Rahardjo"
    html = qclient.get(f"/quotes?speaker={urlquote(name)}").get_data(as_text=True)
    assert '<a href="/quotes" class="on">' in html  # the speaker's row removes it
    assert f'<input type="hidden" name="speaker" value="{name}">' in html
    found = quotes(qlive, speaker=name)
    assert found["quotes"] and all(q["actor"] == name for q in found["quotes"])
    assert html.count('class="quote ') == len(found["quotes"])


def test_the_article_page_has_an_anchor_at_each_quote(qclient, extracted):
    for article_id in ("002_7e5cca7df8c90f80", "597434bfbced1cea", "9497661e4c97e130"):
        html = qclient.get(f"/article/{article_id}?q=taliban").get_data(as_text=True)
        anchors = re.findall(r'<span class="quote-anchor" id="kutipan-(\d+)"></span>', html)
        assert sorted(map(int, anchors)) == sorted({q["start"] for q in extracted[article_id]})


@pytest.mark.parametrize("text, marks, anchors, expected", [
    ("ab cd\nef gh", [[3, 5]], [3, 6], ['ab <a3><mark>cd</mark>', '<a6>ef gh']),
    ("ab cd", [[3, 5]], [4], ['ab <a4><mark>cd</mark>']),  # inside a mark: before it
    ("a <b> c", [], [2, 6], ['a <a2>&lt;b&gt; <a6>c']),
    ("ab cd", [[0, 2]], [], ['<mark>ab</mark> cd']),
])
def test_anchors_stand_at_the_quotes_and_keep_marks_whole(text, marks, anchors, expected):
    got = [str(p) for p in paragraphs(text, marks, anchors)]
    assert got == [re.sub(r"<a(\d+)>", r'<span class="quote-anchor" id="kutipan-\1"></span>', e) for e in expected]


def test_the_actor_page_lists_the_latest_quotes(qclient, qlive, extracted):
    name = most_quoted(extracted)
    latest = latest_quotes(qlive, name)
    expected = [(q["article"]["id"], q["start"]) for q in every_quote(qlive, speaker=name)][:10]
    assert [(q["article"]["id"], q["start"]) for q in latest] == expected and latest
    html = qclient.get(f"/actor/{urlquote(name)}").get_data(as_text=True)
    assert "Kutipan terbaru" in html
    for q in latest:
        assert f'href="/article/{q["article"]["id"]}#kutipan-{q["start"]}"' in html
    assert f'href="/quotes?speaker={urlquote(name).replace("%20", "+")}"' in html


# --- the API -----------------------------------------------------------------------------


@pytest.fixture
def qspec(qclient) -> dict:
    return qclient.get("/api/openapi.json").get_json()


def test_the_openapi_document_describes_quotes(qspec):
    validate_spec(qspec)
    params = {p["name"] for p in qspec["paths"]["/api/quotes"]["get"]["parameters"]}
    assert params == {"q", "outlet", "actor", "topic", "all_actor", "from", "to", "collapse", "count", "story",
                      "speaker", "page", "per_page"}


@pytest.mark.parametrize("query", ["", "q=pemerintah", "q=kpk&speaker=Agus+Rahardjo&speaker=Tito+Karnavian",
                                   "collapse=off&per_page=5&page=2", "speaker=Nobody"])
def test_api_quotes_answers_as_documented(qclient, qlive, qspec, query):
    response = qclient.get(f"/api/quotes?{query}")
    assert response.status_code == 200
    body = response.get_json()
    check(qspec, "Quotes", body)
    params = {}
    for key, value in (pair.split("=") for pair in query.split("&") if pair):
        value = value.replace("+", " ")
        params[key] = [*params.get(key, []), value] if key == "speaker" else value
    expected = json.loads(json.dumps(quotes(qlive, **params)))
    assert {k: v for k, v in body.items() if k != "took_ms"} == {k: v for k, v in expected.items() if k != "took_ms"}


def test_api_actor_profile_has_its_quotes(qclient, qspec, extracted):
    name = most_quoted(extracted)
    body = qclient.get(f"/api/actors/{urlquote(name)}").get_json()
    check(qspec, "ActorProfile", body)
    assert body["quotes"] and all(q["actor"] == name for q in body["quotes"])


@pytest.mark.parametrize("query, reason", [
    ("page=0", "out_of_range"), ("page=x", "bad_number"), ("per_page=101", "out_of_range"),
    ("per_page=abc", "bad_number"), ("page=5000&per_page=100", "too_deep"), ("speaker=" + "x" * 201, "bad_speaker"),
    ("from=2019-13-01", "bad_date"), ("collapse=maybe", "bad_collapse"), ("count=words", "bad_count"),
    ("q=pe*", "wildcard_too_short"),
])
def test_bad_input_is_a_400_in_json_and_on_the_page(qclient, query, reason):
    message = error_of(qclient.get(f"/api/quotes?{query}"), 400, "invalid_parameter", reason)
    assert "Traceback" not in message
    page = qclient.get(f"/quotes?{query}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Traceback" not in text and message.split("“")[0].strip()[:30] in text


def test_a_speaker_that_is_not_text_is_refused(qlive):
    from searchapp.errors import QueryError

    for bad in (42, [1, 2], {"a": 1}):
        with pytest.raises(QueryError) as err:
            quotes(qlive, speaker=bad)
        assert err.value.code == "bad_speaker"


# --- a build made before quotes ---------------------------------------------------------------


def test_a_build_made_before_quotes_still_opens_and_searches(tmp_path, monkeypatch, engine_name, app_factory,
                                                              clickid_records):
    prepare = document.Preparer.prepare

    def old_prepare(self, article):
        doc = prepare(self, article)
        del doc[document.QUOTES], doc[document.SPEAKER]
        return doc

    monkeypatch.setattr(document.Preparer, "prepare", old_prepare)
    if engine_name == "whoosh":
        from searchapp.engine.whoosh import builder, schema

        def old_schema():
            made = schema.build_schema()
            made.remove(document.QUOTES)
            made.remove(document.SPEAKER)
            return made

        monkeypatch.setattr(builder, "build_schema", old_schema)
    else:
        from searchapp.engine.opensearch import indexer, mapping

        def old_body(*args):
            body = mapping.index_body(*args)
            del body["mappings"]["properties"][document.QUOTES], body["mappings"]["properties"][document.SPEAKER]
            return body

        def old_source(doc, *args):
            made = mapping.source({**doc, document.QUOTES: [], document.SPEAKER: []}, *args)
            del made[document.QUOTES], made[document.SPEAKER]
            return made

        monkeypatch.setattr(indexer, "index_body", old_body)
        monkeypatch.setattr(indexer, "source", old_source)
    rebuild([SEEDS], tmp_path / "old", procs=1)
    monkeypatch.undo()
    live = engine_at(tmp_path / "old")
    try:
        assert search(live, "taliban")["total"] > 0
        found = quotes(live, q="taliban")
        assert found["total"] == 0 and found["quotes"] == [] and found["speakers"]["results"] == []
        assert found["articles"] > 0
        assert quotes(live, speaker="Suhail Shaheen")["articles"] == 0
        snap = live.snapshot()
        assert snap.quotes([snap.find("002_7e5cca7df8c90f80")]) == [[]]
        assert latest_quotes(live, "Suhail Shaheen") == []
    finally:
        live.close()
    client = app_factory(tmp_path / "old").test_client()
    for url in ("/quotes?q=taliban", "/article/002_7e5cca7df8c90f80", "/actor/Suhail%20Shaheen", "/?q=taliban"):
        assert client.get(url).status_code == 200
    assert client.get("/api/quotes").get_json()["total"] == 0

    record = next(r for r in clickid_records if r["id"] == "597434bfbced1cea")  # quotes Agus Rahardjo
    add([write([record], tmp_path / "new.jsonl")], tmp_path / "old")
    live = engine_at(tmp_path / "old")
    try:
        snap = live.snapshot()
        doc = snap.find(record["id"])
        stored = snap.quotes([doc])[0]
        assert stored == [asdict(q) for q in QuoteExtractor(snap.tables.gazetteer).extract(snap.article(doc)["body"])]
        found = quotes(live, speaker="Agus Rahardjo")
        assert found["articles"] == 1 and found["total"] == sum(who(q) == "Agus Rahardjo" for q in stored) > 0
        assert quotes(live, q="taliban")["total"] == 0  # the older articles still have none
    finally:
        live.close()


def test_a_build_made_before_names_lists_speakers_as_written(tmp_path, monkeypatch, engine_name, clickid_records):
    prepare = document.Preparer.prepare

    def old_prepare(self, article):
        doc = prepare(self, article)
        for q in doc[document.QUOTES]:
            del q["name"]
        doc[document.SPEAKER] = document.speakers(doc[document.QUOTES])
        return doc

    monkeypatch.setattr(document.Preparer, "prepare", old_prepare)
    record = next(r for r in clickid_records if r["id"] == "3aeecc49fe840548")  # "Haiyani" = Haiyani Rumondang
    rebuild([write([record], tmp_path / "one.jsonl")], tmp_path / "old", procs=1)
    monkeypatch.undo()
    live = engine_at(tmp_path / "old")
    try:
        found = quotes(live, per_page=100)
        assert found["total"] > 0 and all(q["name"] == q["speaker"] for q in found["quotes"])
        assert {r["value"] for r in found["speakers"]["results"]} >= {"Haiyani"}
        assert quotes(live, speaker="Haiyani")["total"] == sum(q["speaker"] == "Haiyani" for q in found["quotes"]) > 0
    finally:
        live.close()
