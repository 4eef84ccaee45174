"""`searchapp watch` end to end, against a news site on loopback (tests/watch_server.py):
feeds of every kind, faults of every kind, restarts and a kill -9 mid-poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from searchapp.engine.base import IndexBusy
from searchapp.cli import main
from searchapp.ingest import feeds
from searchapp.ingest.fetcher import USER_AGENT, Failure, Fetched, Fetcher
from searchapp.ingest.watch import Watcher, WatchError, read_feed_list, state_dir
from searchapp.search.request import Request
from searchapp.search.service import search, select, stats
from tests.conftest import ROOT, cli_index, engine_at
from tests.watch_server import CLICKID, Site, article_records

pytestmark = [pytest.mark.engines,
              pytest.mark.skipif(not CLICKID.exists(), reason=f"{CLICKID} not present")]

FAST = dict(delay=0.0, timeout=0.5, backoff=0.01)  # the faults cost little time


@pytest.fixture(scope="module")
def records():
    return article_records(24)


@pytest.fixture
def site(records):
    with Site(records, slow_seconds=2.0) as site:
        yield site


def indexed_urls(engine) -> Counter:
    """How many articles of the live index hold each URL (the seeds have none)."""
    sel = select(engine, Request.make("", collapse="off"))
    return Counter(a["url"] for a in sel.snapshot.articles(sel.snapshot.docs(sel.rs)) if a["url"])


def watcher(engine, site, tmp_path, **options) -> Watcher:
    feeds_file = site.feeds_file(tmp_path / "feeds.txt")
    return Watcher(engine, feeds_file, state=state_dir(tmp_path / "index"),
                   fetcher=Fetcher(**{**FAST, **options.pop("fetch", {})}), **options)


# --- feeds -----------------------------------------------------------------------


def test_feeds_of_every_kind(site, records):
    rss = feeds.parse(site.routes["/rss.xml"], site.url("/rss.xml"))
    assert rss.kind == "rss" and len(rss.entries) == 6
    assert rss.entries[0].url == site.url(next(iter(site.articles)))
    assert rss.entries[0].title == records[0]["title"] and rss.entries[0].published.isoformat() == records[0]["published"]
    atom = feeds.parse(site.routes["/atom.xml"], site.url("/atom.xml"))
    assert atom.kind == "atom" and len(atom.entries) == 6 and atom.entries[0].title == records[1]["title"]
    index = feeds.parse(site.routes["/sitemap_index.xml"], site.url("/sitemap_index.xml"))
    assert index.kind == "sitemapindex" and index.sitemaps == [site.url("/sitemap-news.xml"),
                                                               site.url("/sitemap-pages.xml")]
    news = feeds.parse(site.routes["/sitemap-news.xml"], site.url("/sitemap-news.xml"))
    assert news.kind == "sitemap" and news.entries[0].title == records[2]["title"]
    assert news.entries[0].published.isoformat() == records[2]["published"]
    plain = feeds.parse(site.routes["/sitemap-pages.xml"], site.url("/sitemap-pages.xml"))
    assert len(plain.entries) == 6 and plain.entries[0].title is None


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?>\n<<rss version= 2.0><channel><item>\x00&&& </rss',
    b"", b"   ", b"<html><body>Not a feed</body></html>", b"\x89PNG\r\n\x1a\n\0\0\0",
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://x/a',
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><urlset><url><loc>&lol;</loc></url></urlset>',
])
def test_malformed_feeds_are_errors_not_exceptions(data):
    parsed = feeds.parse(data, "http://127.0.0.1/feed.xml")
    assert isinstance(parsed, feeds.FeedError) and parsed.reason


def test_feed_list_file(tmp_path):
    with pytest.raises(WatchError, match="not found"):
        read_feed_list(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n", "utf-8")
    with pytest.raises(WatchError, match="no feed URLs"):
        read_feed_list(tmp_path / "empty.txt")
    (tmp_path / "bad.txt").write_text("http://a/feed\nftp://b/feed\n", "utf-8")
    with pytest.raises(WatchError, match="ftp://b/feed"):
        read_feed_list(tmp_path / "bad.txt")
    (tmp_path / "ok.txt").write_text("# news\nhttp://a/rss\n\n  https://b/sitemap.xml  \nhttp://a/rss\n", "utf-8")
    assert read_feed_list(tmp_path / "ok.txt") == ["http://a/rss", "https://b/sitemap.xml"]


# --- the fetcher -------------------------------------------------------------------


def test_fetcher_politeness(site):
    clock, slept = [100.0], []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        clock[0] += seconds

    fetcher = Fetcher(delay=2.0, timeout=0.5, backoff=0.25, sleep=sleep, clock=lambda: clock[0])
    assert USER_AGENT.startswith("searchapp/") and "robots.txt" in USER_AGENT
    first = fetcher.get(site.url("/rss.xml"))  # robots.txt first, then the feed 2 s later
    assert isinstance(first, Fetched) and first.etag == '"rss-v1"' and site.served["/robots.txt"] == 1
    assert slept == [2.0]
    again = fetcher.get(site.url("/rss.xml"), etag=first.etag)
    assert again.status == 304 and again.body == b"" and site.not_modified["/rss.xml"] == 1
    assert slept == [2.0, 2.0]
    slept.clear()
    down = fetcher.get(site.url("/down.html"))  # three tries, backing off 0.25 then 0.5 s (within the 2 s delay)
    assert isinstance(down, Failure) and down.retry and "HTTP 500 (after 3 tries)" in down.reason
    assert site.hits["/down.html"] == 3 and slept[1:] == [0.25, 2.0 - 0.25, 0.5, 2.0 - 0.5]
    assert fetcher.get(site.url("/private/secret.html")).robots
    assert "/private/secret.html" not in site.hits
    assert site.agents == {USER_AGENT}


def test_fetcher_faults(site):
    fetcher = Fetcher(**FAST)
    started = time.monotonic()
    slow = fetcher.get(site.url("/slow.html"))
    assert slow.retry and "timed out after 0.5 s (after 3 tries)" in slow.reason
    assert time.monotonic() - started < 2.5
    flaky = fetcher.get(site.url(site.flaky_path))  # 500, 500, then the page
    assert isinstance(flaky, Fetched) and site.hits[site.flaky_path] == 3
    loop = fetcher.get(site.url("/loop/a"))
    assert not loop.retry and "redirect loop" in loop.reason
    for path in ("/huge.html", "/huge-stream.html"):
        huge = fetcher.get(site.url(path))
        assert not huge.retry and f"larger than {5 * 1024 * 1024} bytes" in huge.reason
    moved = fetcher.get(site.url("/redirect.html"))
    assert isinstance(moved, Fetched) and moved.url == site.url(site.moved_path)
    missing = fetcher.get(site.url("/missing.html"))
    assert missing.status == 404 and not missing.retry
    refused = Fetcher(**FAST).get("http://127.0.0.1:9/nothing-listens-here")
    assert refused.retry and "robots.txt unreadable: connection error" in refused.reason


# --- the watcher ---------------------------------------------------------------------


def test_watch_end_to_end(seed_index, site, tmp_path):
    engine = engine_at(seed_index)
    seeds = stats(engine)["documents"]
    lines = []
    with watcher(engine, site, tmp_path, log=lines.append) as w:
        first = w.poll()
        assert (first.new_urls, first.added, first.skipped) == (24 + 10, 24 + 2, 2)
        assert first.failed == 6 and first.waiting == 2 and first.feed_errors == 2
        pages = {p: site.hits[p] for p in site.articles}
        second = w.poll()  # rss answers 304, atom 304; the repeating feed brings nothing new
        assert site.not_modified["/rss.xml"] == 1 and site.not_modified["/atom.xml"] == 1
        assert second.unchanged == 2 and second.new_urls == 0 and second.added == 0 and second.fetched == 0
        assert second.failed == 2  # the slow page and the down one, tried again
        assert {p: site.hits[p] for p in site.articles} == pages  # no article page fetched again
        third = w.poll()
        assert third.waiting == 0 and w.poll().failed == 0  # three tries, then left alone
        assert w.counts() == {"added": 26, "failed": 6, "skipped": 2}
        reasons = {u["url"].rsplit("/", 1)[-1]: (u["state"], u["attempts"], u["reason"]) for u in w.urls()
                   if u["state"] != "added"}
    assert reasons == {
        "slow.html": ("failed", 3, "timed out after 0.5 s (after 3 tries)"),
        "down.html": ("failed", 3, "HTTP 500 (after 3 tries)"),
        "a": ("failed", 1, f"redirect loop back to {site.url('/loop/a')}"),
        "huge.html": ("failed", 1, f"larger than {5 * 1024 * 1024} bytes (Content-Length {20 * 1024 * 1024})"),
        "huge-stream.html": ("failed", 1, f"larger than {5 * 1024 * 1024} bytes (aborted)"),
        "secret.html": ("skipped", 1, "disallowed by robots.txt"),
        "image.png": ("skipped", 1, "not an HTML page (image/png)"),
        "missing.html": ("failed", 1, "HTTP 404"),
    }
    assert len(lines) == 4 and lines[0].startswith("poll 1: 9 feeds (0 unchanged, 2 failed), 34 new urls, fetched 26")
    # exactly the served article pages, once each, beside the seeds; searchable
    assert indexed_urls(engine) == Counter(site.expected_urls())
    assert stats(engine)["documents"] == seeds + 26
    title = site.records[3]["title"]
    hits = search(engine, f'"{title}"', collapse="off")["hits"]
    assert hits and hits[0]["title"] == title and hits[0]["url"] == site.url(list(site.articles)[3])
    engine.close()


def test_restart_neither_loses_nor_repeats(seed_index, site, tmp_path):
    engine = engine_at(seed_index)
    with watcher(engine, site, tmp_path) as w:
        w.poll()
    served = Counter(site.served)
    with watcher(engine, site, tmp_path) as w:  # a new process would see the same state
        report = w.poll()
        assert report.new_urls == 0 and report.fetched == 0 and report.unchanged == 2
    assert all(site.served[p] == served[p] for p in site.articles)
    assert indexed_urls(engine) == Counter(site.expected_urls())
    engine.close()


def test_batches_flush_on_time(seed_index, site, tmp_path):
    """With a polite delay a batch fills slowly: it is added after flush_seconds, not held back."""
    engine = engine_at(seed_index)
    feeds_file = site.feeds_file(tmp_path / "feeds.txt", ["/rss.xml"])
    with Watcher(engine, feeds_file, state=state_dir(tmp_path / "index"), fetcher=Fetcher(**FAST),
                 flush_seconds=0.0) as w:
        assert w.poll().added == 6
    assert len(list((tmp_path / "index.watch" / "spool").glob("*.jsonl"))) == 6
    engine.close()


def test_one_watcher_per_state(seed_index, site, tmp_path):
    engine = engine_at(seed_index)
    with watcher(engine, site, tmp_path):
        with pytest.raises(WatchError, match="another 'searchapp watch'"):
            watcher(engine, site, tmp_path)
    engine.close()


class BusyOnce:
    """An engine whose first add finds the index busy (another rebuild or add holds it)."""

    def __init__(self, engine):
        self.engine, self.busy = engine, 1

    def add(self, paths, **kwargs):
        if self.busy:
            self.busy -= 1
            raise IndexBusy("another rebuild or add is running")
        return self.engine.add(paths, **kwargs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


def test_spooled_articles_wait_for_the_index(seed_index, site, tmp_path):
    engine = engine_at(seed_index)
    feeds_file = site.feeds_file(tmp_path / "feeds.txt", ["/rss.xml", "/atom.xml"])
    state = state_dir(tmp_path / "index")
    with Watcher(BusyOnce(engine), feeds_file, state=state, fetcher=Fetcher(**FAST)) as w:
        first = w.poll()
        assert first.fetched == 12 and first.added == 0 and "index not updated" in first.error
        assert w.counts() == {"fetched": 12}
    assert indexed_urls(engine) == Counter()
    # a spool file written by a run killed before it marked anything (the URLs still new) is added too
    orphan = state / "spool" / "19700101T000000-1-00001.jsonl"
    orphan.write_text('{"id": "orphan-1", "title": "Banjir di Jakarta", "body": "Banjir melanda Jakarta. '
                      'Warga mengungsi.", "url": "http://127.0.0.1/orphan"}\n', "utf-8")
    with Watcher(engine, feeds_file, state=state, fetcher=Fetcher(**FAST)) as w:
        second = w.poll()
        assert second.recovered == 13 and second.fetched == 0 and second.added == 0
        assert w.counts() == {"added": 12}
    expected = {site.url(p) for p in list(site.articles) if p in {*_listed(site, "/rss.xml"), *_listed(site, "/atom.xml")}}
    assert indexed_urls(engine) == Counter(expected | {"http://127.0.0.1/orphan"})
    engine.close()


def _listed(site, feed):
    return [e.url.split(str(site.port), 1)[1] for e in feeds.parse(site.routes[feed], site.url(feed)).entries]


def test_watch_builds_a_missing_index(site, tmp_path, engine_name):
    if engine_name != "whoosh":
        pytest.skip("an index the test makes from nothing: whoosh's own directory")
    engine = engine_at(tmp_path / "index")
    with watcher(engine, site, tmp_path) as w:
        assert w.poll().added == 26
    assert indexed_urls(engine) == Counter(site.expected_urls())
    engine.close()


# --- the command ---------------------------------------------------------------------


def test_cli_watch(runner, seed_index, site, tmp_path):
    feeds_file = site.feeds_file(tmp_path / "feeds.txt", ["/rss.xml", "/sitemap_index.xml"])
    args = ["watch", str(feeds_file), *cli_index(seed_index), "--once", "--delay", "0", "--timeout", "2"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "poll 1: 4 feeds (0 unchanged, 0 failed), 18 new urls, fetched 18, added 18" in result.output
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "poll 1: 4 feeds (1 unchanged, 0 failed), 0 new urls, fetched 0" in again.output
    assert (seed_index.parent / "index.watch" / "watch.sqlite").is_file()


def test_cli_watch_without_feeds(runner, seed_index, tmp_path):
    missing = runner.invoke(main, ["watch", str(tmp_path / "feeds.txt"), *cli_index(seed_index), "--once"])
    assert missing.exit_code == 1 and "feeds file not found" in missing.output
    (tmp_path / "feeds.txt").write_text("\n", "utf-8")
    empty = runner.invoke(main, ["watch", str(tmp_path / "feeds.txt"), *cli_index(seed_index), "--once"])
    assert empty.exit_code == 1 and "no feed URLs in" in empty.output


def test_kill_9_mid_poll_then_restart(seed_index, tmp_path, engine_name):
    """A watcher killed mid-poll and started again ends with exactly the articles served, once each."""
    records = article_records(170, skip=2000)
    with Site(records, faults=False, page_delay=0.01) as site:
        feeds_file = site.feeds_file(tmp_path / "feeds.txt")
        cmd = [sys.executable, "-m", "searchapp", "watch", str(feeds_file), *cli_index(seed_index, engine_name),
               "--once", "--delay", "0", "--timeout", "5"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while sum(site.served[p] for p in site.articles) < 125 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the watcher ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = sum(site.served[p] for p in site.articles)
        assert 125 <= before < 170
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "poll 1:" in rerun.stdout
        engine = engine_at(seed_index, engine_name)
        assert indexed_urls(engine) == Counter(site.expected_urls())  # every article, once
        assert stats(engine)["documents"] == 5 + 170
        engine.close()
        twice = sum(1 for p in site.articles if site.served[p] == 2)
        assert all(site.served[p] <= 2 for p in site.articles) and twice <= before - 100  # a batch (100) was kept
