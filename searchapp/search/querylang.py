"""The query language, parsed once into an engine-neutral tree.

What a reader types is read the way web search engines read it: words are
ANDed, `OR` joins alternatives, `"..."` is a phrase, `-` excludes and `+`
requires *only at the start of a word* (after a space, an opening parenthesis
or the start), `prefix*` expands, `title:`/`body:` name a field, parentheses
group. Inside a word every character is text: each word is split and
normalised by the same analysis that reads the articles
(`analysis.iter_words`), so `negara-negara` is the one word the indexer saw,
and a compound it splits (`PDI-P`, `e-KTP`, `Covid-19`, `Rp1,5`) is the phrase
of its parts. Nothing a reader copies out of an article is refused: stray
parentheses, quotes, operators and punctuation are tolerated. Only what is
costly (too long, too deep, too many words, a short prefix) or names a field
that cannot be searched is refused, with a `QueryError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from searchapp.text import analysis
from searchapp.errors import QueryError

MAX_QUERY_CHARS = 256
MAX_DEPTH = 6
MIN_PREFIX = 3
FIELDS = ("title", "body")
OPERATORS = ("AND", "OR", "NOT")
_FIELD_RE = re.compile(r"([A-Za-z_*][\w*]*):(.*)", re.S)


@dataclass(frozen=True)
class Term:
    """One word as the indexer normalises it (`written`: as typed)."""

    word: str
    written: str
    field: str | None = None
    raw: str = ""  # the typed chunk it came from ("" when quoted)
    at: tuple[int, int] = (0, 0)  # where that chunk stands in the query
    compounds: tuple[str, ...] = ()  # compounds written whole ("ke-33"; see analysis.compound)


@dataclass(frozen=True)
class Phrase:
    """Words that must stand next to each other in this order."""

    words: tuple[str, ...]
    written: tuple[str, ...]
    field: str | None = None
    raw: str = ""  # the typed chunk of a compound ("" when quoted)
    at: tuple[int, int] = (0, 0)  # where that chunk stands in the query
    compounds: tuple[str, ...] = ()  # compounds written whole ("e-ktp"; see analysis.compound)


@dataclass(frozen=True)
class Prefix:
    """Every word starting with `text`."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | Prefix | And | Or | Not


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "OR", "AND", "NOT", "-", "+", "field", "word", "phrase"
    text: str = ""
    start: int = 0


def _check_size(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError("query_too_long", limit=MAX_QUERY_CHARS)
    depth = deepest = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise QueryError("query_too_deep", limit=MAX_DEPTH)


def _tokens(text: str, index_fields: set[str]) -> Iterator[_Token]:
    """The query's tokens. A sign is an operator only where a word starts."""
    i, n = 0, len(text)
    at_start = True  # at the start, after a space or an opening parenthesis
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            at_start = True
            continue
        if ch in "()":
            yield _Token(ch)
            i += 1
            at_start = ch == "("
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            yield _Token("phrase", text[i + 1 : end])
            i = end + 1
            at_start = False
            continue
        if ch in "+-" and at_start and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "+-)":
            yield _Token(ch)
            i += 1
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] not in '()"':
            end += 1
        chunk = text[i:end]
        i, at_start = end, False
        if chunk in OPERATORS:
            yield _Token(chunk)
            continue
        m = _FIELD_RE.fullmatch(chunk)
        if m and m.group(1) in FIELDS:
            yield _Token("field", m.group(1))
            if m.group(2):
                yield _Token("word", m.group(2), end - len(m.group(2)))
            continue
        if m and (m.group(1) in index_fields or "*" in m.group(1)):
            raise QueryError("field_not_searchable", name=m.group(1))
        yield _Token("word", chunk, end - len(chunk))


def _words(text: str) -> list[tuple[str, str]]:
    """(normalised word, as written) of a text, stop words dropped."""
    stops = analysis.stop_words()
    return [(w, text[s:e]) for w, s, e in analysis.iter_words(text) if w not in stops]


def _text_node(words: list[tuple[str, str]], field: str | None, raw: str, start: int = 0,
               text: str | None = None) -> Node | None:
    if not words:
        return None
    at = (start, start + len(raw))
    whole = tuple(analysis.compounds(raw if text is None else text))
    if len(words) == 1:
        return Term(words[0][0], words[0][1], field, raw, at, whole)
    return Phrase(tuple(w for w, _ in words), tuple(t for _, t in words), field, raw, at, whole)


def _word_node(chunk: str, field: str | None, start: int) -> Node | None:
    """A typed chunk: a word, a compound (a phrase of its parts) or a prefix."""
    if chunk.endswith("*"):
        literal = chunk.rstrip("*")
        words = _words(literal) if "*" not in literal else []
        if len(words) > 1:  # "e-KT*": the compound as typed, without expansion
            return _text_node(words, field, literal, start)
        if not words or len(words[0][0]) < MIN_PREFIX or words[0][1] != literal.strip(".,;:!?'’"):
            raise QueryError("wildcard_too_short", limit=MIN_PREFIX, text=chunk)
        return Prefix(words[0][0], field)
    return _text_node(_words(chunk), field, chunk, start)


class _Parser:
    """Recursive descent over the tokens, lenient where typed text is odd:
    a stray `)`, an operator with nothing to join, an unclosed `(` or quote."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def sequence(self, field: str | None, closing: bool) -> Node | None:
        items: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == ")":
                self.take()
                if closing:
                    break
                continue
            if tok.kind in ("AND", "OR"):  # AND is implied; an OR with nothing before it joins nothing
                self.take()
                continue
            item = self.alternatives(field)
            if item is not None:
                items.append(item)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def alternatives(self, field: str | None) -> Node | None:
        options = [self.unary(field)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            options.append(self.unary(field))
        options = [o for o in options if o is not None]
        if not options:
            return None
        flat: list[Node] = []
        for o in options:
            flat += o.children if isinstance(o, Or) else [o]
        return flat[0] if len(flat) == 1 else Or(tuple(flat))

    def unary(self, field: str | None) -> Node | None:
        tok = self.peek()
        if tok is None or tok.kind in (")", "OR", "AND"):
            return None
        self.take()
        if tok.kind in ("-", "NOT"):
            child = self.unary(field)
            return Not(child) if child is not None else None
        if tok.kind == "+":
            return self.unary(field)
        if tok.kind == "field":
            return self.unary(tok.text)
        if tok.kind == "(":
            return self.sequence(field, closing=True)
        if tok.kind == "phrase":
            return _text_node(_words(tok.text), field, "", text=tok.text)
        return _word_node(tok.text, field, tok.start)


def parse(text: str, index_fields: set[str] = frozenset()) -> Node | None:
    """The tree of a typed query; None when it holds no searchable word.

    `index_fields` are the engine's other field names: naming one is refused
    with a hint to use the filters (rather than searched as a word).
    """
    _check_size(text)
    return _Parser(list(_tokens(text, index_fields))).sequence(None, closing=False)


def walk(node: Node | None) -> Iterator[Node]:
    """Every node of a tree, parents first."""
    if node is None:
        return
    yield node
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, Not):
        yield from walk(node.child)
