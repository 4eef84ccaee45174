"""The HTML pages through Flask's test client: results, facet links, chips, paging, errors, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from searchapp.search import search
from searchapp.web import create_app
from searchapp.web.formatting import lead, paragraphs, safe_url
from searchapp.web.params import SearchState
from searchapp.web.results import pagination

from tests.conftest import app_config, rebuild, write_jsonl
from searchapp.engine.whoosh import builds

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

pytestmark = pytest.mark.engines


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def html(self) -> list:
        """Child tags by name, in order: enough to assert which tags a snippet holds."""
        return [c.tag for c in self.iter() if c is not self]

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        return [
            n for n in self.iter()
            if n is not self and (tag is None or n.tag == tag)
            and (cls is None or cls in (n.attrs.get("class") or "").split())
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}>"
        return found[0]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("#root", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_endtag(self, tag):
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def parse(html: str | bytes) -> Node:
    parser = _Parser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.root


def total(page: Node) -> int:
    return int(page.find(id="result-count").find("strong").text.replace(".", ""))


def facet_links(page: Node, facet: str) -> dict[str, tuple[str, int, bool]]:
    """value → (href, shown count, selected) for one sidebar group."""
    section = page.find("section", aria_labelledby=f"h-{facet}")
    return {
        a.find(cls="value").text: (a.attrs["href"], int(a.find(cls="count").text.replace(".", "")), "on" in (a.attrs.get("class") or ""))
        for a in section.find_all("a") if "to-actor" not in (a.attrs.get("class") or "")
    }


def chips(page: Node) -> dict[str, str]:
    """'Label: value' → removal href of every active-filter chip."""
    return {" ".join(a.text.replace("×", "").replace("(hapus filter)", "").split()): a.attrs["href"]
            for a in page.find_all("a", cls="chip")}


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def get(client, url: str, status: int = 200) -> Node:
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return parse(response.data)


# --- the search page ---------------------------------------------------------


def test_browse_lists_everything_newest_first(client, live):
    page = get(client, "/")
    assert total(page) == 5
    expected = [h["id"] for h in search(live, "")["hits"]]
    links = [a.attrs["href"] for a in page.find_all("a") if a.parent.tag == "h2" and a.parent.attrs.get("class") == "hit-title"]
    assert links == [f"/article/{i}" for i in expected]
    dates = [t.attrs["datetime"] for t in page.find_all("time")]
    assert dates == sorted(dates, reverse=True)
    assert [o.text for o in page.find("nav", cls="sort").find_all("a")] == ["Terbaru", "Terlama"]


def test_query_results_ranked_with_marks_and_kept_query(client, live):
    page = get(client, "/?q=serangan")
    result = search(live, "serangan")
    assert total(page) == result["total"] == 3
    assert page.find("input", id="q").attrs["value"] == "serangan"
    hits = page.find_all("li", cls="hit")
    assert [h.find("a").attrs["href"] for h in hits] == [f"/article/{h['id']}?q=serangan" for h in result["hits"]]
    marked = {m.text.lower() for h in hits for m in h.find("p", cls="snippet").find_all("mark")}
    assert "menyerang" in marked or "penyerang" in marked  # stemmed match shown as written
    assert "1–3 dari" in page.find(id="result-count").text
    assert re.search(r"\d+ ms", page.find(cls="took").text)


def test_untitled_articles_get_their_first_words(client):
    page = get(client, "/")
    untitled = page.find_all("span", cls="untitled")
    assert len(untitled) == 2  # two seed .txt pages have no headline
    assert all(len(u.text.split()) >= 5 for u in untitled)
    assert lead("… satu dua tiga", 2) == "satu dua …"


def test_facet_counts_are_what_a_click_returns(client):
    page = get(client, "/?q=taliban")
    for facet in ("actor", "outlet", "topic"):
        for value, (href, count, selected) in list(facet_links(page, facet).items())[:4]:
            assert not selected
            assert query_of(href) == {"q": ["taliban"], facet: [value]}
            clicked = get(client, href)
            assert total(clicked) == count
            assert len(clicked.find_all("li", cls="hit")) == min(count, 10)  # the listed hits are the filtered ones
            assert facet_links(clicked, facet)[value][2] is True
            assert list(chips(clicked)) == [f"{dict(actor='Aktor', outlet='Media', topic='Topik')[facet]}: {value}"]


def test_one_facet_ors_different_facets_and(client, live):
    def ids(**kw):
        return {h["id"] for h in search(live, "", **kw)["hits"]}

    actors = [r["value"] for r in search(live, "")["facets"]["actor"]["results"]]
    a = actors[-1]
    b = next(b for b in actors if ids(actor=b) - ids(actor=a))
    page = get(client, "/?" + urlencode([("actor", a), ("actor", b)]))
    assert total(page) == len(ids(actor=a) | ids(actor=b))
    links = facet_links(page, "actor")
    assert links[a][2] and links[b][2]
    assert query_of(links[a][0]) == {"actor": [b]}  # clicking a selected value removes it
    outlet = search(live, "")["facets"]["outlet"]["results"][0]["value"]
    both = get(client, "/?" + urlencode({"actor": b, "outlet": outlet}))
    assert total(both) == len(ids(actor=b) & ids(outlet=outlet)) < len(ids(actor=b) | ids(outlet=outlet))


def test_facet_links_keep_other_params_and_reset_page(client):
    page = get(client, "/?q=taliban&sort=oldest&from=2021-01-01&per_page=2&page=2&topic=Diplomasi+%26+Internasional")
    href = facet_links(page, "actor")["Rusia"][0]
    assert query_of(href) == {"q": ["taliban"], "actor": ["Rusia"], "topic": ["Diplomasi & Internasional"],
                              "from": ["2021-01-01"], "sort": ["oldest"], "per_page": ["2"]}


def test_chips_remove_one_filter_each(client):
    page = get(client, "/?q=taliban&actor=Rusia&outlet=Intisari+Online&from=2021-10-01&to=2021-12-31")
    found = chips(page)
    assert set(found) == {"Aktor: Rusia", "Media: Intisari Online", "Sejak: 1 Oktober 2021", "Sampai: 31 Desember 2021"}
    assert query_of(found["Aktor: Rusia"]) == {"q": ["taliban"], "outlet": ["Intisari Online"], "from": ["2021-10-01"], "to": ["2021-12-31"]}
    assert "from" not in query_of(found["Sejak: 1 Oktober 2021"])
    clear = page.find("a", cls="clear-all").attrs["href"]
    assert query_of(clear) == {"q": ["taliban"]}
    assert "4 aktif" in page.find("a", cls="filters-open").text


def test_search_box_carries_filters_and_dates_belong_to_it(client):
    page = get(client, "/?q=taliban&actor=Rusia&sort=newest")
    form = page.find("form", id="search")
    hidden = {(i.attrs["name"], i.attrs["value"]) for i in form.find_all("input", type="hidden")}
    assert hidden == {("actor", "Rusia"), ("sort", "newest")}
    assert {i.attrs["name"] for i in page.find_all("input", form="search")} == {"from", "to"}
    for name in ("q", "from", "to"):
        assert page.find("label", **{"for": name})


def test_empty_params_redirect_to_a_clean_url(client):
    response = client.get("/?q=&actor=Rusia&from=&to=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?actor=Rusia"


def test_date_range_and_sort(client, live):
    page = get(client, "/?from=2021-10-01")
    assert total(page) == search(live, "", date_from="2021-10-01")["total"] == 2
    assert page.find("input", id="from").attrs["value"] == "2021-10-01"
    oldest = get(client, "/?q=taliban&sort=oldest")
    dates = [t.attrs["datetime"] for t in oldest.find_all("time")]
    assert dates == sorted(dates)
    sorts = {a.text: a for a in oldest.find("nav", cls="sort").find_all("a")}
    assert list(sorts) == ["Relevansi", "Terbaru", "Terlama"]
    assert sorts["Terlama"].attrs.get("aria-current") == "true"
    assert query_of(sorts["Relevansi"].attrs["href"]) == {"q": ["taliban"]}


def test_pagination(client):
    first = get(client, "/?q=taliban&per_page=2")
    pager = first.find("nav", cls="pager")
    assert [a.text for a in pager.find_all("a", cls="num")] == ["1", "2", "3"]
    assert pager.find("a", aria_current="page").text == "1"
    nxt = pager.find("a", rel="next").attrs["href"]
    assert query_of(nxt) == {"q": ["taliban"], "per_page": ["2"], "page": ["2"]}
    last = get(client, "/?q=taliban&per_page=2&page=3")
    assert len(last.find_all("li", cls="hit")) == 1
    assert not last.find("nav", cls="pager").find_all("a", rel="next")
    assert "5–5 dari" in last.find(id="result-count").text
    beyond = get(client, "/?q=taliban&per_page=2&page=9")
    assert "Halaman 9 kosong" in beyond.find(cls="empty").text


def test_pages_are_capped_at_the_search_window():
    result = {"total": 50_000, "stories": 40_000, "collapse": False, "per_page": 100, "page": 50, "hits": [{}] * 100}
    shown = pagination(result)
    assert shown["last"] == 100
    assert pagination({**result, "collapse": True, "stories": 2_050})["last"] == 21  # collapsed: pages of stories
    assert shown["numbers"] == [1, None, 48, 49, 50, 51, 52, None, 100]


def test_no_results_offers_what_to_loosen(client):
    page = get(client, "/?q=taliban+zzzqqxx&actor=Rusia&from=2021-01-01")
    empty = page.find(cls="empty")
    assert "Tidak ada artikel" in empty.text
    links = {a.text: a.attrs["href"] for a in empty.find_all("a")}
    assert query_of(links["Hapus semua filter"]) == {"q": ["taliban zzzqqxx"]}
    assert query_of(links["Perlebar rentang tanggal"]) == {"q": ["taliban zzzqqxx"], "actor": ["Rusia"]}
    assert "lebih sedikit kata" in empty.text


def test_suggestion_is_a_link_keeping_filters(client, monkeypatch):
    from searchapp.web import engine

    real = engine.search
    monkeypatch.setattr(engine, "search", lambda *a, **k: {**real(*a, **k), "suggestion": "taliban"})
    page = get(client, "/?q=talibn&actor=Rusia")
    link = page.find(cls="suggestion").find("a")
    assert "Maksud Anda" in page.find(cls="suggestion").text
    assert query_of(link.attrs["href"]) == {"q": ["taliban"], "actor": ["Rusia"]}


def test_query_reading_shows_stems(client):
    page = get(client, "/?q=serangan")
    assert "serangan → serang" in " ".join(page.find(cls="reading").text.split())


@pytest.mark.parametrize(
    "url, words",
    [
        ("/?page=x", "nomor halaman"),
        ("/?page=0", "nomor halaman"),
        ("/?per_page=1000", "jumlah hasil per halaman"),
        ("/?page=200&per_page=100", "10000"),
        ("/?sort=best", "urutan"),
        ("/?from=2021-13-01", "tanggal awal"),
        ("/?from=2021-10-02&to=2021-10-01", "tanggal awal"),
        ("/?q=id:x", "title:"),
    ],
)
def test_bad_parameters_are_a_400_page(client, url, words):
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = parse(response.data)
    assert words in page.find(cls="error-message").text
    assert page.find("h1").text == "Permintaan tidak dapat diproses"


# --- article, help, errors ------------------------------------------------------


def test_article_page_highlights_and_links(client, live):
    page = get(client, "/article/001_e2a36016ce82df2b?q=taliban")
    assert "Taliban Setuju Kerja Sama" in page.find("h1").text
    assert page.find("h1").find("mark").text == "Taliban"
    marks = [m.text.lower() for m in page.find("div", cls="body").find_all("mark")]
    assert marks and set(marks) == {"taliban"}
    note = page.find(cls="match-note").text
    assert f"{len(marks)} kata" in note
    tags = {a.text: a.attrs["href"] for a in page.find_all("a", cls="tag")}
    assert query_of(tags["Taliban"]) == {"actor": ["Taliban"]}
    assert any(query_of(h) == {"topic": ["Diplomasi & Internasional"]} for h in tags.values())
    kicker = page.find(cls="kicker")
    assert query_of(kicker.find("a").attrs["href"]) == {"outlet": ["Inionline.id"]}
    assert "Kamis, 21 Oktober 2021" in kicker.text
    assert query_of(page.find("nav", cls="crumbs").find("a").attrs["href"]) == {"q": ["taliban"]}
    stemmed = get(client, f"/article/{search(live, 'serangan')['hits'][0]['id']}?q=serangan")
    assert {m.text.lower() for m in stemmed.find("div", cls="body").find_all("mark")} >= {"serangan", "menyerang"}
    assert len(page.find("div", cls="body").find_all("p")) > 3


def test_article_paragraph_marks_are_shifted():
    text = "satu serangan\n\ndua serangan"
    paras = paragraphs(text, [[5, 13], [19, 27]])
    assert [str(p) for p in paras] == ["satu <mark>serangan</mark>", "dua <mark>serangan</mark>"]


def test_unknown_article_is_a_404_page(client):
    response = client.get("/article/nope")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "nope" in parse(response.data).find(cls="error-message").text


def test_help_examples_all_run(client):
    page = get(client, "/help")
    examples = [a.attrs["href"] for a in page.find_all("a", cls="example")]
    assert len(examples) >= 7
    for href in examples:
        assert total(get(client, href)) > 0, href


def test_unknown_page_and_method(client):
    assert client.get("/no/such/page").status_code == 404
    response = client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.mimetype == "text/html"


def test_static_css_and_security_headers(client):
    css = client.get("/static/style.css")
    assert css.status_code == 200 and b".facet-list" in css.data
    page = client.get("/?q=taliban")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert b"style=" not in page.data  # the CSP allows no inline styles
    assert b"<script" not in page.data


def test_no_index_is_a_503_page(tmp_path):
    app = create_app(app_config(tmp_path / "missing"))
    client = app.test_client()
    try:
        for url in ("/", "/?q=taliban", "/article/x"):
            response = client.get(url)
            assert response.status_code == 503
            assert "Indeks belum tersedia" in response.get_data(as_text=True)
        assert client.get("/help").status_code == 200
    finally:
        app.extensions["searchapp.engine"].close()


@pytest.mark.engine_only("whoosh")  # an unreachable cluster: tests/test_opensearch_engine.py
def test_damaged_index_is_a_503_not_a_traceback(app, client, seed_index):
    build = builds.live_build(seed_index)
    for toc in build.glob("*.toc"):
        toc.unlink()
    response = client.get("/?q=taliban")
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_rebuild_shows_without_restart(client, tmp_path, seed_index):
    assert total(get(client, "/")) == 5
    corpus = write_jsonl(tmp_path / "one.jsonl", [{"id": "baru", "title": "Satu artikel baru", "body": "Isi baru."}])
    rebuild([corpus], seed_index, procs=1)
    assert total(get(client, "/")) == 1


# --- escaping ------------------------------------------------------------------------

EVIL_TITLE = '<script>alert(1)</script> Serangan "kutip" & <b>tebal</b>'
EVIL_BODY = 'Teks <img src=x onerror=alert(1)> tentang serangan Taliban di "Kabul" & <script>alert(2)</script> lagi.'


@pytest.fixture
def evil_client(tmp_path):
    """An index whose fields hold markup, quotes, ampersands and a javascript: URL."""
    corpus = write_jsonl(tmp_path / "evil.jsonl", [
        {"id": "evil", "title": EVIL_TITLE, "body": EVIL_BODY, "outlet": '<i>Media</i> & "Co"', "category": "<b>kat</b>",
         "url": "javascript:alert(1)", "published": "2021-10-01"},
        {"id": "a/b c&d", "title": "", "body": "Serangan di Kabul <u>lagi</u>. Taliban menolak.",
         "url": "https://example.org/berita?a=1&b=2", "outlet": "tempo.co", "published": "2021-09-01"},
    ])
    index_dir = tmp_path / "index"
    rebuild([corpus], index_dir, procs=1)
    app = create_app(app_config(index_dir))
    yield app.test_client()
    app.extensions["searchapp.engine"].close()


def assert_inert(html: str) -> None:
    for raw in ("<script", "<img src=x", "<b>tebal", "<b>kat", "<i>Media", "<u>lagi"):
        assert raw not in html, raw
    assert not re.search(r"(?i)(href|src|action)\s*=\s*[\"']?\s*javascript:", html)


def test_markup_in_data_is_escaped_everywhere(evil_client):
    pages = ["/", "/?q=serangan", "/?q=serangan&outlet=%3Ci%3EMedia%3C/i%3E+%26+%22Co%22", "/article/evil?q=serangan",
             "/article/a/b%20c%26d?q=serangan"]
    for url in pages:
        response = evil_client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.get_data(as_text=True))
    html = evil_client.get("/?q=serangan").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Serangan</mark> &#34;kutip&#34; &amp; &lt;b&gt;tebal&lt;/b&gt;" in html
    page = parse(html)
    snippets = page.find_all("p", cls="snippet")
    for snippet in snippets:
        assert set(snippet.html) == {"mark"}
    assert any("<img src=x onerror=alert(1)>" in s.text for s in snippets)  # shown as text
    assert '<i>Media</i> & "Co"' in facet_links(page, "outlet")


def test_only_http_urls_become_links(evil_client):
    evil = parse(evil_client.get("/article/evil").data)
    assert not [a for a in evil.find_all("a") if "alert" in a.attrs.get("href", "")]
    assert evil.find("span", cls="source").text == "javascript:alert(1)"
    fine = parse(evil_client.get("/article/a/b%20c%26d").data)
    link = fine.find("a", cls="source")
    assert link.attrs["href"] == "https://example.org/berita?a=1&b=2"
    assert "noopener" in link.attrs["rel"]
    assert safe_url(" JavaScript:alert(1)") is None and safe_url("http:foo") is None and safe_url("data:x") is None


def test_ids_with_slashes_and_spaces_link_to_their_article(evil_client):
    page = parse(evil_client.get("/?q=kabul").data)
    hrefs = [a.attrs["href"] for a in page.find_all("a") if a.attrs.get("href", "").startswith("/article/")]
    assert "/article/a/b%20c&d?q=kabul" in hrefs
    assert evil_client.get("/article/a/b%20c&d?q=kabul").status_code == 200


def test_echoed_query_is_escaped(evil_client):
    q = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    response = evil_client.get("/", query_string={"q": q})
    html = response.get_data(as_text=True)
    assert_inert(html)
    page = parse(html)
    assert page.find("input", id="q").attrs["value"] == q
    assert q in page.find("title").text
    bad = evil_client.get("/", query_string={"q": "<b>x</b>", "page": "<script>"}).get_data(as_text=True)
    assert_inert(bad)
    assert "&lt;script&gt;" in bad


def test_search_state_urls(app):
    state = SearchState(q="a & b", filters={"actor": ("X/Y", "Z")}, date_from="2021-01-01", sort="oldest", page=3)
    with app.test_request_context():
        assert state.page_url(3) == "/?q=a+%26+b&actor=X%2FY&actor=Z&from=2021-01-01&sort=oldest&page=3"
        assert state.toggle("actor", "Z") == "/?q=a+%26+b&actor=X%2FY&from=2021-01-01&sort=oldest"
        assert state.toggle("outlet", "O") == "/?q=a+%26+b&outlet=O&actor=X%2FY&actor=Z&from=2021-01-01&sort=oldest"
        assert SearchState().url() == "/"
        assert [o["label"] for o in SearchState().sort_options()] == ["Terbaru", "Terlama"]


@pytest.mark.parametrize(
    "path",
    ["/article/../etc/passwd", "/article/..%2F..%2Fetc%2Fpasswd", "/article/%2e%2e%2fREADME.md",
     "/article/004_bb470fe27ea90ed2%00", "/article/%00", "/api/articles/..%2Fsetup.cfg",
     "/api/articles/004_bb470fe27ea90ed2%00.txt"],
)
def test_traversal_and_nul_ids_are_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"[metadata]" not in response.data and b"root:" not in response.data


@pytest.mark.parametrize("slots, expected", [(None, None), (3, 3)])
def test_search_slots_default_to_the_engines(seed_index, slots, expected):
    """How many searches a process runs at once: the engine's own figure
    (one for Whoosh, CPU work under one GIL) unless SEARCH_SLOTS says."""
    app = create_app({**app_config(seed_index), "SEARCH_SLOTS": slots})
    expected = expected or app.extensions["searchapp.engine"].search_slots
    try:
        gate = app.extensions["searchapp.slots"]
        taken = [gate.acquire(blocking=False) for _ in range(expected + 1)]
        assert taken == [True] * expected + [False]
        for _ in range(expected):
            gate.release()
        assert total(get(app.test_client(), "/?q=taliban")) > 0
    finally:
        app.extensions["searchapp.engine"].close()
