"""The query plan: what to match and how to weigh it, for any engine.

`searchapp.search.query` turns what a reader typed (with actor, abbreviation
and spelling expansions) into this small tree of weighted clauses; each engine
translates it (the Whoosh engine ranks it over numpy arrays, a Lucene-style
engine maps it to bool/should, phrase and span clauses). Scores add up the way
BM25F clauses do in Lucene and Whoosh: an `Or` sums its matching children, an
`And` sums all of them and needs each, `AndMaybe` adds its optional part where
the required one matches. `Weights` are the knobs a plan is made with
(and the BM25 parameters an engine scores it with).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """Query-time ranking knobs, chosen on the relevance harness (bench/quality.py)."""

    k1: float = 1.2  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    title: float = 2.0  # a word in the title counts this much more than in the body
    exact: float = 0.6  # bonus weight of the word as written, on top of its stem
    alias: float = 2.0  # constant score of an article that names the actor another way
    compound: float = 4.0  # bonus of a compound or reduplication written whole as typed ("e-KTP", "negara-negara")
    synonym: float = 0.5  # weight of another form of an abbreviation (shared among its words) against the typed one
    proximity: float = 2.0  # weight of the query words standing near each other in the body
    window: int = 8  # how near, in words, counts as near
    lead: float = 3.0  # extra weight of a word in the story's opening words
    short: int = 4  # lead and proximity apply to queries of at most this many words


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Words in order, each within `slop` positions after the one before."""

    field: str
    words: tuple[str, ...]
    slop: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    """Every indexed word of the field starting with `text`, each scored."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class AndMaybe:
    """`required` decides the match; `optional` adds to the score where both match."""

    required: Node
    optional: Node


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Constant:
    """Matches what `child` matches, every match scoring `score`."""

    child: Node
    score: float


@dataclass(frozen=True)
class Near:
    """A proximity bonus: the terms within `slop` words of each other, in any
    order. Only as the optional part of the plan's root `AndMaybe`, so an
    engine may check positions last, for the documents that can reach the page."""

    terms: tuple[Term, ...]
    slop: int


@dataclass(frozen=True)
class Every:
    """Every live article (an empty query: browsing)."""


@dataclass(frozen=True)
class Nothing:
    """No article (a query with nothing searchable left)."""


Node = Term | Phrase | Prefix | Or | And | AndMaybe | Not | Constant | Near | Every | Nothing


def walk(node: Node):
    """The node and all nodes below it."""
    yield node
    if isinstance(node, (Or, And)):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, AndMaybe):
        yield from walk(node.required)
        yield from walk(node.optional)
    elif isinstance(node, (Not, Constant)):
        yield from walk(node.child)
    elif isinstance(node, Near):
        yield from node.terms
