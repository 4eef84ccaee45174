"""Turning a parsed query (querylang) into the engine's query plan, with expansions.

Each word is searched stemmed and, if it is a derived form, also as written,
so "serangan" finds "menyerang" while an article that says "serangan" ranks
above it; a compound is the phrase of its parts. Three expansions widen what
was typed, each shown to the reader under "Dicari sebagai":
- a run of words naming an actor ("AS", "Moskow") also matches articles that
  name the same actor another way ("Amerika Serikat", "Kremlin"), through the
  actor facet;
- an abbreviation or its full form (synonyms.py: "Menkeu" / "Menteri
  Keuangan") also finds the other form, which scores less than the typed one;
- a capitalised name in an old or new spelling ("Soeharto" / "Suharto",
  "Djakarta" / "Jakarta") also finds the other spellings the corpus writes as
  names.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from searchapp.text import analysis
from searchapp.search import querylang
from searchapp.facets.actors import Gazetteer
from searchapp.errors import QueryError
from searchapp.search.querylang import And, Not, Or, Phrase, Prefix, Term
from searchapp.engine import plan
from searchapp.engine.plan import Weights
from searchapp.engine.base import TermStats
from searchapp.engine.tables import BuildTables
from searchapp.engine.document import EXACT, SEARCHABLE
from searchapp.text.synonyms import Synonyms, form_key

MAX_TERMS = 24
NAME_SHARE = 0.5  # a word written as a name at least this often is searched as written
MAX_SPELLINGS = 32  # spelling variants tried per name
ALIAS_WORDS = 4  # words of the longest actor alias looked for in a query
# Old (pre-1972 and Dutch-era) and current spellings of Indonesian names.
SPELLINGS = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("ch", "kh"))
_SPELLING_RE = re.compile("|".join(sorted({a for pair in SPELLINGS for a in pair}, key=len, reverse=True)))
_SPELLING_SWAP = {a: b for pair in SPELLINGS for a, b in (pair, pair[::-1])}


@dataclass
class Parsed:
    """A runnable query and what it was searched as."""

    query: plan.Node
    words: list[dict] = field(default_factory=list)  # [{word, stem}] of positive words
    expansions: list[dict] = field(default_factory=list)  # [{alias, actor}]
    synonyms: list[dict] = field(default_factory=list)  # [{typed, forms[]}]
    spellings: list[dict] = field(default_factory=list)  # [{typed, variants[]}]


@dataclass
class _State:
    index: TermStats
    weights: Weights
    parsed: Parsed
    gazetteer: Gazetteer
    synonyms: Synonyms | None
    names: dict[str, int]
    stemmer: analysis.Stemmer
    text: str = ""  # the query as typed
    short: bool = True  # a short query: lead and proximity count
    terms: int = 0


def _fields(fieldname: str | None) -> tuple[str, ...]:
    return SEARCHABLE if fieldname is None else (fieldname,)


def _boost(name: str, weights: Weights) -> float:
    return weights.title if name == "title" else 1.0


def _count(state: _State, n: int = 1) -> None:
    state.terms += n
    if state.terms > MAX_TERMS:
        raise QueryError("too_many_words", limit=MAX_TERMS)


def _is_name(word: str, stem: str, state: _State) -> bool:
    """Whether the corpus mostly writes this word as a name ("Bekasi").

    Such a word is searched as written, so "Bekasi" does not find "bekas".
    """
    if stem == word:
        return False
    named = state.names.get(word, 0)
    return named > 0 and named >= NAME_SHARE * state.index.frequency("body_exact", word)


def _spellings(word: str, written: str, state: _State) -> list[str]:
    """Other spellings of a capitalised name that the corpus writes as names."""
    if not written[:1].isupper() or not _SPELLING_RE.search(word):
        return []
    pieces = _SPELLING_RE.split(word)
    found = _SPELLING_RE.findall(word)
    protected = state.gazetteer.protected_words()
    variants = []
    choices = [(f, _SPELLING_SWAP[f]) for f in found]
    for combo in itertools.islice(itertools.product(*choices), MAX_SPELLINGS):
        variant = pieces[0] + "".join(c + p for c, p in zip(combo, pieces[1:]))
        if variant != word and (state.names.get(variant, 0) > 0 or variant in protected) and (
            state.index.frequency("body_exact", variant) or state.index.frequency("body", variant)
        ):
            variants.append(variant)
    return variants


def _word(word: str, fieldname: str | None, state: _State, negated: bool, boost: float = 1.0,
          track: bool = True, lead: bool = True) -> plan.Node:
    """One word: its stem, its written form if derived, its lead term."""
    _count(state)
    stem = state.stemmer.stem(word)
    if _is_name(word, stem, state):
        stem = None
    if track and not negated:
        state.parsed.words.append({"word": word, "stem": stem or word})
    parts = []
    for name in _fields(fieldname):
        weight = _boost(name, state.weights) * boost
        if stem is None:
            parts.append(plan.Term(EXACT[name], word, boost=weight))
            continue
        parts.append(plan.Term(name, stem, boost=weight))
        if stem != word:
            exact = state.weights.compound if "-" in word else state.weights.exact
            parts.append(plan.Term(EXACT[name], word, boost=weight * exact))
        if name == "body" and lead and state.weights.lead and state.short:
            parts.append(plan.Term("lead", stem, boost=state.weights.lead * boost))
    return plan.Or(tuple(parts))


def _whole(query: plan.Node, node, state: _State) -> plan.Node:
    """The query of a word or phrase plus a bonus where its compound is
    written whole: the bonus never widens what matches (the compound's
    parts are the query), it ranks "Jakarta-Bekasi" above "Jakarta, Bekasi"."""
    if not node.compounds:
        return query
    bonus = [plan.Term(EXACT[name], c, boost=_boost(name, state.weights) * state.weights.compound)
             for c in node.compounds for name in _fields(node.field)]
    return plan.AndMaybe(query, plan.Or(tuple(bonus)))


def _term(node: Term, state: _State, negated: bool) -> plan.Node:
    query = _whole(_word(node.word, node.field, state, negated), node, state)
    variants = _spellings(node.word, node.written, state)
    if not variants:
        return query
    if not negated:
        state.parsed.spellings.append({"typed": node.written, "variants": [v[:1].upper() + v[1:] for v in variants]})
    return plan.Or((query, *(_word(v, node.field, state, negated, track=False) for v in variants)))


def _phrase(words: tuple[str, ...], fieldname: str | None, state: _State, negated: bool, boost: float = 1.0,
            track: bool = True) -> plan.Node:
    _count(state)  # a phrase is one unit: a pasted URL or compound is never refused for its parts
    stems = [state.stemmer.stem(w) for w in words]
    if track and not negated:
        state.parsed.words += [{"word": w, "stem": s} for w, s in zip(words, stems)]
    return plan.Or(tuple(plan.Phrase(name, tuple(stems), slop=1, boost=_boost(name, state.weights) * boost)
                         for name in _fields(fieldname)))


def _prefix(node: Prefix, state: _State, negated: bool) -> plan.Node:
    _count(state)
    if not negated:
        state.parsed.words.append({"word": node.text + "*", "stem": None})
    return plan.Or(tuple(plan.Prefix(f, node.text, boost=_boost(name, state.weights))
                         for name in _fields(node.field) for f in (name, EXACT[name])))


def _form(key: tuple[str, ...], state: _State, boost: float, track: bool = False,
          negated: bool = False) -> plan.Node:
    """A form of an abbreviation: its words, as a phrase if several. The other
    forms' weight is shared among their words and gets no lead bonus, so a
    long full form or an opening mention does not outscore the form typed."""
    if len(key) == 1:
        return _word(key[0], None, state, negated, boost=boost, track=track, lead=track)
    return _phrase(key, None, state, negated, boost=boost, track=track)


def _plain(node) -> bool:
    """A word or compound typed without quotes or a field: expansions apply."""
    return isinstance(node, (Term, Phrase)) and node.raw and node.field is None


def _typed(run: list, state: _State) -> list[str]:
    """What a run of words may be looked up as: as typed, and as its words."""
    raw = " ".join(state.text[run[0].at[0] : run[-1].at[1]].split())
    written = " ".join(n.written if isinstance(n, Term) else " ".join(n.written) for n in run)
    return list(dict.fromkeys([raw, written]))


def _words_of(run: list) -> tuple[str, ...]:
    return tuple(w for n in run for w in ((n.word,) if isinstance(n, Term) else n.words))


def _expanded(run: list, state: _State, negated: bool) -> plan.Node | None:
    """A run of plain words that names an actor or is a known form, expanded."""
    for text in _typed(run, state):
        actor = state.gazetteer.resolve(text)
        if actor:
            if not negated:
                state.parsed.expansions.append({"alias": text, "actor": actor})
            inner = _sequence(run, state, negated, expand=False)
            return plan.Or((inner, plan.Constant(plan.Term("actor", actor), state.weights.alias)))
    if state.synonyms is None:
        return None
    key = _words_of(run)
    for text in _typed(run, state):
        others = state.synonyms.others(key, text)
        if others:
            if not negated:
                state.parsed.synonyms.append({"typed": text, "forms": others})
            # the typed form is a fixed expression: its words together, in order
            typed = _form(key, state, 1.0, track=True, negated=negated)
            alternatives = [_form(k, state, state.weights.synonym / len(k))
                            for k in dict.fromkeys(map(form_key, others)) if k]
            return plan.Or((typed, *alternatives))
    return None


def _sequence(nodes: list, state: _State, negated: bool, expand: bool = True) -> plan.Node:
    """ANDed nodes; runs of plain words are looked up as actors and forms,
    longest first."""
    longest = max(ALIAS_WORDS, state.synonyms.longest if state.synonyms is not None else 0)
    out, i = [], 0
    while i < len(nodes):
        done = False
        if expand and _plain(nodes[i]):
            end = i
            while end < len(nodes) and end - i < longest and _plain(nodes[end]):
                end += 1
            for n in range(end - i, 0, -1):
                found = _expanded(nodes[i : i + n], state, negated)
                if found is not None:
                    out.append(found)
                    i += n
                    done = True
                    break
        if not done:
            out.append(_transform(nodes[i], state, negated, expand=False))
            i += 1
    return out[0] if len(out) == 1 else plan.And(tuple(out))


def _transform(node, state: _State, negated: bool = False, expand: bool = True) -> plan.Node:
    if expand and _plain(node):
        return _sequence([node], state, negated)
    if isinstance(node, Term):
        return _term(node, state, negated)
    if isinstance(node, Phrase):
        return _whole(_phrase(node.words, node.field, state, negated), node, state)
    if isinstance(node, Prefix):
        return _prefix(node, state, negated)
    if isinstance(node, Not):
        return plan.Not(_transform(node.child, state, True))
    if isinstance(node, And):
        return _sequence(list(node.children), state, negated)
    if isinstance(node, Or):
        return plan.Or(tuple(_transform(c, state, negated) for c in node.children))
    raise TypeError(f"not a query node: {node!r}")


def parse(text: str, terms: TermStats, tables: BuildTables, weights: Weights = Weights()) -> Parsed:
    """The plan for what the user typed; an empty text matches everything.

    `terms` answers how often a word is indexed (a name written as a name
    is searched as written; a spelling variant must exist); `tables` are the
    build's gazetteer, abbreviations, names and stemmer.
    """
    parsed = Parsed(query=plan.Every())
    if not text.strip():
        return parsed
    tree = querylang.parse(text, set(terms.fields))
    if tree is None:
        parsed.query = plan.Nothing()
        return parsed
    state = _State(index=terms, weights=weights, parsed=parsed, gazetteer=tables.gazetteer,
                   synonyms=tables.synonyms, names=tables.names, stemmer=tables.stemmer, text=text)
    positive = sum(len(n.words) if isinstance(n, Phrase) else 1
                   for n in querylang.walk(tree) if isinstance(n, (Term, Phrase, Prefix)))
    state.short = positive <= weights.short
    query = _transform(tree, state)
    stems = list(dict.fromkeys(w["stem"] for w in parsed.words if w["stem"] and "*" not in w["word"]))
    if weights.proximity and state.short and len(stems) >= 2:
        near = plan.Near(tuple(plan.Term("body", s, boost=weights.proximity) for s in stems), slop=weights.window)
        query = plan.AndMaybe(query, near)
    parsed.query = query
    return parsed
