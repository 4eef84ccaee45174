"""Stories: copies found at index time, collapsed in search, counted once; on
real articles of the 2019 corpus (tests/data/stories_sample.txt: 40 stories
of clear copies and 200 articles alone), every figure checked against brute
force over the stored articles."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from searchapp.engine import stories
from searchapp.search import insights, search
from searchapp.search.compare import compare
from searchapp.search.profiles import actor_profile
from searchapp.search.request import Request
from searchapp.search.service import select
from searchapp.text.analysis import WORD_RE
from searchapp.text.syndication import comparable, markers
from searchapp.web import create_app

from searchapp.cli import main
from tests.conftest import app_config, cli_index, engine_at, rebuild

pytestmark = pytest.mark.engines

SAMPLE = Path(__file__).parent / "data" / "stories_sample.txt"


def grams(body: str) -> set[tuple[str, ...]]:
    words = WORD_RE.findall(comparable(body))
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)} if len(words) - 2 >= stories.MIN_SHINGLES else set()


def numbers(body: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*", comparable(body)))


def copies(a: dict, b: dict) -> bool:
    """The copy test written out plainly: 3-gram containment or Jaccard, numbers agreeing."""
    ga, gb = grams(a["body"]), grams(b["body"])
    if not ga or not gb:
        return False
    shared = len(ga & gb)
    na, nb = numbers(a["body"]), numbers(b["body"])
    fewer = min(len(na), len(nb))
    return ((shared >= stories.CONTAINMENT * min(len(ga), len(gb)) or shared >= stories.JACCARD * len(ga | gb))
            and (fewer < 3 or len(na & nb) >= stories.NUMBERS * fewer))


def brute_groups(records: list[dict]) -> set[frozenset[str]]:
    """Stories by brute force: every pair compared, copies joined."""
    parent = {r["id"]: r["id"] for r in records}

    def root(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in combinations(records, 2):
        if copies(a, b):
            parent[root(a["id"])] = root(b["id"])
    groups: dict[str, set[str]] = {}
    for i in parent:
        groups.setdefault(root(i), set()).add(i)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def write(records: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture(scope="module")
def sample(clickid_records) -> list[dict]:
    wanted = [line.strip() for line in SAMPLE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    by_id = {r["id"]: r for r in clickid_records}
    return [by_id[i] for i in wanted]


@pytest.fixture(scope="module")
def expected(sample) -> set[frozenset[str]]:
    return brute_groups(sample)


@pytest.fixture(scope="module")
def sample_file(sample, tmp_path_factory) -> Path:
    return write(sample, tmp_path_factory.mktemp("stories") / "sample.jsonl")


@pytest.fixture(scope="module")
def story_index(sample_file, tmp_path_factory, engine_name) -> Path:
    index_dir = tmp_path_factory.mktemp("stories-index")
    rebuild([sample_file], index_dir, engine=engine_name)
    return index_dir


@pytest.fixture(scope="module")
def slive(story_index, engine_name):
    live = engine_at(story_index, engine_name)
    yield live
    live.close()


def engine_stories(engine, ids) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each article's (story id, the story's articles in canonical order), as the engine keeps them."""
    snap = engine.snapshot()
    out = {}
    for article_id in ids:
        story, members = snap.story(snap.find(article_id))
        out[article_id] = (story, tuple(snap.ids(members)))
    return out


def groups_of(kept: dict) -> set[frozenset[str]]:
    return {frozenset(members) for _story, members in kept.values() if len(members) > 1}


# --- finding stories -------------------------------------------------------------


def test_the_sample_holds_forty_stories_of_real_copies(expected, sample):
    assert len(expected) == 40
    outlets = {r["id"]: r["outlet"] for r in sample}
    assert any(len({outlets[a] for a in g}) > 1 for g in expected)  # across outlets, not only within one


def test_stories_are_the_copies_brute_force_finds(slive, sample, expected):
    kept = engine_stories(slive, [r["id"] for r in sample])
    assert groups_of(kept) == expected
    for article_id, (story, members) in kept.items():
        assert article_id in members
        assert story == members[0]  # a story is named by its canonical article
        if len(members) == 1:
            assert story == article_id


def test_the_canonical_article_is_the_wire_source_else_the_earliest(slive, sample, expected):
    by_id = {r["id"]: r for r in sample}
    kept = engine_stories(slive, [r["id"] for r in sample])
    snap = slive.snapshot()
    for group in expected:
        members = kept[next(iter(group))][1]
        stored = {a["id"]: a for a in snap.articles([snap.find(i) for i in members])}
        named = {m.source for i in members for m in markers(by_id[i]["body"]) if m.source}
        keys = [(stored[i]["outlet"][0] not in named, stored[i]["published"], i) for i in members]
        assert keys == sorted(keys)


LABELLED = [Path(__file__).parent.parent / "bench" / "stories" / name for name in ("pairs.tsv", "holdout.tsv")]


def test_one_outlet_recycling_its_background_is_not_a_copy_across_outlets_it_would_be(clickid_records):
    """The hand-labelled non-copies (bench/stories/) of one outlet whose
    3-gram containment is between the two thresholds (and Jaccard below its
    own): new news on top of the outlet's own background paragraphs."""
    fp = stories.Fingerprints()
    rows = [r for path in LABELLED for r in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t")
            if r["outlet_a"] == r["outlet_b"] and r["label"] == "0"]
    by_id = {r["id"]: r for r in clickid_records}
    between = []
    for row in rows:
        a, b = (fp.text(by_id[row[k]]["body"]) for k in ("id_a", "id_b"))
        shared = len(set(a.shingles.tolist()) & set(b.shingles.tolist()))
        smaller, union = min(len(a.shingles), len(b.shingles)), len(a.shingles) + len(b.shingles) - shared
        fewer = min(a.numbers, b.numbers, key=len)
        numbers_agree = len(fewer) < 3 or len(a.numbers & b.numbers) >= fp.numbers * len(fewer)
        if fp.containment * smaller <= shared < fp.same_outlet * smaller and shared < fp.jaccard * union \
                and numbers_agree:
            between.append((row, replace(a, outlet="Tempo"), b))
    assert len(between) >= 5
    for row, a, b in between:
        assert not fp.copies(a, replace(b, outlet="Tempo")), row
        assert fp.copies(a, replace(b, outlet="Okezone")), row


def test_signatures_are_datasketchs(sample):
    """The signature is worked out on the whole array at once: it must stay
    datasketch's MinHash of the same values (a build's cards are compared
    with the signatures of articles added later)."""
    fp = stories.Fingerprints()
    reference = MinHash(num_perm=fp.num_perm, seed=stories.SEED, hashfunc=int)
    for record in sample[:50]:
        shingles = fp.shingles(record["body"])
        reference.clear()
        reference.update_batch(shingles.tolist())
        assert (fp.signature(shingles) == reference.hashvalues.astype(np.uint32)).all() == bool(len(shingles))


def test_a_short_body_is_a_story_of_its_own():
    fp = stories.Fingerprints()
    assert not len(fp.shingles("Empat kata saja"))
    assert not stories.band_terms(fp.band_keys(fp.signature(fp.shingles("Empat kata saja")))[0])


# --- add --------------------------------------------------------------------------


def test_add_of_a_copy_joins_its_story_and_an_earlier_one_becomes_canonical(sample, expected, tmp_path):
    kept_full = None
    big = sorted(expected, key=lambda g: (-len(g), sorted(g)))[0]
    by_id = {r["id"]: r for r in sample}
    ordered = sorted(big, key=lambda i: (by_id[i]["published"] or "", i))
    held_back = {ordered[0], ordered[-1]}  # the canonical and a later copy
    first = write([r for r in sample if r["id"] not in held_back], tmp_path / "first.jsonl")
    later = write([by_id[i] for i in sorted(held_back)], tmp_path / "later.jsonl")
    rebuild([first], tmp_path / "index")
    engine = engine_at(tmp_path / "index")
    try:
        before = engine_stories(engine, sorted(big - held_back))
        assert all(story != ordered[0] for story, _m in before.values())
        engine.add([later])
        kept_full = engine_stories(engine, [r["id"] for r in sample])
    finally:
        engine.close()
    assert groups_of(kept_full) == expected
    assert {kept_full[i][0] for i in big} == {kept_full[ordered[0]][1][0]}


def test_rebuild_and_adds_in_any_order_give_the_same_stories(slive, sample, tmp_path):
    ids = [r["id"] for r in sample]
    whole = engine_stories(slive, ids)
    parts = [sample[i::3] for i in range(3)]
    files = [write(p, tmp_path / f"part{i}.jsonl") for i, p in enumerate(parts)]
    for n, order in enumerate(([0, 1, 2], [2, 0, 1])):
        index_dir = tmp_path / f"index{n}"
        rebuild([files[order[0]]], index_dir)
        engine = engine_at(index_dir)
        try:
            for k in order[1:]:
                engine.add([files[k]])
            assert engine_stories(engine, ids) == whole
        finally:
            engine.close()


@pytest.mark.engine_only("whoosh")  # the clustering step of a Whoosh rebuild
def test_ordering_stories_a_few_at_a_time_gives_the_same_stories(slive, sample, tmp_path, monkeypatch):
    """A rebuild reads the stored articles of its stories a batch at a time to order them."""
    ids = [r["id"] for r in sample]
    monkeypatch.setattr(stories, "FETCH_GROUPS", 1)
    index_dir = tmp_path / "index"
    rebuild([write(sample, tmp_path / "all.jsonl")], index_dir)
    engine = engine_at(index_dir)
    try:
        assert engine_stories(engine, ids) == engine_stories(slive, ids)
    finally:
        engine.close()


def test_replacing_a_copy_with_other_text_takes_it_out_of_its_story(sample, expected, tmp_path):
    pair = sorted(sorted(g) for g in expected if len(g) == 2)[0]
    alone = next(r for r in reversed(sample) if all(r["id"] not in g for g in expected))
    rebuild([write(sample, tmp_path / "all.jsonl")], tmp_path / "index")
    engine = engine_at(tmp_path / "index")
    try:
        changed = {**next(r for r in sample if r["id"] == pair[0]), "body": alone["body"] + " Tambahan redaksi."}
        engine.add([write([changed], tmp_path / "changed.jsonl")])
        kept = engine_stories(engine, [pair[0], pair[1], alone["id"]])
    finally:
        engine.close()
    assert kept[pair[1]] == (pair[1], (pair[1],))
    assert set(kept[pair[0]][1]) == {pair[0], alone["id"]}  # it now copies the other text


# --- search, counts and views ------------------------------------------------------


def stored(engine) -> dict[str, dict]:
    """Every stored article by id, with its story, read without search."""
    snap = engine.snapshot()
    sel = select(engine, Request.make())
    return {a["id"]: a for a in snap.articles(snap.docs(sel.rs))}


def order_key(article: dict, named: set[str]):
    return (article["outlet"][0] not in named if article["outlet"] else True, article["published"], article["id"])


REQUESTS = [
    {},
    {"q": "Jakarta"},
    {"q": "presiden OR polisi"},
    {"outlet": "Okezone"},
    {"outlet": ["Sindonews", "Tribunnews"]},
    {"date_from": "2019-09-10", "date_to": "2019-09-20"},
]


@pytest.mark.parametrize("request_args", REQUESTS, ids=lambda r: json.dumps(r, ensure_ascii=False))
def test_counts_in_both_modes_equal_brute_force(slive, request_args):
    articles = stored(slive)
    chosen = {a: articles[a] for a in _matching(slive, request_args)}
    stories_of = {a: articles[a]["story"] for a in chosen}
    for count in ("stories", "articles"):
        result = search(slive, per_page=1, count=count, **request_args)
        assert result["total"] == len(chosen)
        assert result["stories"] == len(set(stories_of.values()))
        for name in ("outlet", "actor", "topic"):
            base = _matching(slive, {k: v for k, v in request_args.items() if k != name})
            want: dict[str, set] = {}
            for a in base:
                for value in articles[a][name]:
                    want.setdefault(value, set()).add(articles[a]["story"] if count == "stories" else a)
            for row in result["facets"][name]["results"]:
                assert row["count"] == len(want.get(row["value"], ())), (name, row)
        timeline = insights.timeline(slive, count=count, **request_args)
        per_day: dict[str, set] = {}
        for a, article in chosen.items():
            if article["published"]:
                per_day.setdefault(article["published"].isoformat(), set()).add(
                    article["story"] if count == "stories" else a)
        assert timeline["count"] == count and timeline["total"] == result["stories" if count == "stories" else "total"]
        for bucket in timeline["buckets"]:  # a story counts once in each period it ran in
            assert bucket["count"] == len(set().union(*(s for d, s in per_day.items()
                                                          if bucket["start"] <= d <= bucket["end"])))


@pytest.mark.parametrize("count", ["stories", "articles"])
def test_compared_queries_count_stories_or_articles(slive, count):
    queries = [{"q": "Jakarta"}, {"q": "presiden OR polisi"}, {"outlet": ["Sindonews", "Tribunnews"]}]
    cmp = compare(slive, [{**q, "count": count} for q in queries])
    articles = stored(slive)
    unit = (lambda a: articles[a]["story"]) if count == "stories" else (lambda a: a)  # noqa: E731
    sets = [{unit(a) for a in _matching(slive, q)} for q in queries]
    assert cmp["count"] == count and [q["total"] for q in cmp["queries"]] == [len(s) for s in sets]
    assert cmp["interval"] == "week"  # a story on two days of a week counts once in it
    for q, request_args in zip(cmp["queries"], queries):
        chosen = _matching(slive, request_args)
        for b, n in zip(cmp["buckets"], q["counts"]):
            day = [a for a, article in articles.items() if article["published"]
                   and b["start"] <= article["published"].isoformat() <= b["end"]]
            assert b["corpus"] == len({unit(a) for a in day})
            assert n == len({unit(a) for a in day if a in chosen})
        outlets: dict[str, set] = {}
        for a in chosen:
            for value in articles[a]["outlet"]:
                outlets.setdefault(value, set()).add(unit(a))
        assert {o["value"]: o["count"] for o in q["outlets"]} == {v: len(u) for v, u in outlets.items()}
    by_story = [{articles[a]["story"] for a in _matching(slive, q)} for q in queries]
    by_article = [_matching(slive, q) for q in queries]
    for key, found in (("stories", by_story), ("articles", by_article)):
        seen = Counter(x for f in found for x in f)
        assert cmp["overlap"][key] == sum(1 for n in seen.values() if n > 1)
    assert [p["count"] for p in cmp["overlap"]["pairs"]] == [len(sets[0] & sets[1]), len(sets[0] & sets[2]),
                                                            len(sets[1] & sets[2])]


@pytest.mark.parametrize("count", ["stories", "articles"])
def test_an_actors_page_counts_stories_or_articles(slive, sclient, count):
    articles = stored(slive)
    unit = (lambda a: articles[a]["story"]) if count == "stories" else (lambda a: a)  # noqa: E731
    name = Counter(v for a in articles.values() for v in a["actor"]).most_common(1)[0][0]
    profile = actor_profile(slive, name, count=count)
    naming = [a for a, article in articles.items() if name in article["actor"]]
    assert len({articles[a]["story"] for a in naming}) < len(naming)  # the actor's articles hold copies
    api = sclient.get(f"/api/actors/{name}", query_string={"count": count}).get_json()
    assert api["count"] == count and api["total"] == profile["total"]
    page = sclient.get(f"/actor/{name}", query_string={"count": count}).get_data(as_text=True)
    assert f"<strong>{profile['total']}</strong> {'berita' if count == 'stories' else 'artikel'}" in page
    assert profile["count"] == count and profile["timeline"]["count"] == count
    assert profile["total"] == len({unit(a) for a in naming}) == profile["timeline"]["total"]
    assert profile["share"] == pytest.approx(profile["total"] / len({unit(a) for a in articles}), abs=1e-6)
    for o in profile["outlets"]:
        assert o["count"] == len({unit(a) for a in naming if articles[a]["outlet"] == [o["value"]]})
        assert o["corpus"] == len({unit(a) for a in articles if articles[a]["outlet"] == [o["value"]]})
    if count == "stories":  # the latest list shows a story once
        assert len({articles[h["id"]]["story"] for h in profile["latest"]}) == len(profile["latest"])


def _matching(engine, request_args: dict) -> set[str]:
    sel = select(engine, Request.make(**request_args))
    return set(sel.snapshot.ids(sel.snapshot.docs(sel.rs)))


@pytest.mark.parametrize("request_args", REQUESTS[:4], ids=lambda r: json.dumps(r, ensure_ascii=False))
def test_collapsed_hits_are_one_per_story_shown_by_its_first_article(slive, request_args):
    articles = stored(slive)
    chosen = _matching(slive, request_args)
    members: dict[str, list[str]] = {}
    for a in chosen:
        members.setdefault(articles[a]["story"], []).append(a)
    hits = []
    for page in range(1, 5):
        hits += search(slive, page=page, per_page=100, **request_args)["hits"]
    assert len(hits) == len(members)
    snap = slive.snapshot()
    for hit in hits:
        story = hit["story"]
        in_set = members[story["id"]]
        _id, whole = snap.story(snap.find(hit["id"]))
        canonical = [i for i in snap.ids(whole) if i in chosen]
        if request_args.get("q"):  # ranked: the story's first article in canonical order
            assert hit["id"] == canonical[0]
        else:  # newest first: the story's newest article, so the list stays in date order
            assert articles[hit["id"]]["published"] == max(articles[i]["published"] for i in in_set)
        others = [i for i in canonical if i != hit["id"]]
        assert story["copies"] == len(in_set) - 1
        assert story["outlets"] == list(dict.fromkeys(articles[i]["outlet"][0] for i in others))
    every = search(slive, per_page=100, collapse="off", **request_args)
    assert every["collapse"] is False and len(every["hits"]) == min(100, len(chosen))


def test_hits_rank_stories_by_their_best_article(slive):
    collapsed = search(slive, "Jakarta", per_page=100)["hits"]
    every = search(slive, "Jakarta", per_page=100, collapse="off")["hits"]
    best: dict[str, float] = {}
    for hit in every:
        best.setdefault(hit["story"]["id"], hit["score"])
    assert [h["score"] for h in collapsed] == [best[h["story"]["id"]] for h in collapsed]
    assert [h["story"]["id"] for h in collapsed] == list(best)[:len(collapsed)]


def test_pages_crowded_by_copies_still_hold_a_page_of_stories(slive, sample, expected):
    """A page ranks a little past its last hit first, and further when
    copies crowd that: the titles of the biggest stories as the query."""
    groups = sorted(expected, key=lambda g: (-len(g), sorted(g)))[:4]
    bodies = [WORD_RE.findall(comparable(next(r["body"] for r in sample if r["id"] in g))) for g in groups]
    q = " OR ".join(f'"{" ".join(words[20:25])}"' for words in bodies)  # a phrase the copies share
    every = search(slive, q, per_page=100, collapse="off")["hits"]
    stories_of = [h["story"]["id"] for h in every]
    best: dict[str, float] = {}
    for hit in every:
        best.setdefault(hit["story"]["id"], hit["score"])
    crowded = 0
    for per_page in (1, 2, 3, 4):
        for page in range(1, 5):
            limit = page * per_page
            looked = limit + min(len(every) - len(best), 2 + limit // 4)
            crowded += len(set(stories_of[:looked])) < limit
        paged = [h for page in range(1, 5) for h in search(slive, q, page=page, per_page=per_page)["hits"]]
        assert [(h["story"]["id"], h["score"]) for h in paged] == list(best.items())[:4 * per_page]
    assert crowded  # some page needed ranking further than its first look


def test_a_story_filter_lists_its_copies(slive, expected):
    group = sorted(expected, key=lambda g: (-len(g), sorted(g)))[0]
    story_id = engine_stories(slive, [next(iter(group))])[next(iter(group))][0]
    result = search(slive, story=story_id, collapse="off", per_page=100)
    assert {h["id"] for h in result["hits"]} == set(group)
    assert result["story"] == story_id and result["stories"] == 1


def test_cooccurrence_and_export_count_stories_or_articles(slive):
    articles = stored(slive)
    snap = slive.snapshot()
    shown = {}
    for a in sorted(articles):
        story, members = snap.story(snap.find(a))
        shown.setdefault(story, snap.ids(members)[0])
    for count, ids in (("stories", set(shown.values())), ("articles", set(articles))):
        together: dict = {}
        for a, article in articles.items():  # a pair counts the stories with an article naming both
            for pair in combinations(sorted(article["actor"]), 2):
                together.setdefault(pair, set()).add(article["story"] if count == "stories" else a)
        co = insights.cooccurrence(slive, count=count)
        assert co["count"] == count and co["total"] == len(ids)
        for p in co["pairs"]:
            assert p["count"] == len(together[(p["a"], p["b"])])
            found = search(slive, require_actor=[p["a"], p["b"]], count=count)
            assert p["count"] == found["stories" if count == "stories" else "total"]
        rows = list(csv.DictReader(io.StringIO("".join(insights.export(slive, "csv", count=count)))))
        assert {r["id"] for r in rows} == ids
        assert all(r["story"] == articles[r["id"]]["story"] for r in rows)


# --- the web page and the API --------------------------------------------------------


@pytest.fixture(scope="module")
def sclient(story_index, engine_name):
    app = create_app(app_config(story_index, engine_name))
    yield app.test_client()
    app.extensions["searchapp.engine"].close()


def test_api_hits_carry_their_story_and_bad_modes_are_400(sclient):
    body = sclient.get("/api/search?per_page=100").get_json()
    assert body["collapse"] is True and body["count"] == "stories"
    assert body["stories"] < body["total"]
    assert sum(1 + h["story"]["copies"] for h in body["hits"]) == min(body["total"], 100 + sum(
        h["story"]["copies"] for h in body["hits"]))
    every = sclient.get("/api/search?per_page=100&collapse=off").get_json()
    assert every["count"] == "articles" and len(every["hits"]) == 100
    for query, reason in (("collapse=maybe", "bad_collapse"), ("count=words", "bad_count")):
        response = sclient.get(f"/api/search?{query}", headers={"Accept-Language": "id"})
        assert response.status_code == 400
        assert response.get_json()["error"]["reason"] == reason
        page = sclient.get(f"/?{query}")
        assert page.status_code == 400 and "harus" in page.get_data(as_text=True)
    actor = body["facets"]["actor"]["results"][0]["value"]
    for path in ("/api/timeline", "/api/compare?q=a&q=b", f"/api/actors/{actor}"):  # every view that counts
        response = sclient.get(f"{path}{'&' if '?' in path else '?'}count=words")
        assert response.status_code == 400 and response.get_json()["error"]["reason"] == "bad_count", path
    for path in ("/compare?q=a&q=b&count=words", f"/actor/{actor}?count=words"):
        page = sclient.get(path)
        assert page.status_code == 400 and "harus" in page.get_data(as_text=True), path


def test_the_page_says_what_it_counts_and_links_the_copies(sclient, expected):
    html = sclient.get("/?per_page=100").get_data(as_text=True)
    assert re.search(r"<strong>[\d.]+</strong> berita", html) and "salinan di" in html
    link = re.search(r'<p class="story-copies"><a href="([^"]+)">\+(\d+) salinan', html)
    story_page = sclient.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert story_page.count('class="hit"') == int(link.group(2)) + 1
    off = sclient.get("/?per_page=100&collapse=off").get_data(as_text=True)
    assert "Semua salinan" in off and 'class="story-copies"' not in off


def test_the_article_page_lists_its_copies(sclient, slive, expected):
    group = sorted(sorted(g) for g in expected)[0]
    snap = slive.snapshot()
    story, members = snap.story(snap.find(group[0]))
    ids = snap.ids(members)
    body = sclient.get(f"/api/articles/{ids[-1]}").get_json()
    assert body["story"]["id"] == story and body["story"]["canonical"] == ids[0]
    assert [c["id"] for c in body["story"]["copies"]] == ids[:-1]
    html = sclient.get(f"/article/{ids[-1]}").get_data(as_text=True)
    assert 'id="salinan"' in html and "Salinan dari" in html
    assert all(f"/article/{i}" in html for i in ids[:-1])
    similar = sclient.get(f"/api/articles/{ids[0]}/similar").get_json()
    assert not {s["id"] for s in similar["similar"]} & set(ids)


def test_the_cli_lists_stories_and_refuses_a_bad_mode(runner, story_index):
    listed = runner.invoke(main, ["search", "", *cli_index(story_index), "--per-page", "100"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"^\d+ stories \(\d+ articles\)", listed.output) and "copies in" in listed.output
    every = runner.invoke(main, ["search", "", *cli_index(story_index), "--collapse", "off"])
    assert every.exit_code == 0 and re.search(r"^\d+ articles \(\d+ stories\)", every.output)
    bad = runner.invoke(main, ["search", "x", *cli_index(story_index), "--collapse", "maybe"])
    assert bad.exit_code != 0 and "collapse must be on or off" in bad.output and "Traceback" not in bad.output
