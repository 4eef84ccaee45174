"""Significant words of a result set ("Kata khas").

Every count is checked against a brute-force count over the stored text of
the sampled articles and of the whole build, analysed with the build's
stemmer (on the seeds and on 600 real articles); the score against the JLH
formula; the words shown against every candidate; and each word's link on the
search page against the articles it must find. JSON against /api/openapi.json.
"""

from __future__ import annotations

from collections import Counter

import pytest

from searchapp.engine.base import Engine
from searchapp.search import search
from searchapp.search.significant import SAMPLE, analysed, significant
from searchapp.text.analysis import WORD_RE, stop_words

from tests.conftest import matching_ids
from tests.test_api import check, documented, error_of
from tests.test_web import get, query_of, total

pytestmark = pytest.mark.engines


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def sampled_ids(live: Engine, **filters) -> list[str]:
    """The articles the view reads, as the search lists them: its first SAMPLE hits
    (best first for a query, newest first when browsing)."""
    half = SAMPLE // 2
    return [h["id"] for page in (1, 2) for h in search(live, **filters, page=page, per_page=half)["hits"]]


def body_stems(live: Engine, ids) -> dict[str, set[str]]:
    """Each article's stems, from its stored body analysed by the build's stemmer."""
    snap = live.snapshot()
    return {i: set(snap.tables.stemmer.terms(snap.article(snap.find(i))["body"])) for i in ids}


def candidate(stem: str) -> bool:
    """A word the view may show: 3 letters or more (hyphens allowed), no digits, no stop word."""
    return len(stem) >= 3 and stem.replace("-", "").isalpha() and stem not in stop_words()


def own_stems(live: Engine, q: str) -> set[str]:
    """The stems a query searched for, from what search() says it searched:
    its words, abbreviation forms, spellings and the aliases of the actors it named."""
    tables = live.snapshot().tables
    searched = search(live, q)["searched_as"]
    texts = [*(f for syn in searched["synonyms"] for f in syn["forms"]),
             *(v for sp in searched["spellings"] for v in sp["variants"]),
             *(a for e in searched["actors"] for a in tables.gazetteer.actor(e["actor"]).aliases)]
    return {w["stem"] for w in searched["words"] if w["stem"]} | set(tables.stemmer.terms(" ".join(texts)))


_CORPUS: dict[str, tuple[Counter[str], int]] = {}


def corpus_counts(live: Engine) -> tuple[Counter[str], int]:
    """Articles per stem over every article of the build, and the build's size."""
    key = str(live.location)
    if key not in _CORPUS:
        every = body_stems(live, matching_ids(live, ""))
        _CORPUS[key] = Counter(s for stems in every.values() for s in stems), len(every)
    return _CORPUS[key]


def brute(live: Engine, size: int, **filters) -> tuple[list[str], dict[str, set[str]], Counter[str], int]:
    """The expected words (stems, best first), the sampled articles' stems, every
    stem's corpus count and the build's size: counted over every article."""
    own = own_stems(live, filters.get("q", ""))
    sample = body_stems(live, sampled_ids(live, **filters))
    corpus, documents = corpus_counts(live)
    counts = Counter(s for stems in sample.values() for s in stems)
    scored = []
    for stem, n in counts.items():
        fg, bg = n / len(sample), corpus[stem] / documents
        if n >= 3 and stem not in own and candidate(stem) and fg > bg:
            scored.append(((fg - bg) * (fg / bg), stem))
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [stem for _score, stem in scored[:size]], sample, corpus, documents


def check_against_brute_force(live: Engine, filters: dict, size: int = 50) -> dict:
    result = significant(live, size=size, **filters)
    expected, sample, corpus, documents = brute(live, size, **filters)
    listed = search(live, **filters)
    assert result["total"] == listed["stories" if listed["collapse"] else "total"]
    assert result["sampled"] == len(sample) == min(SAMPLE, result["total"])
    assert [w["stem"] for w in result["words"]] == expected
    for w in result["words"]:
        assert w["count"] == sum(w["stem"] in stems for stems in sample.values()) >= 3
        assert w["corpus_count"] == corpus[w["stem"]]
        fg, bg = w["count"] / result["sampled"], w["corpus_count"] / documents
        assert fg > bg and w["score"] == pytest.approx((fg - bg) * (fg / bg), abs=1e-6)
    return result


SEED_QUERIES = [{"q": "taliban"}, {"q": "serangan"}, {}, {"q": "zzzqqxx"}]
CLICKID_QUERIES = [{"q": "presiden"}, {}, {"topic": "Hiburan"}, {"q": "film OR musik"},
                   {"q": "kesehatan", "date_from": "2019-09-01"}, {"q": "Korea"}, {"q": "wapres"}]


@pytest.mark.parametrize("filters", SEED_QUERIES)
def test_counts_and_scores_match_brute_force_on_the_seeds(live, filters):
    check_against_brute_force(live, filters)


@pytest.mark.parametrize("filters", CLICKID_QUERIES)
def test_counts_and_scores_match_brute_force_on_real_articles(clive, filters):
    result = check_against_brute_force(clive, filters)
    assert result["words"] or filters.get("q") == "zzzqqxx"


def test_the_recorded_stemming_is_the_build_stemmers_on_every_article(clive):
    """The view stems words from the build's forms table, not Sastrawi: the same
    stems and written forms as the build's stemmer, article by article."""
    snap = clive.snapshot()
    for doc_id in matching_ids(clive, ""):
        body = snap.article(snap.find(doc_id))["body"]
        words = WORD_RE.findall(body)
        stems_of, forms_of = analysed(snap, words)
        expected = snap.tables.stemmer.index_terms(body)
        assert [s for w in words for s in stems_of[w]] == expected[0]
        assert [f for w in words for f in forms_of[w]] == expected[1]


def test_browsing_reads_a_sample_and_a_query_reads_its_best(clive):
    assert significant(clive)["sampled"] == SAMPLE < significant(clive)["total"] == search(clive)["stories"]
    assert significant(clive, q="presiden", size=3)["sampled"] == min(SAMPLE, search(clive, "presiden")["stories"])
    assert len(significant(clive, size=3)["words"]) == 3


@pytest.mark.parametrize("q", ["presiden", "Jokowi", "film OR musik", "menteri*", "Korea", "wapres", "olahraga"])
def test_stop_words_numbers_and_the_query_itself_never_appear(clive, q):
    result = significant(clive, q=q, size=50)
    stems = {w["stem"] for w in result["words"]}
    shown = stems | {w["word"] for w in result["words"]}
    assert result["words"] and not shown & stop_words()
    assert all(candidate(w["stem"]) and w["word"].replace("-", "").isalpha() for w in result["words"])
    own = own_stems(clive, q)
    assert not stems & own, stems & own
    if q == "menteri*":
        assert not any(s.startswith("menteri") for s in stems)


def test_a_word_is_shown_as_its_most_written_form(clive):
    """The form written most often in the sample, the root included (the forms
    table lists only the forms that differ from their stem)."""
    snap = clive.snapshot()
    result = significant(clive, topic="Hiburan", size=50)
    ids = sampled_ids(clive, topic="Hiburan")
    texts = [snap.tables.stemmer.index_terms(snap.article(snap.find(i))["body"]) for i in ids]
    for w in result["words"]:
        forms = Counter(f for _stems, exact in texts for f in exact if snap.tables.stemmer.stem(f) == w["stem"])
        forms[w["stem"]] = sum(stems.count(w["stem"]) for stems, _exact in texts) - sum(forms.values())
        assert forms[w["word"]] == max(forms.values()), (w, forms.most_common(3))


def test_each_word_on_the_page_links_to_a_search_that_finds_its_articles(cclient, clive):
    q = "presiden"
    page = get(cclient, f"/?q={q}")
    section = page.find("section", cls="significant")
    links = section.find_all("a")
    api = cclient.get("/api/significant", query_string={"q": q, "size": "15"}).get_json()
    assert [a.text.rsplit(" ", 1)[0] for a in links] == [w["word"] for w in api["words"]]
    assert 10 <= len(links) <= 15
    sample = body_stems(clive, sampled_ids(clive, q=q))
    for a, w in zip(links, api["words"]):
        assert int(a.find(cls="count").text.replace(".", "")) == w["count"]
        assert query_of(a.attrs["href"]) == {"q": [f"{q} {w['word']}"]}
        having = {i for i, stems in sample.items() if w["stem"] in stems}
        assert len(having) == w["count"]
        assert having <= matching_ids(clive, f"{q} {w['word']}")
        assert total(get(cclient, a.attrs["href"])) >= w["count"]


def test_the_page_shows_no_section_when_browsing_or_when_nothing_is_found(client):
    assert not get(client, "/").find_all("section", cls="significant")
    assert not get(client, "/?q=zzzqqxx").find_all("section", cls="significant")
    assert get(client, "/?q=serangan").find_all("section", cls="significant")


@pytest.mark.parametrize("query", [{"q": "taliban"}, {}, {"q": "serangan", "size": "1"}, {"q": "zzzqqxx"},
                                   {"actor": ["Rusia", "China"], "from": "2021-01-01"}])
def test_api_responses_match_the_document(client, spec, query):
    response = client.get("/api/significant", query_string=query)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    check(spec, documented(spec, "/api/significant", 200), body)
    assert len(body["words"]) <= int(query.get("size", 20))
    assert spec["components"]["schemas"]["Significant"]["properties"]["sampled"]["maximum"] == SAMPLE


def test_api_on_real_articles_matches_the_document_and_the_function(cclient, clive):
    spec = cclient.get("/api/openapi.json").get_json()
    body = cclient.get("/api/significant", query_string={"q": "presiden"}).get_json()
    check(spec, documented(spec, "/api/significant", 200), body)
    assert body == significant(clive, q="presiden") and len(body["words"]) == 20


@pytest.mark.parametrize("size, reason", [("0", "out_of_range"), ("51", "out_of_range"), ("banyak", "bad_number"),
                                          ("-3", "bad_number"), ("", "bad_number")])
def test_bad_size_is_a_400_json_error(client, spec, size, reason):
    response = client.get("/api/significant", query_string={"q": "taliban", "size": size})
    message = error_of(response, 400, "invalid_parameter", reason)
    assert "jumlah kata" in message
    check(spec, documented(spec, "/api/significant", 400), response.get_json())
    assert "size" in error_of(client.get("/api/significant", query_string={"size": size},
                                         headers={"Accept-Language": "en"}), 400, "invalid_parameter", reason)
