"""Abbreviations and full forms, old and new name spellings: real articles."""

from __future__ import annotations

from importlib import resources

import pytest

from searchapp.text import analysis
from searchapp.facets.actors import default_gazetteer
from searchapp.search import search
from searchapp.text.synonyms import SynonymError, Synonyms, form_key

from tests.conftest import cli_index, engine_at, indexed, rebuild
from tests.test_query_language import all_ids, text_of

PER_SIDE = 4

# (one form, the other form): articles using only one of them are indexed
PAIRS = [
    ("Menkeu", "Menteri Keuangan"),
    ("karhutla", "kebakaran hutan dan lahan"),
    ("Pemilu", "Pemilihan Umum"),
    ("Wapres", "Wakil Presiden"),
]
SPELLINGS = [("Soeharto", "Suharto")]

pytestmark = pytest.mark.engines


def _uses(record: dict, form: str) -> bool:
    """Whether an article writes the form, read as the index reads it: its
    stemmed words in order, stop words and punctuation aside ("kebakaran
    hutan lahan" is "kebakaran hutan dan lahan", "Kementerian Keuangan" is
    "Menteri Keuangan" stemmed)."""
    stemmer = analysis.Stemmer()
    key, words = stemmer.terms(form), stemmer.terms(text_of(record))
    return any(words[i : i + len(key)] == key for i in range(len(words) - len(key) + 1))


@pytest.fixture(scope="module")
def forms_index(clickid_records, tmp_path_factory, engine_name):
    """Real articles that write only one form of each pair (or spelling)."""
    chosen: dict[str, dict] = {}
    for a, b in PAIRS + SPELLINGS:
        for mine, other in ((a, b), (b, a)):
            only = [r for r in clickid_records if mine.lower() in text_of(r).lower()
                    and _uses(r, mine) and not _uses(r, other)]
            chosen.update((r["id"], r) for r in only[:PER_SIDE])
    with indexed(list(chosen.values()), tmp_path_factory.mktemp("forms")) as live:
        yield live, list(chosen.values())


def _using(records: list[dict], form: str) -> set[str]:
    return {r["id"] for r in records if _uses(r, form)}


@pytest.mark.parametrize("typed,other", PAIRS + [(b, a) for a, b in PAIRS], ids=lambda x: x)
def test_either_form_finds_both_and_the_typed_one_ranks_first(forms_index, typed, other):
    live, records = forms_index
    mine = _using(records, typed)
    theirs = _using(records, other) - mine
    assert mine and theirs
    assert mine | theirs <= all_ids(live, typed)
    result = search(live, typed, per_page=len(mine | theirs))
    ranks = {h["id"]: n for n, h in enumerate(result["hits"])}
    assert result["hits"][0]["id"] in mine
    assert sum(ranks[i] for i in mine) / len(mine) < sum(ranks[i] for i in theirs) / len(theirs)
    assert result["searched_as"]["synonyms"] == [{"typed": typed, "forms": [other]}]


@pytest.mark.parametrize("typed,other", SPELLINGS + [(b, a) for a, b in SPELLINGS], ids=lambda x: x)
def test_a_capitalised_name_finds_its_other_spelling(forms_index, typed, other):
    live, records = forms_index
    assert _using(records, typed) | _using(records, other) <= all_ids(live, typed)
    result = search(live, typed)
    assert result["searched_as"]["spellings"] == [{"typed": typed, "variants": [other]}]


def test_a_lowercase_word_is_not_respelled(forms_index):
    live, _records = forms_index
    assert search(live, "suharto")["searched_as"]["spellings"] == []


def test_the_page_says_what_the_query_was_expanded_with(app_factory, forms_index):
    live, _records = forms_index
    page = app_factory(live.index_dir).test_client().get("/?q=Menkeu").get_data(as_text=True)
    assert "Menkeu = <b>Menteri Keuangan</b>" in page


def test_short_capital_abbreviations_must_be_typed_in_capitals():
    table = Synonyms()
    table.add(["MA", "Mahkamah Agung"])
    assert table.others(form_key("MA"), "MA") == ["Mahkamah Agung"]
    assert table.others(form_key("ma"), "ma") is None
    assert table.others(form_key("mahkamah agung"), "mahkamah agung") == ["MA"]


def test_forms_linked_through_a_shared_form_are_one_group():
    table = Synonyms()
    table.add(["Menkumham", "Menteri Hukum dan HAM"])
    table.add(["Menkumham", "Menteri Hukum dan Hak Asasi Manusia"])
    assert set(table.others(form_key("Menkumham"), "Menkumham")) == {
        "Menteri Hukum dan HAM", "Menteri Hukum dan Hak Asasi Manusia"}


def test_the_packaged_table_is_reviewed_and_kept_apart_from_actors():
    table = Synonyms.load()
    assert len(table) >= 300
    text = resources.files("searchapp.data").joinpath("abbreviations.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert all(len(row) == 2 for row in rows)
    gazetteer = default_gazetteer()
    # an actor named both ways is the gazetteer's job: never both forms in here
    assert not [r for r in rows if gazetteer.resolve(r[0]) and gazetteer.resolve(r[0]) == gazetteer.resolve(r[1])]


def test_users_extend_the_table_at_rebuild(tmp_path, clickid_slice):
    extra = tmp_path / "mine.tsv"
    extra.write_text("# ours\nbanjir rob\tbanjir pasang\n", "utf-8")
    rebuild([clickid_slice], tmp_path / "index", synonym_files=[extra], procs=1)
    extra.unlink()  # the build keeps its own copy
    live = engine_at(tmp_path / "index")
    try:
        assert search(live, "banjir rob")["searched_as"]["synonyms"] == [
            {"typed": "banjir rob", "forms": ["banjir pasang"]}]
    finally:
        live.close()


@pytest.mark.parametrize("content", ["Menkeu\n", "Menkeu\t...\n"])
def test_a_bad_synonym_file_fails_the_rebuild_with_its_line(tmp_path, clickid_slice, runner, content):
    from searchapp.cli import main

    bad = tmp_path / "bad.tsv"
    bad.write_text(content, "utf-8")
    with pytest.raises(SynonymError, match="line 1"):
        Synonyms.load([bad])
    result = runner.invoke(main, ["rebuild", "--corpus", str(clickid_slice), *cli_index(tmp_path / "ix"),
                                  "--synonyms", str(bad)])
    assert result.exit_code != 0 and "line 1" in result.output
    assert not engine_at(tmp_path / "ix").exists()
