"""The numpy matcher/ranker against Whoosh's own matchers, and the columns
against the stored fields, on real articles."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from searchapp.engine.whoosh import builder as indexer
from searchapp.search.service import Filters, LiveIndex, select

from tests.conftest import write_jsonl

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


def whoosh_scores(gen, query) -> dict[int, float]:
    """Every matched document and its score, from Whoosh's own matchers
    (per segment, with deletions): the reference the ranker must equal."""
    out = {}
    for sub, offset in gen.searcher.leaf_searchers():
        m = query.matcher(sub)
        while m.is_active():
            if not sub.reader().is_deleted(m.id()):
                out[m.id() + offset] = m.score()
            m.next()
    return out


def assert_like_whoosh(live: LiveIndex, q: str, limit: int = 10):
    gen = live.generation()
    sel = select(live, gen, Filters.make(q))
    reference = whoosh_scores(gen, sel.parsed.query)
    assert set(sel.final.tolist()) == set(reference), q
    ranked = sel.ranked(gen, limit)
    expected = sorted(reference.items(), key=lambda ds: (-ds[1], ds[0]))[:limit]
    assert [d for d, _s in ranked] == [d for d, _s in expected], q
    assert [s for _d, s in ranked] == pytest.approx([s for _d, s in expected], rel=1e-5), q


@pytest.fixture(scope="module")
def clickid_live(clickid_index):
    live = LiveIndex(clickid_index)
    yield live
    live.close()


@pytest.mark.parametrize("q", QUERIES)
def test_ranking_equals_whoosh_matchers(clickid_live, q):
    assert_like_whoosh(clickid_live, q)


def test_exclusions_remove_every_article_with_the_word(clickid_live):
    """Whoosh's own AndNot matcher lets some excluded articles through
    (it returned an article whose body says "Jakarta" for "polisi -jakarta")."""
    gen = clickid_live.generation()

    def docs(q):
        return set(select(clickid_live, gen, Filters.make(q)).final.tolist())

    assert docs("polisi -jakarta") == docs("polisi") - docs("jakarta") and docs("polisi -jakarta")
    assert all("jakarta" not in gen.searcher.stored_fields(d)["body"].lower() for d in docs("polisi -jakarta"))
    everything = clickid_live.search("")["total"]
    assert clickid_live.search("-polisi")["total"] == everything - clickid_live.search("polisi")["total"]


def test_deep_pages_and_proximity_pruning_stay_exact(clickid_live):
    for q in ("presiden jokowi", "harga minyak dunia"):
        assert_like_whoosh(clickid_live, q, limit=150)


def test_updated_articles_in_several_segments(tmp_path, clickid_slice):
    """After `add` the index has several segments and deleted documents:
    the ranker must offset and skip them like Whoosh does."""
    index_dir = tmp_path / "index"
    indexer.rebuild([clickid_slice], index_dir, procs=2)
    live = LiveIndex(index_dir)
    gen = live.generation()
    first = gen.searcher.stored_fields(0)
    update = {"id": first["id"], "title": "Presiden Jokowi meresmikan jalan tol", "body": "Presiden Jokowi meresmikan jalan tol di Bekasi."}
    indexer.add([write_jsonl(tmp_path / "u.jsonl", [update])], index_dir)
    try:
        gen = live.generation()
        assert gen.columns.live.sum() == 600 and len(gen.columns.live) > 600
        for q in ("presiden jokowi", "tol", "jakarta"):
            assert_like_whoosh(live, q, limit=20)
        hits = live.search("meresmikan jalan tol bekasi")["hits"]
        assert hits[0]["title"] == update["title"]
        assert sum(h["id"] == first["id"] for h in live.search(first["title"] or "jalan", per_page=100)["hits"]) <= 1
    finally:
        live.close()


def test_facet_counts_and_date_order_match_the_stored_fields(clickid_live):
    gen = clickid_live.generation()
    stored = {d: gen.searcher.stored_fields(d) for d in range(gen.searcher.doc_count_all())}
    for q, outlet in (("", None), ("pemerintah", None), ("polisi", "Detik")):
        result = clickid_live.search(q, outlet=outlet, sort="newest", per_page=100)
        matched = [d for d, f in stored.items() if (not q or d in set(select(clickid_live, gen, Filters.make(q)).final.tolist()))]
        for name in ("actor", "topic"):
            counts = Counter(v for d in matched if not outlet or outlet in stored[d]["outlet"] for v in stored[d][name])
            assert {r["value"]: r["count"] for r in result["facets"][name]["results"]} == dict(
                sorted(counts.items(), key=lambda vn: (-vn[1], vn[0].lower()))[:30]
            )
        days = [h["published"] or "" for h in result["hits"]]
        dated = [d for d in days if d]
        assert dated == sorted(dated, reverse=True) and days[: len(dated)] == dated


def test_columns_read_days_and_deletions(clickid_live):
    cols = clickid_live.generation().columns
    searcher = clickid_live.generation().searcher
    for d in (0, 17, 599):
        published = searcher.stored_fields(d).get("published")
        assert (cols.days[d] == 0) == (published is None)
        if published:
            assert cols.days[d] == published.date().toordinal()
    assert cols.live.all() and cols.live.dtype == np.bool_


@pytest.mark.parametrize("q", ["serangan", "presiden jokowi", "pemerintah daerah", "menyerang", "bekerja sama", "harga naik",
                               '"pemerintah daerah"', "anti-korupsi"])
def test_highlights_from_the_forms_table_equal_the_full_analysis(clickid_live, q):
    """The regex of written forms finds exactly the words the analyzer would."""
    from dataclasses import replace

    from searchapp.search.service import Highlighter, _positive_terms

    gen = clickid_live.generation()
    sel = select(clickid_live, gen, Filters.make(q))
    wanted = _positive_terms(sel.parsed.query, gen.searcher.reader())
    slow = Highlighter(replace(wanted, terms=wanted.terms | {"0"}))  # a non-word term forces the analysis
    fast = gen.highlighter(wanted)
    assert fast._regex is not None
    for docnum, _score in sel.ranked(gen, 20):
        body = gen.searcher.stored_fields(docnum)["body"]
        assert fast.find(body) == slow.find(body) and fast.find(body)
