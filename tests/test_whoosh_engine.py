"""The Whoosh engine's own parts: the numpy matcher/ranker against Whoosh's
own matchers, the columns against the stored fields, on real articles, and
one snapshot shared by many threads."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from whoosh import query as wq
from whoosh.query.spans import SpanNear2

from searchapp.engine import plan
from searchapp.search import search
from searchapp.search.highlight import Highlighter, wanted
from searchapp.search.request import Request
from searchapp.search.service import select

from tests.conftest import add, engine_at, rebuild, write_jsonl

QUERIES = [
    "serangan",  # stemmed + exact form + lead
    "jokowi",
    "presiden jokowi",  # two words: proximity bonus
    "harga minyak dunia",  # three words
    '"presiden joko widodo"',  # phrase
    "pemerintah OR polisi",
    "title:jakarta",
    "indones*",  # prefix
    "Amerika Serikat",  # actor alias expansion
    "sepak bola indonesia piala",
    "PDI-P",  # a compound: the phrase of its parts, the compound written whole as a bonus
    "wapres",  # an abbreviation: its full form as a phrase
    '"negara kesatuan republik indonesia"',  # a long phrase of common words
    'title:"presiden jokowi"',
]


def to_whoosh(node: plan.Node) -> wq.Query:
    """The Whoosh query of a plan: the reference the ranker is checked against."""
    if isinstance(node, plan.Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, plan.Phrase):
        return wq.Phrase(node.field, list(node.words), slop=node.slop, boost=node.boost)
    if isinstance(node, plan.Prefix):
        return wq.Prefix(node.field, node.text, boost=node.boost)
    if isinstance(node, plan.Or):
        return wq.Or([to_whoosh(c) for c in node.children], boost=node.boost)
    if isinstance(node, plan.And):
        return wq.And([to_whoosh(c) for c in node.children], boost=node.boost)
    if isinstance(node, plan.AndMaybe):
        return wq.AndMaybe(to_whoosh(node.required), to_whoosh(node.optional))
    if isinstance(node, plan.Near):
        return SpanNear2([to_whoosh(t) for t in node.terms], slop=node.slop, ordered=False)
    if isinstance(node, plan.Not):
        return wq.Not(to_whoosh(node.child))
    if isinstance(node, plan.Constant):
        return wq.ConstantScoreQuery(to_whoosh(node.child), node.score)
    if isinstance(node, plan.Every):
        return wq.Every()
    return wq.NullQuery


def whoosh_scores(snap, query) -> dict[int, float]:
    """Every matched document and its score, from Whoosh's own matchers
    (per segment, with deletions): the reference the ranker must equal."""
    out = {}
    for sub, offset in snap.searcher.leaf_searchers():
        m = to_whoosh(query).matcher(sub)
        while m.is_active():
            if not sub.reader().is_deleted(m.id()):
                out[m.id() + offset] = m.score()
            m.next()
    return out


def assert_like_whoosh(live, q: str, limit: int = 10):
    sel = select(live, Request.make(q))
    reference = whoosh_scores(sel.snapshot, sel.parsed.query)
    assert set(sel.rs.final.tolist()) == set(reference), q
    ranked = sel.ranked(limit)
    expected = sorted(reference.items(), key=lambda ds: (-ds[1], ds[0]))[:limit]
    assert [d for d, _s in ranked] == [d for d, _s in expected], q
    assert [s for _d, s in ranked] == pytest.approx([s for _d, s in expected], rel=1e-5), q


@pytest.fixture(scope="module")
def clickid_live(clickid_index):
    live = engine_at(clickid_index)
    yield live
    live.close()


@pytest.mark.parametrize("q", QUERIES)
def test_ranking_equals_whoosh_matchers(clickid_live, q):
    assert_like_whoosh(clickid_live, q)


def test_exclusions_remove_every_article_with_the_word(clickid_live):
    """Whoosh's own AndNot matcher lets some excluded articles through
    (it returned an article whose body says "Jakarta" for "polisi -jakarta")."""
    snap = clickid_live.snapshot()

    def docs(q):
        return set(select(clickid_live, Request.make(q)).rs.final.tolist())

    assert docs("polisi -jakarta") == docs("polisi") - docs("jakarta") and docs("polisi -jakarta")
    assert all("jakarta" not in snap.article(d)["body"].lower() for d in docs("polisi -jakarta"))
    everything = search(clickid_live, "")["total"]
    assert search(clickid_live, "-polisi")["total"] == everything - search(clickid_live, "polisi")["total"]


def test_deep_pages_and_proximity_pruning_stay_exact(clickid_live):
    for q in ("presiden jokowi", "harga minyak dunia"):
        assert_like_whoosh(clickid_live, q, limit=150)


def test_updated_articles_in_several_segments(tmp_path, clickid_slice):
    """After `add` the index has several segments and deleted documents:
    the ranker must offset and skip them like Whoosh does."""
    index_dir = tmp_path / "index"
    rebuild([clickid_slice], index_dir, procs=2)
    live = engine_at(index_dir)
    first = live.snapshot().article(0)
    update = {"id": first["id"], "title": "Presiden Jokowi meresmikan jalan tol", "body": "Presiden Jokowi meresmikan jalan tol di Bekasi."}
    add([write_jsonl(tmp_path / "u.jsonl", [update])], index_dir)
    try:
        snap = live.snapshot()
        assert snap.columns.live.sum() == 600 and len(snap.columns.live) > 600
        for q in ("presiden jokowi", "tol", "jakarta"):
            assert_like_whoosh(live, q, limit=20)
        hits = search(live, "meresmikan jalan tol bekasi")["hits"]
        assert hits[0]["title"] == update["title"]
        assert sum(h["id"] == first["id"] for h in search(live, first["title"] or "jalan", per_page=100)["hits"]) <= 1
    finally:
        live.close()


def test_facet_counts_and_date_order_match_the_stored_fields(clickid_live):
    snap = clickid_live.snapshot()
    stored = {d: snap.searcher.stored_fields(d) for d in range(snap.searcher.doc_count_all())}
    # the slice is all Fimela: filtering on it keeps every match, on Detik none
    for q, outlet in (("", None), ("pemerintah", None), ("polisi", "Fimela"), ("polisi", "Detik")):
        result = search(clickid_live, q, outlet=outlet, sort="newest", per_page=100, collapse="off")
        matched = [d for d, f in stored.items() if (not q or d in set(select(clickid_live, Request.make(q)).rs.final.tolist()))]
        for name in ("actor", "topic"):
            counts = Counter(v for d in matched if not outlet or outlet in stored[d]["outlet"] for v in stored[d][name])
            assert {r["value"]: r["count"] for r in result["facets"][name]["results"]} == dict(
                sorted(counts.items(), key=lambda vn: (-vn[1], vn[0].lower()))[:30]
            )
        days = [h["published"] or "" for h in result["hits"]]
        dated = [d for d in days if d]
        assert dated == sorted(dated, reverse=True) and days[: len(dated)] == dated


def test_columns_read_days_and_deletions(clickid_live):
    cols = clickid_live.snapshot().columns
    searcher = clickid_live.snapshot().searcher
    for d in (0, 17, 599):
        published = searcher.stored_fields(d).get("published")
        assert (cols.days[d] == 0) == (published is None)
        if published:
            assert cols.days[d] == published.date().toordinal()
    assert cols.live.all() and cols.live.dtype == np.bool_


@pytest.mark.parametrize("q", ["serangan", "presiden jokowi", "pemerintah daerah", "menyerang", "bekerja sama", "harga naik",
                               '"pemerintah daerah"', "anti-korupsi", "pilpres 2019", "Rp 1,5 triliun", "1.500 orang",
                               "covid-19", "G20", "2019", "tahun 2018", "1 januari", "Ballon d'Or", "Ma'ruf Amin"])
def test_highlights_from_the_forms_table_equal_the_full_analysis(clickid_live, q):
    """The regex of written forms, a number's digits and apostrophes finds
    exactly the words the analyzer would; in the lowercased text, or as
    written when lowercasing changes a text's length ("İ")."""
    from dataclasses import replace

    sel = select(clickid_live, Request.make(q))
    snap = sel.snapshot
    words = wanted(sel.parsed.query, snap)
    slow = Highlighter(replace(words, terms=words.terms | {"#"}))  # a term neither word nor number: the analysis
    fast = Highlighter(words, lambda stem: snap.tables.forms(stem, None), snap.tables.stemmer)
    assert fast._regex is not None
    for docnum, _score in sel.ranked(20):
        body = snap.article(docnum)["body"]
        assert fast.find(body) == slow.find(body) and fast.find(body)
        dotted = "İSTANBUL. " + body
        assert len(dotted.lower()) > len(dotted)
        assert fast.find(dotted) == slow.find(dotted) == [(s + 10, e + 10, t) for s, e, t in fast.find(body)]


def test_ranker_doc_frequency_equals_whooshs(clickid_live):
    """The ranker's cached term look-ups give Whoosh's own doc frequency (its
    BM25 scores, idf included, are checked against Whoosh's matchers above)."""
    snap = clickid_live.snapshot()
    for field, text in [("body", "jakarta"), ("body", "presiden"), ("title", "banjir"), ("body_exact", "bekasi"),
                        ("body", "2019"), ("body", "kata-yang-tidak-ada"), ("actor", "Joko Widodo")]:
        assert snap.ranker.doc_frequency(field, text) == snap.searcher.reader().doc_frequency(field, text), (field, text)
    assert snap.doc_frequency("no_such_field", "x") == 0


def test_threads_share_one_snapshot(clickid_live):
    """Eight threads searching one opened build at once (no lock around a
    search) get exactly the answers of one thread: the files are read with
    pread, the ranker's caches keep their own lock."""
    from concurrent.futures import ThreadPoolExecutor

    queries = [*QUERIES, "", "polisi -jakarta", "ekonomi", "pilpres 2019", "Rp 1 triliun"] * 3

    def answer(q: str):
        result = search(clickid_live, q, per_page=20)
        return result["total"], [(h["id"], h["score"], h["snippet"]) for h in result["hits"]], result["facets"]

    expected = {q: answer(q) for q in set(queries)}
    fresh = engine_at(clickid_live.location)  # cold caches: the threads race to fill them
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda q: (q, search(fresh, q, per_page=20)), queries * 4))
        for q, result in got:
            hits = [(h["id"], h["score"], h["snippet"]) for h in result["hits"]]
            assert (result["total"], hits, result["facets"]) == expected[q], q
    finally:
        fresh.close()


def test_an_index_of_an_older_layout_asks_for_a_rebuild(tmp_path, runner):
    """Whoosh pickles the analyzers' class paths into the table of contents:
    an index written when they lived elsewhere cannot be opened. The CLI says
    to rebuild (non-zero exit), the page is a 503, never a traceback."""
    from searchapp.cli import main
    from searchapp.engine.whoosh import builds
    from searchapp.web import create_app

    from tests.conftest import SEEDS

    rebuild([SEEDS], tmp_path / "index", procs=1)
    build = builds.live_build(tmp_path / "index")
    old, gone = b"searchapp.engine.whoosh.analyzers", b"searchapp.analysis"
    for toc in build.glob("*.toc"):
        toc.write_bytes(toc.read_bytes().replace(old, gone.ljust(len(old), b"_")))
    out = runner.invoke(main, ["search", "taliban", "--index", str(tmp_path / "index")])
    assert out.exit_code != 0 and "run 'searchapp rebuild'" in out.output and "Traceback" not in out.output
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index"), "ENGINE": "whoosh"})
    try:
        response = app.test_client().get("/?q=taliban")
        assert response.status_code == 503 and "Indeks tidak dapat dibaca" in response.get_data(as_text=True)
    finally:
        app.extensions["searchapp.engine"].close()


def test_recent_values_are_kept_within_their_size():
    from searchapp.engine.whoosh.ranking import _Recent

    recent = _Recent(5, size=len)
    assert recent.get("a", lambda: "xxx") == "xxx"
    assert recent.get("b", lambda: "yy") == "yy"
    assert recent.get("a", lambda: "made again") == "xxx"  # kept, and now the most recent
    assert recent.get("c", lambda: "zz") == "zz"  # 7 > 5: the least recent ("b") goes
    assert recent.get("b", lambda: "bb") == "bb"  # 7 again: "a" goes
    assert recent.get("c", lambda: "made again") == "zz"
    assert recent.get("a", lambda: "a") == "a"
