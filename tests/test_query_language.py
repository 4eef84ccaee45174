"""Queries as readers type them, tested on real article text.

Every shape here comes from the 2019 corpus: the articles that use a form are
indexed together with articles that use its parts apart (the distractors the
old query language ranked first), and the query is the form as written.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.text import analysis
from searchapp.search import querylang
from searchapp.errors import QueryError
from searchapp.search import search
from searchapp.search.request import Request
from searchapp.search.service import select

from tests.conftest import SEEDS, engine_at, indexed, matching_ids, rebuild, write_jsonl

PER_FORM = 4

pytestmark = pytest.mark.engines


def uses(form: str):
    """A regex: the written form as a whole word, either apostrophe, any case;
    a hyphen may be a space, and so may the join of a currency and its amount
    ("Al Qaeda" is al-Qaeda, "Rp 1,5" is Rp1,5: the parts meet by design)."""
    body = re.escape(form).replace("'", "['’]").replace(r"\-", r"[-\s]").replace("Rp", r"Rp\s?")
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


def text_of(record: dict) -> str:
    return f"{record.get('title') or ''}\n{record.get('body') or ''}"


# (query as typed, the form an article must use to be a right answer,
#  distractors: regexes of articles that the old query language matched or
#  ranked first although they do not use the form)
SHAPES = [
    ("PDI-P", "PDI-P", [r"\bPDI\b(?!-P)"]),
    ("al-Qaeda", "al-Qaeda", [r"\bal\b", r"\bQaeda\b"]),
    ("e-KTP", "e-KTP", [r"\bFormula E\b", r"\bKTP\b"]),
    ("Timnas U-22", "U-22", [r"\bU-16\b", r"\bU-23\b", r"\bU-19\b"]),
    ("anti-korupsi", "anti-korupsi", [r"\banti-aging\b", r"\bkorupsi\b"]),
    ("Jokowi-Ma'ruf", "Jokowi-Ma'ruf", [r"\bJokowi\b"]),
    ("Rp1,5 triliun", "Rp1,5 triliun", [r"\bRp1,5\b", r"\btriliun\b"]),
    ("Rp 1,5 triliun", "Rp1,5 triliun", [r"\bRp 1,5\b"]),
    ("14.00", "14.00", [r"\b14\b"]),
    ("5G", "5G", [r"\b4G\b"]),
    ("km/jam", "km/jam", [r"\bkm\b"]),
    ("G20", "G20", [r"\bG7\b"]),
]


@pytest.fixture(scope="module")
def shapes(clickid_records, tmp_path_factory, engine_name):
    """An index of real articles using each form, plus its distractors."""
    chosen: dict[str, dict] = {}
    for _q, form, distractors in SHAPES:
        rx = uses(form)
        users = [r for r in clickid_records if rx.search(text_of(r))]
        chosen.update((r["id"], r) for r in users[:PER_FORM])
        for pattern in distractors:
            drx = re.compile(pattern)
            others = [r for r in clickid_records if drx.search(text_of(r)) and not rx.search(text_of(r))]
            chosen.update((r["id"], r) for r in others[:PER_FORM])
    with indexed(list(chosen.values()), tmp_path_factory.mktemp("shapes")) as live:
        yield live, list(chosen.values())


def all_ids(live, q: str) -> set[str]:
    return matching_ids(live, q)


@pytest.mark.parametrize("q,form,distractors", SHAPES, ids=[s[0] for s in SHAPES])
def test_a_form_as_written_finds_exactly_the_articles_using_it(shapes, q, form, distractors):
    live, records = shapes
    rx = uses(form)
    using = {r["id"] for r in records if rx.search(text_of(r))}
    assert using, f"no article of the corpus uses {form!r}"
    found = all_ids(live, q)
    assert using <= found  # recall: every article that writes it
    top = [h["id"] for h in search(live, q, per_page=len(using), collapse="off")["hits"]]
    assert set(top) <= using  # the articles that write it come first


@pytest.mark.parametrize(
    "q,form",
    [
        ("negara-negara", "negara"),  # a reduplication is its root
        ("Negara-negara", "negara"),
        ("Ma'ruf", "Ma'ruf"),
        ("Ma’ruf", "Ma'ruf"),
        ("maruf", "Ma'ruf"),
    ],
)
def test_one_word_forms(shapes, q, form):
    live, records = shapes
    using = {r["id"] for r in records if uses(form).search(text_of(r))}
    assert using and using <= all_ids(live, q)


@pytest.mark.parametrize(
    "text,words",
    [
        ("PDI-P", ["pdi", "p"]),
        ("e-KTP", ["e", "ktp"]),
        ("U-22", ["u", "22"]),
        ("G20", ["g", "20"]),
        ("G-20", ["g", "20"]),
        ("COVID19", ["covid", "19"]),
        ("Covid-19", ["covid", "19"]),
        ("5G", ["5", "g"]),
        ("Rp1,5", ["rp", "1,5"]),
        ("Rp1.500.000", ["rp", "1500000"]),
        ("14.00", ["14.00"]),
        ("km/jam", ["km", "jam"]),
        ("A.S.", ["as"]),
        ("Shi'ite", ["shiite"]),
        ("Jokowi-Ma’ruf", ["jokowi", "maruf"]),
        ("negara-negara", ["negara-negara"]),
        ("kupu-kupu", ["kupu-kupu"]),
    ],
)
def test_articles_and_queries_split_words_alike(text, words):
    assert [w for w, _s, _e in analysis.iter_words(text)] == words
    node = querylang.parse(text)
    got = [node.word] if isinstance(node, querylang.Term) else list(node.words)
    assert got == [w for w in words if w not in analysis.stop_words()]


@pytest.mark.parametrize(
    "q,shape",
    [
        ("negara-negara", "Term('negara-negara')"),
        ("PDI-P", "Phrase(pdi p)"),
        ("polisi -jakarta", "And(Term('polisi'), Not(Term('jakarta')))"),
        ("polisi (-jakarta)", "And(Term('polisi'), Not(Term('jakarta')))"),
        ("-jakarta", "Not(Term('jakarta'))"),
        ("(Tempo)-Presiden", "And(Term('tempo'), Term('presiden'))"),
        ("Jakarta - Presiden", "And(Term('jakarta'), Term('presiden'))"),
        ("+banjir bandang", "And(Term('banjir'), Term('bandang'))"),
        ("banjir OR gempa", "Or(Term('banjir'), Term('gempa'))"),
        ("a b OR c", "And(Term('a'), Or(Term('b'), Term('c')))"),
        ("NOT banjir", "Not(Term('banjir'))"),
        ('"kebakaran hutan"', "Phrase(kebakaran hutan)"),
        ('kata "polisi siap', "And(Term('kata'), Phrase(polisi siap))"),
        ("title:banjir", "Term('banjir'@title)"),
        ('title:"kebakaran hutan"', "Phrase(kebakaran hutan@title)"),
        ("ekono*", "Prefix('ekono')"),
        ("(banjir", "Term('banjir')"),
        ("banjir) OR", "Term('banjir')"),
        ("OR AND NOT", "None"),
    ],
)
def test_query_syntax(q, shape):
    assert describe(querylang.parse(q)) == shape


def describe(node) -> str:
    if node is None:
        return "None"
    at = lambda n: f"@{n.field}" if n.field else ""  # noqa: E731
    if isinstance(node, querylang.Term):
        return f"Term({node.word!r}{at(node)})"
    if isinstance(node, querylang.Phrase):
        return f"Phrase({' '.join(node.words)}{at(node)})"
    if isinstance(node, querylang.Prefix):
        return f"Prefix({node.text!r}{at(node)})"
    if isinstance(node, querylang.Not):
        return f"Not({describe(node.child)})"
    return f"{type(node).__name__}({', '.join(map(describe, node.children))})"


def test_a_long_compound_of_real_text_is_not_refused(shapes):
    live, _records = shapes
    url = "https://regional.kompas.com/read/2019/09/16/12345671/ini-daftar-sekolah-yang-diliburkan-akibat-kabut-asap-di-riau"
    assert search(live, url)["total"] == 0  # 20+ parts, one phrase: searched, not refused


@pytest.mark.parametrize(
    "q,code",
    [
        ("pe*", "wildcard_too_short"),
        ("*", "wildcard_too_short"),
        ("title:*", "wildcard_too_short"),
        ("outlet:Tempo", "field_not_searchable"),
        ("*:*", "field_not_searchable"),
        ("x" * 300, "query_too_long"),
        ("(" * 8 + "a" + ")" * 8, "query_too_deep"),
    ],
)
def test_costly_or_unsearchable_queries_are_refused_with_a_code(q, code):
    with pytest.raises(QueryError) as info:
        querylang.parse(q, {"outlet", "id"})
    assert info.value.code == code


# --- every span of real text finds its article --------------------------------


@pytest.fixture(scope="module")
def sample(clickid_records, tmp_path_factory, engine_name):
    """The seeds and a seeded sample of the 2019 corpus, indexed together."""
    path = tmp_path_factory.mktemp("spans")
    picked = random.Random(12).sample(clickid_records, 300)
    write_jsonl(path / "sample.jsonl", picked)
    rebuild([SEEDS, path / "sample.jsonl"], path / "index", procs=1)
    live = engine_at(path / "index")
    snap = live.snapshot()
    docs = [(d, snap.article(d)) for d in snap.docs(select(live, Request.make("")).rs)]
    yield live, docs
    live.close()


def _searchable(chunks: list[str]) -> bool:
    """A span a query can be made of: it holds a word the index keeps, and no
    chunk is query syntax by its shape (`-word` excludes, `NOT` negates)."""
    stops = analysis.stop_words()
    if not any(w not in stops for c in chunks for w, _s, _e in analysis.iter_words(c)):
        return False
    return not any(c == "NOT" or (c[:1] in "-(" and c.lstrip("(")[:1] == "-" and len(c.lstrip("(-")) > 0)
                   for c in chunks)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_any_span_of_an_article_finds_it(sample, data):
    live, docs = sample
    docnum, fields = data.draw(st.sampled_from(docs))
    text = data.draw(st.sampled_from([fields.get("title") or "", fields.get("body") or ""]))
    chunks = text.split()
    if not chunks:
        return
    start = data.draw(st.integers(0, len(chunks) - 1))
    span = chunks[start : start + data.draw(st.integers(1, 4))]
    if not _searchable(span):
        return
    q = " ".join(span)
    sel = select(live, Request.make(q))  # never refused: a QueryError fails the test
    assert docnum in set(sel.snapshot.docs(sel.rs)), f"{q!r} does not find {fields['id']}"
