"""A real browser against the real server: headless Chromium drives waitress on a loopback port.

Types a query, picks actor facets (by mouse and by keyboard), watches the
count and chips change, removes a chip, opens an article; then does the same
through the folded filter panel at phone width. Screenshots go to the test's
tmp dir.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import waitress
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from searchapp.search import search
from searchapp.web import create_app
from tests.conftest import engine_at

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
    # without these Chromium keeps calling home on a machine with no network
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver not installed (apt-get install chromium chromium-driver; .ci/run does it)",
)


@contextmanager
def serving(index_dir: Path) -> Iterator[str]:
    """The app under waitress on a free loopback port, in a thread."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)

    def run() -> None:
        try:
            server.run()
        except OSError as exc:  # close() below can pull the socket from under the loop's select()
            if exc.errno != errno.EBADF:
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)
        app.extensions["searchapp.engine"].close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def navigate(browser: WebDriver, action: Callable[[], None]) -> None:
    """Do something that loads a new page, and wait until it has."""
    old = browser.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(browser, 15).until(EC.staleness_of(old))
    WebDriverWait(browser, 15).until(lambda b: b.execute_script("return document.readyState") == "complete")


def count(browser: WebDriver) -> int:
    return int(browser.find_element(By.CSS_SELECTOR, "#result-count strong").text.replace(".", ""))


def follow_count(browser: WebDriver, selector: str) -> int:
    """Click the first link matching `selector` that shows a number of articles; that number."""
    link = browser.find_elements(By.CSS_SELECTOR, selector)[0]
    expected = int(link.text.replace(".", ""))
    browser.execute_script("arguments[0].scrollIntoView()", link)
    navigate(browser, link.click)
    return expected


def chips(browser: WebDriver) -> list[str]:
    return [" ".join(c.text.replace("×", "").replace("(hapus filter)", "").split())
            for c in browser.find_elements(By.CSS_SELECTOR, "a.chip")]


def facet_link(browser: WebDriver, facet: str, value: str):
    return browser.find_element(
        By.XPATH, f"//section[@aria-labelledby='h-{facet}']//a[span[@class='value' and normalize-space()='{value}']]"
    )


def shot(browser: WebDriver, folder: Path, name: str) -> None:
    """A screenshot of the whole page, for looking at by eye."""
    width = browser.get_window_size()["width"]
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height + 140, 4000))
    assert browser.save_screenshot(str(folder / f"{name}.png"))


def two_actors(live, q: str) -> tuple[str, str]:
    """Two actors whose union is bigger than either, so each click visibly changes the count."""
    rows = search(live, q)["facets"]["actor"]["results"]
    values = [r["value"] for r in rows]
    for a in values:
        for b in values:
            both = search(live, q, actor=[a, b])["total"]
            if both > max(search(live, q, actor=a)["total"], search(live, q, actor=b)["total"]):
                return a, b
    pytest.fail(f"no two actors of {q!r} widen each other")


def test_search_facets_chips_and_article(browser, seed_index, live, tmp_path):
    a, b = two_actors(live, "taliban")
    with serving(seed_index) as base:
        browser.set_window_size(1280, 900)
        browser.get(base + "/")
        assert count(browser) == search(live, "")["total"]
        shot(browser, tmp_path, "1-browse")

        browser.set_window_size(1280, 900)
        box = browser.find_element(By.ID, "q")
        box.send_keys("taliban")
        navigate(browser, lambda: box.send_keys(Keys.ENTER))
        assert "q=taliban" in browser.current_url
        assert count(browser) == search(live, "taliban")["total"]
        assert browser.find_element(By.ID, "q").get_attribute("value") == "taliban"
        assert browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
        assert chips(browser) == []

        link = facet_link(browser, "actor", a)
        assert link.is_displayed()
        navigate(browser, link.click)
        assert count(browser) == search(live, "taliban", actor=a)["total"]
        assert chips(browser) == [f"Aktor: {a}"]
        assert "on" in facet_link(browser, "actor", a).get_attribute("class")
        shot(browser, tmp_path, "2-one-actor")

        browser.set_window_size(1280, 900)
        navigate(browser, lambda: facet_link(browser, "actor", b).send_keys(Keys.ENTER))  # keyboard works too
        assert count(browser) == search(live, "taliban", actor=[a, b])["total"]
        assert sorted(chips(browser)) == sorted([f"Aktor: {a}", f"Aktor: {b}"])
        shot(browser, tmp_path, "3-two-actors")

        chip = next(c for c in browser.find_elements(By.CSS_SELECTOR, "a.chip") if a in c.text)
        navigate(browser, chip.click)
        assert chips(browser) == [f"Aktor: {b}"]
        assert count(browser) == search(live, "taliban", actor=b)["total"]

        first = browser.find_element(By.CSS_SELECTOR, ".hit-title a")
        title = first.text
        navigate(browser, first.click)
        assert "/article/" in browser.current_url and "q=taliban" in browser.current_url
        assert browser.find_element(By.TAG_NAME, "h1").text == title
        marks = browser.find_elements(By.CSS_SELECTOR, ".body mark")
        assert marks and {m.text.lower() for m in marks} == {"taliban"}
        shot(browser, tmp_path, "4-article")

        browser.set_window_size(1280, 900)
        navigate(browser, browser.find_element(By.CSS_SELECTOR, ".crumbs a").click)
        assert count(browser) == search(live, "taliban")["total"]


def test_phone_width_filters_fold_away(browser, seed_index, live, tmp_path):
    a, _ = two_actors(live, "")
    with serving(seed_index) as base:
        browser.set_window_size(390, 844)
        browser.get(base + "/")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        assert not facet_link(browser, "actor", a).is_displayed()
        shot(browser, tmp_path, "5-phone-browse")

        browser.set_window_size(390, 844)
        browser.find_element(By.CSS_SELECTOR, "a.filters-open").click()
        assert facet_link(browser, "actor", a).is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "a.filters-open").is_displayed()
        shot(browser, tmp_path, "6-phone-filters")

        browser.set_window_size(390, 844)
        navigate(browser, facet_link(browser, "actor", a).click)
        assert chips(browser) == [f"Aktor: {a}"]
        assert count(browser) == search(live, "", actor=a)["total"]
        assert "1 aktif" in browser.find_element(By.CSS_SELECTOR, "a.filters-open").text
        shot(browser, tmp_path, "7-phone-filtered")


def test_real_corpus_pages_at_both_widths(browser, clickid_index, tmp_path):
    """The 600-article slice of the real corpus: long facet lists, paging, empty titles, real URLs."""
    with serving(clickid_index) as base:
        for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
            browser.set_window_size(width, height)
            browser.get(base + "/?q=serangan")
            assert count(browser) > 10
            assert browser.find_elements(By.CSS_SELECTOR, "nav.pager a[rel=next]")
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            shot(browser, tmp_path, f"8-clickid-{name}")
            browser.set_window_size(width, height)
            navigate(browser, browser.find_element(By.CSS_SELECTOR, ".hit-title a").click)
            assert browser.find_elements(By.CSS_SELECTOR, ".body p")
            shot(browser, tmp_path, f"9-clickid-article-{name}")


def test_timeline_and_cooccurrence_views_at_both_widths(browser, clickid_index, tmp_path):
    """The views of a result set on the real slice: click a timeline bar, open the
    co-occurrence tab, click a cell, open how the query matched, find similar articles."""
    live = engine_at(clickid_index)
    try:
        a, b = [r["value"] for r in search(live)["facets"]["actor"]["results"][:2]]
        with serving(clickid_index) as base:
            for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
                browser.set_window_size(width, height)
                browser.get(base + "/?q=presiden")
                assert browser.execute_script("return document.documentElement.scrollWidth") <= width
                chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
                assert chart.is_displayed() and chart.size["width"] > 300
                summary = browser.find_element(By.CSS_SELECTOR, "details.reading summary")
                summary.click()  # how it matched opens in place
                assert browser.find_element(By.CSS_SELECTOR, ".reading-detail").is_displayed()
                shot(browser, tmp_path, f"10-timeline-{name}")

                browser.set_window_size(width, height)
                bar = max(browser.find_elements(By.CSS_SELECTOR, "svg.chart a"),
                          key=lambda el: int(el.get_attribute("aria-label").split(": ")[1].split()[0].replace(".", "")))
                expected = int(bar.get_attribute("aria-label").split(": ")[1].split()[0].replace(".", ""))
                navigate(browser, bar.click)
                assert "from=" in browser.current_url and "to=" in browser.current_url
                assert count(browser) == expected

                browser.get(base + "/?" + "&".join(f"actor={v.replace(' ', '+')}" for v in (a, b)))
                assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart g.series")) == 2
                shot(browser, tmp_path, f"11-timeline-compare-{name}")

                browser.set_window_size(width, height)
                browser.get(base + "/?q=presiden")
                navigate(browser, browser.find_element(By.LINK_TEXT, "Aktor bersama").click)
                assert "/cooccurrence?q=presiden" in browser.current_url
                assert browser.execute_script("return document.documentElement.scrollWidth") <= width
                cells = browser.find_elements(By.CSS_SELECTOR, "table.heat td.h5 a, table.heat td.h4 a")
                assert cells
                shot(browser, tmp_path, f"12-cooccurrence-{name}")

                browser.set_window_size(width, height)
                expected = follow_count(browser, "table.heat td.h5 a, table.heat td.h4 a")
                assert browser.current_url.count("all_actor=") == 2
                assert count(browser) == expected
                assert [c.split(":")[0] for c in chips(browser)] == ["Menyebut", "Menyebut"]

                navigate(browser, browser.find_element(By.CSS_SELECTOR, ".hit-title a").click)
                similar = browser.find_elements(By.CSS_SELECTOR, "section.similar li a")
                assert similar
                shot(browser, tmp_path, f"13-similar-{name}")
                browser.set_window_size(width, height)
                title = similar[0].text
                navigate(browser, similar[0].click)
                assert browser.find_element(By.TAG_NAME, "h1").text == title or title.startswith("Tanpa judul")
    finally:
        live.close()


def test_research_views_at_both_widths(browser, clickid_index, tmp_path):
    """Queries compared, the index of actors and an actor page, and the
    significant words of a search, at desktop and phone width: nothing wider
    than the screen, and the numbers lead to as many articles."""
    folder = Path(os.environ.get("SEARCHAPP_SHOTS") or tmp_path)
    with serving(clickid_index) as base:
        for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
            browser.set_window_size(width, height)
            browser.get(base + "/compare?q=presiden&q=polisi&q=jakarta&measure=share")
            assert browser.find_element(By.CSS_SELECTOR, "svg.compare-lines").is_displayed()
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            shot(browser, folder, f"14-compare-{name}")
            browser.set_window_size(width, height)
            expected = follow_count(browser, "table.compare-table a")
            assert count(browser) == expected

            browser.get(base + "/actors")
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            navigate(browser, browser.find_element(By.CSS_SELECTOR, "ol.actor-index a").click)
            assert "/actor/" in browser.current_url
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            shot(browser, folder, f"15-actor-{name}")
            browser.set_window_size(width, height)
            co = browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-co-actors] li")[0]
            expected = int(co.find_element(By.CSS_SELECTOR, ".count").text.replace(".", ""))
            link = co.find_element(By.CSS_SELECTOR, "a")
            browser.execute_script("arguments[0].scrollIntoView()", link)
            navigate(browser, link.click)
            assert count(browser) == expected

            browser.get(base + "/?q=presiden")
            words = browser.find_elements(By.CSS_SELECTOR, "section.significant a")
            assert words
            browser.execute_script("arguments[0].scrollIntoView()", words[0])
            shot(browser, folder, f"16-significant-{name}")
            browser.set_window_size(width, height)
