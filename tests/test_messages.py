"""Messages in the reader's language: the catalogue, the Indonesian error pages,
the API's `reason` code and its Accept-Language choice, the CLI's English."""

from __future__ import annotations

import re
from string import Formatter
from urllib.parse import urlencode

import pytest

from searchapp.cli import main
from searchapp.errors import QueryError, SearchappError, catalogue, message
from searchapp.web import create_app, engine

from tests.conftest import app_config, cli_index

from tests.test_api import error_of
from tests.test_web import parse

# Values for the placeholders of the catalogue; a code without a row here gets
# "x" (or 1 where the placeholder has a numeric format such as {seconds:g}).
SAMPLES = {
    "query_too_long": dict(limit=256),
    "query_too_deep": dict(limit=6),
    "too_many_words": dict(limit=24),
    "wildcard_too_short": dict(limit=3, text="pe*"),
    "field_not_searchable": dict(name="outlet"),
    "query_too_slow": dict(seconds=2.0),
    "bad_date": dict(name="from", label="tanggal awal", value="2019-13-01"),
    "bad_number": dict(name="page", label="nomor halaman", value="x"),
    "out_of_range": dict(name="page", label="nomor halaman", low=1, high=10000, value=0),
    "too_deep": dict(limit=10000),
    "bad_sort": dict(choices="relevance, newest, oldest", value="acak"),
    "bad_format": dict(value="xml"),
    "article_not_found": dict(id="nope"),
    "http_error": dict(status=400),
}
# Words that give an English sentence away; none may be in an Indonesian message.
ENGLISH_WORDS = {"the", "must", "not", "is", "are", "be", "was", "should", "could", "only", "query", "please",
                 "between", "after", "before", "use", "fewer", "shorten", "simplify", "no", "with", "and", "or"}

pytestmark = pytest.mark.engines


def placeholders(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _t, field, _s, _c in Formatter().parse(template) if field}


def sample(code: str) -> dict:
    params = dict(SAMPLES.get(code, {}))
    for language in ("en", "id"):
        for _text, field, spec, _conv in Formatter().parse(catalogue()[code][language]):
            if field and field not in params:
                params[field] = 1 if spec and spec[-1] in "dgfeEGn%" else "x"
    return params


@pytest.mark.parametrize("code", sorted(catalogue()))
def test_every_code_has_both_languages_and_fills(code):
    templates = catalogue()[code]
    assert set(templates) == {"en", "id"}
    assert re.fullmatch(r"[a-z][a-z_]*", code)
    en, id_ = templates["en"].strip(), templates["id"].strip()
    assert en and id_ and en != id_
    params = sample(code)
    for language in ("en", "id"):
        text = message(code, language, **params)
        assert "{" not in text and "}" not in text, text
        assert text == text.strip() and "  " not in text
    words = set(re.findall(r"[a-z]+", re.sub(r"\{[^}]*\}|'[^']*'|\w+:", "", id_.lower())))
    assert not words & ENGLISH_WORDS, f"{code}: English in the Indonesian message: {words & ENGLISH_WORDS}"


@pytest.mark.parametrize("code", sorted(SAMPLES.keys() & catalogue().keys()))
def test_samples_name_every_placeholder(code):
    """The table above is kept honest: its rows fill exactly what the templates ask."""
    wanted = placeholders(catalogue()[code]["en"]) | placeholders(catalogue()[code]["id"])
    assert wanted <= set(SAMPLES[code])


def test_query_error_speaks_both_languages():
    exc = QueryError("bad_date", name="from", label="tanggal awal", value="2019-13-01")
    assert isinstance(exc, SearchappError) and isinstance(exc, ValueError)
    assert exc.code == "bad_date"
    assert str(exc) == exc.message("en") == "from must be a date as YYYY-MM-DD, not '2019-13-01'"
    assert exc.message("id") == ("tanggal awal tidak valid: “2019-13-01”; "
                                 "tulis tanggal dengan format TTTT-BB-HH, misalnya 2019-06-30")
    with pytest.raises(KeyError):
        QueryError("no_such_code")


def test_every_user_error_is_a_searchapp_error():
    from searchapp.facets.actors import GazetteerError
    from searchapp.ingest.corpus import CorpusError
    from searchapp.engine import UnknownEngine
    from searchapp.engine.base import IndexBusy, IndexerError, IndexUnreadable, NoIndex
    from searchapp.engine.tables import TableError
    from searchapp.ingest.outlets import OutletDataError
    from searchapp.text.synonyms import SynonymError

    for cls in (IndexerError, IndexBusy, NoIndex, IndexUnreadable, CorpusError, GazetteerError, OutletDataError,
                QueryError, TableError, SynonymError, UnknownEngine):
        assert issubclass(cls, SearchappError), cls
    assert issubclass(GazetteerError, ValueError) and issubclass(OutletDataError, ValueError)


# --- the bad inputs a reader can send ---------------------------------------------

WORDS = " ".join(f"k{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40))  # 40 words, 159 characters

# (page, query string, the reason it is refused)
BAD_INPUTS = [
    ("/", {"q": "a" * 300}, "query_too_long"),
    ("/", {"q": "pe*"}, "wildcard_too_short"),
    ("/", {"q": "outlet:Tempo"}, "field_not_searchable"),
    ("/", {"q": "(" * 10 + "taliban" + ")" * 10}, "query_too_deep"),
    ("/", {"q": WORDS}, "too_many_words"),
    ("/", {"from": "2019-13-01"}, "bad_date"),
    ("/", {"to": "kemarin"}, "bad_date"),
    ("/", {"from": "2021-10-02", "to": "2021-10-01"}, "dates_reversed"),
    ("/", {"page": "0"}, "out_of_range"),
    ("/", {"page": "x"}, "bad_number"),
    ("/", {"per_page": "1000"}, "out_of_range"),
    ("/", {"page": "999", "per_page": "100"}, "too_deep"),
    ("/", {"sort": "acak"}, "bad_sort"),
    ("/cooccurrence", {"size": "1"}, "out_of_range"),
    ("/cooccurrence", {"size": "banyak"}, "bad_number"),
    ("/cooccurrence", {"from": "30-06-2019"}, "bad_date"),
]
API_OF = {"/": "/api/search", "/cooccurrence": "/api/cooccurrence"}


def raised(app, url: str) -> QueryError:
    """The QueryError the view of `url` raises (before any error handler)."""
    with app.test_request_context(url):
        with pytest.raises(QueryError) as info:
            app.dispatch_request()
    return info.value


def ids(case) -> str:
    return f"{case[0]}-{case[2]}-{'&'.join(case[1])}"


@pytest.mark.parametrize("path, params, reason", BAD_INPUTS, ids=[ids(c) for c in BAD_INPUTS])
def test_bad_input_is_an_indonesian_400_page(app, client, path, params, reason):
    url = f"{path}?{urlencode(params)}"
    exc = raised(app, url)
    assert exc.code == reason
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = parse(response.data)
    assert page.find("h1").text == "Permintaan tidak dapat diproses"
    assert page.find(cls="error-message").text == exc.message("id")
    assert exc.message("en") not in page.text
    assert page.find("html").attrs.get("lang") == "id"


@pytest.mark.parametrize("path, params, reason", BAD_INPUTS, ids=[ids(c) for c in BAD_INPUTS])
def test_bad_input_under_the_api_has_a_reason(app, client, path, params, reason):
    url = f"{API_OF[path]}?{urlencode(params)}"
    exc = raised(app, url)
    response = client.get(url)
    assert error_of(response, 400, "invalid_parameter", reason) == exc.message("id")
    assert "Accept-Language" in response.headers.get("Vary", "")
    for header in ("en", "en-US,en;q=0.9", "id;q=0.5, en"):
        english = client.get(url, headers={"Accept-Language": header})
        assert error_of(english, 400, "invalid_parameter", reason) == str(exc) == exc.message("en"), header
    for header in ("id", "id-ID,id;q=0.9,en;q=0.8", "fr", "*"):
        indonesian = client.get(url, headers={"Accept-Language": header})
        assert error_of(indonesian, 400, "invalid_parameter", reason) == exc.message("id"), header


@pytest.mark.parametrize("url, reason", [
    ("/api/export?format=xml", "bad_format"),
    ("/api/export?format=csv&from=nope", "bad_date"),
    ("/api/timeline?from=2021-10-02&to=2021-10-01", "dates_reversed"),
])
def test_other_endpoints_give_the_reason(client, url, reason):
    assert "“" in error_of(client.get(url), 400, "invalid_parameter", reason) or reason == "dates_reversed"
    english = error_of(client.get(url, headers={"Accept-Language": "en"}), 400, "invalid_parameter", reason)
    assert english == message(reason, "en", **_params_of(reason, url))


def _params_of(reason: str, url: str) -> dict:
    return {"bad_format": dict(value="xml"), "bad_date": dict(name="from", value="nope"),
            "dates_reversed": {}}[reason]


def test_too_slow_speaks_indonesian_on_the_page(client, monkeypatch):
    from searchapp.search import service as search_module

    monkeypatch.setattr(search_module, "TIME_LIMIT", -1.0)
    response = client.get("/?q=taliban")
    assert response.status_code == 400
    text = parse(response.data).find(cls="error-message").text
    assert text.startswith("pencarian memakan waktu") and "detik" in text
    assert error_of(client.get("/api/search?q=taliban"), 400, "invalid_parameter", "query_too_slow")


# --- the other error pages -----------------------------------------------------------


def test_unknown_article_in_both_places(client):
    page = parse(client.get("/article/nope").data)
    assert page.find(cls="error-message").text == "tidak ada artikel dengan id “nope”"
    assert page.find("h1").text == "Halaman tidak ditemukan"
    assert error_of(client.get("/api/articles/nope"), 404, "not_found") == "tidak ada artikel dengan id “nope”"
    english = client.get("/api/articles/nope", headers={"Accept-Language": "en"})
    assert error_of(english, 404, "not_found") == "no article with id 'nope'"


def test_unknown_routes_and_methods(client):
    page = parse(client.get("/tidak/ada").data)
    assert page.find("h1").text == "Halaman tidak ditemukan"
    assert "Alamat ini tidak ada" in page.find(cls="error-message").text
    assert error_of(client.get("/api/tidak/ada"), 404, "not_found") == message("not_found", "id")
    assert error_of(client.get("/api/tidak/ada", headers={"Accept-Language": "en"}), 404,
                    "not_found") == message("not_found", "en")
    assert parse(client.post("/").data).find("h1").text == "Metode tidak diizinkan"
    assert error_of(client.post("/api/search"), 405, "method_not_allowed") == message("method_not_allowed", "id")


def test_no_index_in_both_languages(tmp_path):
    app = create_app(app_config(tmp_path / "missing"))
    client = app.test_client()
    try:
        page = parse(client.get("/?q=taliban").data)
        assert page.find("h1").text == "Indeks belum tersedia"
        assert page.find(cls="error-message").text == message("no_index", "id")
        assert str(tmp_path) not in client.get("/?q=taliban").get_data(as_text=True)  # no server path shown
        assert error_of(client.get("/api/search"), 503, "index_unavailable") == message("no_index", "id")
        english = client.get("/api/search", headers={"Accept-Language": "en"})
        assert error_of(english, 503, "index_unavailable") == message("no_index", "en")
    finally:
        app.extensions["searchapp.engine"].close()


def test_internal_error_in_both_languages(client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(engine, "search", boom)
    page = parse(client.get("/?q=x").data)
    assert page.find("h1").text == "Terjadi kesalahan"
    assert page.find(cls="error-message").text == message("internal_error", "id")
    assert error_of(client.get("/api/search?q=x"), 500, "internal_error") == message("internal_error", "id")
    english = client.get("/api/search?q=x", headers={"Accept-Language": "en"})
    assert error_of(english, 500, "internal_error") == "an internal error occurred"


# --- the CLI stays English, one line ---------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["pe*"], "a wildcard needs at least 3 letters"),
    (["Taliban", "--from", "2019-13-01"], "from must be a date as YYYY-MM-DD, not '2019-13-01'"),
    (["Taliban", "--page", "0"], "page must be between 1 and 10000, not 0"),
])
def test_cli_errors_are_one_english_line(runner, seed_index, args, words):
    result = runner.invoke(main, ["search", *cli_index(seed_index), *args])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {result.output.strip().removeprefix('Error: ')}"]
    assert words in result.output and "Traceback" not in result.output
