"""The Atom feed of a search (/feed.atom): valid Atom 1.0 as a feed reader parses
it, newest first, exactly the dated hits of search(sort="newest") on the seeds
and on 600 real articles, filters applied, markup kept as text, linked from the
search page."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode, urlsplit

import feedparser
import pytest

from searchapp.search import feeds, search
from searchapp.web import create_app

from tests.conftest import app_config, rebuild, write_jsonl
from tests.test_web import EVIL_BODY, EVIL_TITLE, get, query_of
from tests.test_web_insights import as_kwargs

ATOM_TYPE = "application/atom+xml; charset=utf-8"
HOST = "http://localhost"
PATH_SAFE = "/!$&'()*+,:;=@"  # what url_for leaves unquoted in a path

pytestmark = pytest.mark.engines


def feed_of(client, query: dict) -> feedparser.FeedParserDict:
    """The feed of a search, checked valid: served as Atom, parsed without a single complaint."""
    response = client.get("/feed.atom", query_string=query)
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == ATOM_TYPE
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def link(item, rel: str) -> str | None:
    return next((x["href"] for x in item.get("links", []) if x["rel"] == rel), None)


def article_url(article_id: str) -> str:
    return f"{HOST}/article/{quote(article_id, safe=PATH_SAFE)}"


def check_feed(client, live, query: dict) -> feedparser.FeedParserDict:
    """The feed's entries are the dated hits of the newest-first search, field by field."""
    feed = feed_of(client, query)
    hits = [h for h in search(live, sort="newest", per_page=feeds.FEED_SIZE, **as_kwargs(query))["hits"]
            if h["published"]]
    assert [e.id for e in feed.entries] == [article_url(h["id"]) for h in hits]
    for entry, hit in zip(feed.entries, hits):
        assert entry.title == hit["title"] or not hit["title"]
        assert link(entry, "alternate") == entry.id
        assert link(entry, "related") == (hit["url"] if (hit["url"] or "").startswith("http") else None)
        assert entry.summary == hit["snippet"]
        assert entry.get("author") == hit["outlet"]  # none: the feed's author stands for it
        assert [t.term for t in entry.get("tags", [])] == hit["topic"]
        assert entry.published == entry.updated == f"{hit['published']}T00:00:00+07:00"
    days = [date.fromisoformat(e.published[:10]) for e in feed.entries]
    assert days == sorted(days, reverse=True)
    assert len(feed.entries) <= feeds.FEED_SIZE
    head = feed.feed
    assert link(head, "self") == head.id and urlsplit(head.id).path == "/feed.atom"
    assert query_of(head.id) == query_of("?" + urlencode(query, doseq=True))
    page = link(head, "alternate")
    assert query_of(page)["sort"] == ["newest"]
    assert client.get(page.removeprefix(HOST)).status_code == 200
    if feed.entries:
        assert head.updated == feed.entries[0].published
        assert client.get(feed.entries[0].id.removeprefix(HOST)).status_code == 200
    return feed


SEED_QUERIES = [{}, {"q": "taliban"}, {"actor": "Rusia"}, {"all_actor": ["Taliban", "Rusia"]},
                {"q": "serangan", "from": "2021-07-20"}, {"q": "zzzqqxx"}]
CLICKID_QUERIES = [{}, {"q": "presiden"}, {"topic": "Olahraga"}, {"q": "banjir", "from": "2019-09-12", "to": "2019-09-16"},
                   {"q": "jokowi", "outlet": "Fimela"}]


@pytest.mark.parametrize("query", SEED_QUERIES)
def test_seed_feeds_are_the_newest_hits(client, live, query):
    check_feed(client, live, query)


@pytest.mark.parametrize("query", CLICKID_QUERIES)
def test_real_feeds_are_the_newest_hits(cclient, clive, query):
    check_feed(cclient, clive, query)


def test_a_feed_holds_the_newest_fifty(cclient, clive):
    feed = check_feed(cclient, clive, {})
    assert len(feed.entries) == feeds.FEED_SIZE
    newest = search(clive, sort="newest", per_page=1)["hits"][0]["published"]
    assert feed.feed.updated == f"{newest}T00:00:00+07:00"


def test_an_actor_feed_keeps_only_that_actor(cclient, clive):
    actor = search(clive)["facets"]["actor"]["results"][0]["value"]
    feed = check_feed(cclient, clive, {"actor": actor})
    assert feed.entries and "Aktor: " + actor in feed.feed.title
    for entry in feed.entries:
        article = cclient.get("/api/articles/" + entry.id.removeprefix(f"{HOST}/article/")).get_json()
        assert actor in article["actor"]


def test_an_empty_feed_is_valid(client):
    feed = feed_of(client, {"q": "zzzqqxx"})
    assert feed.entries == [] and feed.feed.updated and feed.feed.title.startswith("“zzzqqxx”")


@pytest.mark.parametrize("url", ["/feed.atom?from=nope", "/feed.atom?from=2021-10-02&to=2021-10-01",
                                 "/feed.atom?q=outlet:Tempo"])
def test_bad_parameters_are_a_400_page(client, url):
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == "text/html"


@pytest.fixture
def odd_client(tmp_path):
    """Markup, quotes and a javascript: URL in the fields, a control character, no title, no date."""
    corpus = write_jsonl(tmp_path / "odd.jsonl", [
        {"id": "evil", "title": EVIL_TITLE, "body": EVIL_BODY, "outlet": '<i>Media</i> & "Co"',
         "url": "javascript:alert(1)", "published": "2021-10-01", "category": "Politik"},
        {"id": "a/b c&d", "title": "", "body": "Serangan di Kabul <u>lagi</u>.\x0b Taliban menolak.",
         "url": "https://example.org/berita?a=1&b=2", "published": "2021-09-01"},
        {"id": "undated", "title": "Serangan tanpa tanggal", "body": "Serangan Taliban tanpa tanggal terbit."},
    ])
    rebuild([corpus], tmp_path / "index", procs=1)
    app = create_app(app_config(tmp_path / "index"))
    yield app.test_client()
    app.extensions["searchapp.engine"].close()


def test_markup_stays_text_and_undated_articles_are_left_out(odd_client):
    raw = odd_client.get("/feed.atom", query_string={"q": "serangan"}).get_data(as_text=True)
    for markup in ("<script", "<b>", "<i>", "<u>", "<img"):
        assert markup not in raw, markup
    feed = feed_of(odd_client, {"q": "serangan"})
    assert [e.id for e in feed.entries] == [article_url("evil"), article_url("a/b c&d")]
    evil, untitled = feed.entries
    assert evil.title == EVIL_TITLE and evil.author == '<i>Media</i> & "Co"'
    assert link(evil, "related") is None  # javascript: never becomes a link
    assert "<img src=x onerror=alert(1)>" in evil.summary
    assert untitled.title.startswith("Serangan di Kabul <u>lagi</u>.")  # the first words stand in for a title
    assert link(untitled, "related") == "https://example.org/berita?a=1&b=2"
    assert "author" not in untitled and feed.feed.author == "searchapp"  # no outlet: the feed's author stands for it
    assert odd_client.get(untitled.id.removeprefix(HOST)).status_code == 200


def test_the_search_page_links_its_feed(client):
    page = get(client, "/?q=taliban&actor=Rusia&sort=oldest&page=1&per_page=2")
    head = page.find("link", rel="alternate", type="application/atom+xml")
    visible = page.find("a", cls="feed")
    assert visible.text == "Ikuti (Atom)" and visible.attrs["href"] == head.attrs["href"]
    assert urlsplit(head.attrs["href"]).path == "/feed.atom"
    assert query_of(head.attrs["href"]) == {"q": ["taliban"], "actor": ["Rusia"]}  # filters only, no sort or paging
    assert feed_of(client, query_of(head.attrs["href"])).feed.title == "“taliban” · Aktor: Rusia · searchapp"
