"""Turning what a user typed into a Whoosh query, with limits.

The user's syntax (words, "phrases", -exclusion, OR, prefix*, title:) is parsed
into exact lowercase words first; each word is then searched stemmed and, if
it is a derived form, also as written, so "serangan" finds "menyerang" while an
article that says "serangan" ranks above it. A prefix* matches written forms
and stems. A word naming an actor ("AS", "Moskow") also
matches articles that name the same actor another way ("Amerika Serikat",
"Kremlin"), through the actor facet. Costly or unsafe syntax is refused here,
before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import qparser, query as wq
from whoosh.fields import TEXT, Schema
from whoosh.query.spans import SpanNear2

from . import analysis
from .actors import Gazetteer
from .schema import EXACT, SEARCHABLE

MAX_QUERY_CHARS = 256
MAX_TERMS = 24
MAX_DEPTH = 6
MIN_PREFIX = 3
NAME_SHARE = 0.5  # a word written as a name at least this often is searched as written
ALL = "text"  # the parse-time field of words typed without a field name
_PLACEHOLDER = "zzactor{}zz"
_EVERYTHING = "zzeverythingzz"  # stands in front of a query of exclusions only
_PLACEHOLDER_RE = re.compile(r"zzactor(\d+)zz")
_FIELD_RE = re.compile(r"(?<![\w\"])([A-Za-z_*][\w*]*)\s*:")
_TOKEN_RE = re.compile(r'"[^"]*"?|[^\s"()]+|[()]')
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


class QueryError(ValueError):
    """A query or parameter the user must fix (shown to them as is)."""


@dataclass(frozen=True)
class Weights:
    """Query-time ranking knobs, chosen on the relevance harness (bench/quality.py)."""

    k1: float = 1.2  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    title: float = 2.0  # a word in the title counts this much more than in the body
    exact: float = 0.6  # bonus weight of the word as written, on top of its stem
    alias: float = 2.0  # constant score of an article that names the actor another way
    proximity: float = 2.0  # weight of the query words standing near each other in the body
    window: int = 8  # how near, in words, counts as near
    lead: float = 3.0  # extra weight of a word in the story's opening words
    short: int = 4  # lead and proximity apply to queries of at most this many words


@dataclass
class Parsed:
    """A runnable query and what it was searched as."""

    query: wq.Query
    words: list[dict] = field(default_factory=list)  # [{word, stem}] of positive words
    expansions: list[dict] = field(default_factory=list)  # [{alias, actor}]


@dataclass
class _State:
    reader: object
    weights: Weights
    parsed: Parsed
    actors: dict[str, str]
    names: dict[str, int]
    short: bool = True  # a short query: lead and proximity count
    terms: int = 0


def _parser() -> qparser.QueryParser:
    exact = analysis.ExactAnalyzer()
    schema = Schema(**{name: TEXT(analyzer=exact) for name in (ALL, *SEARCHABLE)})
    parser = qparser.QueryParser(ALL, schema, group=qparser.AndGroup)
    for plugin in (qparser.EveryPlugin, qparser.RangePlugin, qparser.BoostPlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(qparser.PlusMinusPlugin())
    return parser


_PARSER = _parser()


def _check_syntax(text: str, index_fields: set[str]) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters; shorten it")
    depth = deepest = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise QueryError(f"parentheses nest deeper than {MAX_DEPTH} levels; simplify the query")
    outside_quotes = re.sub(r'"[^"]*"', " ", text)
    for m in _FIELD_RE.finditer(outside_quotes):
        name = m.group(1)
        if name not in SEARCHABLE and (name in index_fields or "*" in name):
            raise QueryError("only the fields title: and body: can be named in a query; use the filters for the rest")


def _expand_aliases(text: str, gazetteer: Gazetteer, state: _State) -> str:
    """Wrap actor aliases typed outside quotes as (alias OR placeholder)."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]
    plain = [
        not tok.startswith('"') and tok not in "()" and tok not in _OPERATORS and ":" not in tok and "*" not in tok
        for _s, _e, tok in tokens
    ]
    out, pos, i = [], 0, 0
    while i < len(tokens):
        found = None
        for n in range(min(4, len(tokens) - i), 0, -1):
            if not all(plain[i : i + n]):
                continue
            start, end = tokens[i][0], tokens[i + n - 1][1]
            phrase = text[start:end]
            sign = phrase[0] if phrase[0] in "+-" else ""
            actor = gazetteer.resolve(phrase[len(sign):])
            if actor:
                found = (n, start + len(sign), end, actor)
                break
        if not found:
            i += 1
            continue
        n, start, end, actor = found
        key = str(len(state.actors))
        state.actors[key] = actor
        state.parsed.expansions.append({"alias": text[start:end], "actor": actor})
        out += [text[pos:start], f"(({text[start:end]}) OR {_PLACEHOLDER.format(key)})"]
        pos = end
        i += n
    out.append(text[pos:])
    return "".join(out)


def _is_name(word: str, stem: str, state: _State) -> bool:
    """Whether the corpus mostly writes this word as a name ("Bekasi").

    Such a word is searched as written, so "Bekasi" does not find "bekas".
    """
    if stem == word:
        return False
    named = state.names.get(word, 0)
    return named > 0 and named >= NAME_SHARE * state.reader.frequency("body_exact", word)


def _fields(fieldname: str) -> tuple[str, ...]:
    return SEARCHABLE if fieldname == ALL else (fieldname,)


def _boost(name: str, weights: Weights) -> float:
    return weights.title if name == "title" else 1.0


def _count(state: _State, n: int = 1) -> None:
    state.terms += n
    if state.terms > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} words; use fewer")


def _term(node: wq.Term, state: _State, negated: bool) -> wq.Query:
    if node.text == _EVERYTHING:
        return wq.Every()
    m = _PLACEHOLDER_RE.fullmatch(node.text)
    if m:
        return wq.ConstantScoreQuery(wq.Term("actor", state.actors[m.group(1)]), state.weights.alias)
    _count(state)
    word = node.text
    stem = analysis.stem_word(word)
    if _is_name(word, stem, state):
        stem = None
    if not negated:
        state.parsed.words.append({"word": word, "stem": stem or word})
    parts = []
    for name in _fields(node.fieldname):
        boost = _boost(name, state.weights)
        if stem is None:
            parts.append(wq.Term(EXACT[name], word, boost=boost))
            continue
        parts.append(wq.Term(name, stem, boost=boost))
        if stem != word:
            parts.append(wq.Term(EXACT[name], word, boost=boost * state.weights.exact))
        if name == "body" and state.weights.lead and state.short:
            parts.append(wq.Term("lead", stem, boost=state.weights.lead))
    return wq.Or(parts)


def _phrase(node: wq.Phrase, state: _State, negated: bool) -> wq.Query:
    words = list(node.words)
    _count(state, len(words))
    stems = [analysis.stem_word(w) for w in words]
    if not negated:
        state.parsed.words += [{"word": w, "stem": s} for w, s in zip(words, stems)]
    return wq.Or([wq.Phrase(name, stems, slop=node.slop, boost=_boost(name, state.weights))
                  for name in _fields(node.fieldname)])


def _multiterm(node: wq.PatternQuery, state: _State, negated: bool) -> wq.Query:
    text = node.text
    literal = re.split(r"[*?]", text, maxsplit=1)[0]
    if len(literal) < MIN_PREFIX:
        raise QueryError(
            f"a wildcard needs at least {MIN_PREFIX} letters before * or ? (got {text!r})"
        )
    _count(state)
    if not negated:
        state.parsed.words.append({"word": text, "stem": None})
    kind = wq.Prefix if isinstance(node, wq.Prefix) else wq.Wildcard
    return wq.Or([kind(f, text, boost=_boost(name, state.weights))
                  for name in _fields(node.fieldname) for f in (name, EXACT[name])])


def _transform(node: wq.Query, state: _State, negated: bool = False, depth: int = 0) -> wq.Query:
    if depth > 4 * MAX_DEPTH:
        raise QueryError("the query is nested too deeply; simplify it")
    if isinstance(node, wq.Term):
        return _term(node, state, negated)
    if isinstance(node, wq.Phrase):
        return _phrase(node, state, negated)
    if isinstance(node, (wq.Prefix, wq.Wildcard)):
        return _multiterm(node, state, negated)
    if isinstance(node, wq.Every):  # a bare "*"
        raise QueryError(f"a wildcard needs at least {MIN_PREFIX} letters before * or ?")
    if isinstance(node, wq.Not):
        return wq.Not(_transform(node.query, state, True, depth + 1))
    if isinstance(node, (wq.AndNot, wq.AndMaybe)):
        first = _transform(node.a, state, negated, depth + 1)
        second = _transform(node.b, state, negated or isinstance(node, wq.AndNot), depth + 1)
        return type(node)(first, second)
    if isinstance(node, wq.CompoundQuery):
        return type(node)([_transform(c, state, negated, depth + 1) for c in node.subqueries])
    if node is wq.NullQuery or isinstance(node, type(wq.NullQuery)):
        return node
    raise QueryError(f"this kind of query is not supported: {node}")


def parse(text: str, reader, gazetteer: Gazetteer, weights: Weights = Weights(),
          names: dict[str, int] | None = None) -> Parsed:
    """The query for what the user typed; an empty text matches everything.

    `names` counts how often words were written as names in the corpus
    (indexer.load_names), so those are searched as written.
    """
    parsed = Parsed(query=wq.Every())
    if not text.strip():
        return parsed
    _check_syntax(text, set(reader.schema.names()))
    state = _State(reader=reader, weights=weights, parsed=parsed, actors={}, names=names or {})
    state.short = len([t for t in _TOKEN_RE.findall(text) if t not in "()" and t not in _OPERATORS]) <= weights.short
    expanded = _expand_aliases(text, gazetteer, state)
    words = [t for t in _TOKEN_RE.findall(text) if t not in "()" and t not in _OPERATORS]
    if words and all(t.startswith("-") for t in words):
        expanded = f"{_EVERYTHING} {expanded}"
    try:
        raw = _PARSER.parse(expanded)
    except RecursionError:
        raise QueryError("the query is nested too deeply; simplify it") from None
    except Exception as exc:  # Whoosh raises assorted errors on odd syntax
        raise QueryError(f"cannot understand the query {text!r}: {exc}") from None
    query = _transform(raw, state)
    stems = list(dict.fromkeys(w["stem"] for w in parsed.words if w["stem"] and "*" not in w["word"]))
    if weights.proximity and state.short and len(stems) >= 2:
        near = SpanNear2([wq.Term("body", s, boost=weights.proximity) for s in stems],
                         slop=weights.window, ordered=False)
        query = wq.AndMaybe(query, near)
    parsed.query = query
    return parsed
