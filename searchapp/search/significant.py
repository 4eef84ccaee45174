"""Significant words of a result set ("Kata khas"): the words its articles use
far more often than the corpus does.

As Elasticsearch's `significant_text` does, the text of a sample of the result
set is read (the SAMPLE best-ranked articles for a query, the newest for
browsing: reading every article of a large set would cost seconds), analysed
into the stems the build indexed, and each stem's share of the sampled
articles having it (fg) is set against its share of the corpus (bg, from the
engine's document frequencies) with JLH, `significant_terms`' default score.
Both sides count the body only: the engine counts articles per field, and an
article count of title or body would cost a search per word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import chain

from searchapp.engine.base import Doc, Engine, Snapshot
from searchapp.errors import QueryError
from searchapp.search.highlight import wanted
from searchapp.search.request import Request
from searchapp.search.service import Selected, select
from searchapp.text.analysis import WORD_RE, Stemmer, stop_words

# Articles read (Elastic runs significant_text under a sampler of the top 100–200 matches). On the 2019 corpus,
# over 30 everyday queries, 200 cost ~135 ms a new query and 150 ~100 ms; 120 costs ~85 ms and keeps 11 of the
# top 15 words of 200 (median).
SAMPLE = 120
SIZE = 20
MAX_SIZE = 50
MIN_COUNT = 3  # significant_terms' default min_doc_count: a word of one or two articles says nothing of the set
MIN_LETTERS = 3  # shorter stems are mostly initials and particles
FIELD = "body"
APOSTROPHES = str.maketrans("", "", "'’")  # dropped from words, as the analysis does
LETTERS = re.compile(r"[^\W\d_]+")
SIZE_LABEL = "jumlah kata"  # `size` in Indonesian messages (the co-occurrence view's is a number of actors)


def jlh(fg: float, bg: float) -> float:
    """Elasticsearch's JLH: the absolute times the relative rise of a word's
    share; 0 for words no commoner in the set than in the corpus."""
    return (fg - bg) * (fg / bg) if fg > bg > 0 else 0.0


def check_size(value: int | str) -> int:
    """`size` as a number of words, 1 to MAX_SIZE (QueryError otherwise)."""
    raw = str(value).strip()
    if not raw.isdigit():
        raise QueryError("bad_number", name="size", label=SIZE_LABEL, value=value)
    if not 1 <= int(raw) <= MAX_SIZE:
        raise QueryError("out_of_range", name="size", label=SIZE_LABEL, low=1, high=MAX_SIZE, value=int(raw))
    return int(raw)


def shown(stem: str, stops: frozenset[str]) -> bool:
    """Whether a stem may be a significant word: a word of MIN_LETTERS or more
    letters (hyphens allowed: "undang-undang"), not a number, not a stop word."""
    return len(stem) >= MIN_LETTERS and stem.replace("-", "").isalpha() and stem not in stops


def written(stem: str, forms: list[str], stem_uses: Counter[str], form_uses: Counter[str]) -> str:
    """The stem's most used written form in the sample. The build's forms
    table lists the forms that differ from the stem (most used in the corpus
    first, which settles ties); the stem written as itself ("presiden", not
    "kepresidenan") is every use of the stem that none of them accounts for."""
    uses = {form: form_uses[form] for form in forms}
    best = max(uses, key=uses.__getitem__, default=stem)
    return best if uses.get(best, 0) > stem_uses[stem] - sum(uses.values()) else stem


def corpus_count(snap: Snapshot, stem: str) -> int:
    """Articles of the build whose body has the stem, remembered per snapshot
    (the same common words come back in every result set)."""
    counts: dict[str, int] = snap.once("significant_counts", dict)
    count = counts.get(stem)
    if count is None:
        count = counts[stem] = snap.doc_frequency(FIELD, stem)
    return count


def query_terms(sel: Selected) -> set[str]:
    """The stems the query searched for: its words, abbreviation and spelling
    expansions, and every alias of an actor it named ("AS" searches Amerika
    Serikat, so "amerika" and "washington" would only repeat the query)."""
    tables = sel.snapshot.tables
    terms = set(wanted(sel.parsed.query, sel.snapshot).terms) | {w["stem"] for w in sel.parsed.words if w["stem"]}
    for expansion in sel.parsed.expansions:
        actor = tables.gazetteer.actor(expansion["actor"])
        terms.update(tables.stemmer.terms(" ".join(actor.aliases)) if actor else ())
    return terms


def sample(sel: Selected, browse: bool) -> list[Doc]:
    """The articles read: the best-ranked for a query, the newest when browsing."""
    if browse:
        return sel.snapshot.by_date(sel.listed, newest=True, limit=SAMPLE)
    return [doc for doc, _score in sel.ranked(SAMPLE)]


def recorded_stemmer(snap: Snapshot) -> Stemmer:
    """A stemmer that knows the build's stemming of every written word without
    asking Sastrawi (~0.02–0.1 ms a new word: a second or more for the first samples read
    while the build's own stemmer is cold). The forms table records every
    written word whose stem differs from it; any other written word is its own
    stem (the same stems as the build's stemmer on all 21,940 articles of the
    2019 corpus). Kept apart from the build's stemmer, which also stems queries:
    its guesses are only right for words the corpus writes."""
    def make() -> Stemmer:
        stemmer = Stemmer(snap.tables.gazetteer.protected_words())
        stemmer.load(snap.tables.written_stems())
        return stemmer
    return snap.once("significant_stemmer", make)


Terms = dict[str, tuple[str, ...]]


def stemmed_words(token: str) -> set[str]:
    """The words the analysis may stem in a raw word (a superset): it whole,
    without dots ("A.S."), and its runs of letters (the parts of "al-Qaeda")."""
    lower = token.lower().translate(APOSTROPHES)
    return {lower, lower.replace(".", ""), *LETTERS.findall(lower)}


def analysed(snap: Snapshot, words: Iterable[str]) -> tuple[Terms, Terms]:
    """The stems and the forms as written of raw words of the build's text,
    as `Stemmer.index_terms` gives them, remembered per snapshot. A text's
    terms are its words' terms in order, so an article costs one tokenizing
    pass and a look-up per distinct word; the memo holds at most the corpus's
    distinct words (130,000 in the 2019 corpus)."""
    stems_of, forms_of = snap.once("significant_words", lambda: ({}, {}))
    new = [word for word in words if word not in stems_of]
    if new:
        stemmer = recorded_stemmer(snap)
        stemmer.load({word: word for token in new for word in stemmed_words(token)})  # recorded forms keep their stem
        for word in new:
            stems, forms = stemmer.index_terms(word)
            forms_of[word] = tuple(forms)
            stems_of[word] = tuple(stems)  # last: another thread reads a word of stems_of as complete
    return stems_of, forms_of


def uses(words: Counter[str], stems_of: Terms, forms_of: Terms,
         shown_stems: set[str]) -> tuple[Counter[str], Counter[str]]:
    """How often the sample writes each shown stem and each form (only the
    shown words need a written form)."""
    stem_uses: Counter[str] = Counter()
    form_uses: Counter[str] = Counter()
    for word, n in words.items():
        stems = stems_of[word]
        if not shown_stems.isdisjoint(stems):
            for stem in stems:
                stem_uses[stem] += n
            for form in forms_of[word]:
                form_uses[form] += n
    return stem_uses, form_uses


def significant(engine: Engine, *, size: int | str = SIZE, **filters) -> dict:
    """The `size` words that most set the result set apart from the corpus:
    {total, sampled, words: [{word, stem, count, corpus_count, score}]}, where
    `total` is what the search lists (stories when collapsed: copies are read
    once), `count` is sampled articles having the word, `corpus_count` articles
    of the build. Stop words, numbers, short words and the query's own words (with
    its expansions) are left out; a word needs MIN_COUNT sampled articles."""
    size = check_size(size)
    request = Request.make(**filters)
    sel = select(engine, request)
    snap = sel.snapshot
    docs = sample(sel, request.browse)
    texts = [WORD_RE.findall(snap.article(doc)[FIELD]) for doc in docs]
    distinct = [set(words) for words in texts]
    stems_of, forms_of = analysed(snap, set().union(*distinct))
    having = Counter(chain.from_iterable(set(chain.from_iterable(map(stems_of.__getitem__, words)))
                                         for words in distinct))
    own = query_terms(sel)
    stops = stop_words()
    documents = snap.documents
    rows = []
    for stem, count in having.items():
        if count >= MIN_COUNT and stem not in own and shown(stem, stops):
            in_corpus = corpus_count(snap, stem)
            score = jlh(count / len(docs), in_corpus / documents)
            if score > 0:
                rows.append((score, stem, count, in_corpus))
    rows = sorted(rows, key=lambda row: (-row[0], row[1]))[:size]
    stem_uses, form_uses = uses(Counter(chain.from_iterable(texts)), stems_of, forms_of, {row[1] for row in rows})
    words = [{"word": written(stem, snap.tables.forms(stem, None), stem_uses, form_uses), "stem": stem,
              "count": count, "corpus_count": in_corpus, "score": round(score, 6)}
             for score, stem, count, in_corpus in rows]
    return {"total": sel.listed.total, "sampled": len(docs), "words": words}
