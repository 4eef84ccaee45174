"""The query plan and filters as OpenSearch query DSL.

Scores add up as in the Whoosh ranker: bool `should`/`must` sum their
clauses, a phrase or a proximity bonus scores its words' BM25 (the phrase or
span clause only decides the match), `Not` and filters score nothing.
Differences that are left: a prefix scores its boost once instead of each
expansion's BM25, and BM25's idf and length norms are Lucene's.
"""

from __future__ import annotations

from searchapp.engine import plan
from searchapp.engine.base import Filters
from searchapp.engine.document import SPEAKER
from searchapp.engine.opensearch.mapping import ANALYZER

MATCH_NONE: dict = {"match_none": {}}


def _term(field: str, text: str, boost: float) -> dict:
    return {"term": {field: {"value": text, "boost": boost}}}


def _scored_by_words(match: dict, terms: list[dict]) -> dict:
    return {"bool": {"filter": [match], "must": terms}}


def query(node: plan.Node) -> dict:
    """The OpenSearch query of a plan node."""
    if isinstance(node, plan.Term):
        return _term(node.field, node.text, node.boost)
    if isinstance(node, plan.Or):
        if not node.children:
            return MATCH_NONE
        return {"bool": {"should": [query(c) for c in node.children], "minimum_should_match": 1, "boost": node.boost}}
    if isinstance(node, plan.And):
        if not node.children:
            return MATCH_NONE
        return {"bool": {"must": [query(c) for c in node.children], "boost": node.boost}}
    if isinstance(node, plan.AndMaybe):
        return {"bool": {"must": [query(node.required)], "should": [query(node.optional)]}}
    if isinstance(node, plan.Not):
        return {"bool": {"filter": [{"match_all": {}}], "must_not": [query(node.child)]}}
    if isinstance(node, plan.Constant):
        return {"constant_score": {"filter": query(node.child), "boost": node.score}}
    if isinstance(node, plan.Every):
        return {"match_all": {}}
    if isinstance(node, plan.Nothing):
        return MATCH_NONE
    if isinstance(node, plan.Prefix):
        return {"constant_score": {"filter": {"prefix": {node.field: node.text}}, "boost": node.boost}}
    if isinstance(node, plan.Phrase):
        words = [_term(node.field, w, node.boost) for w in node.words]
        if len(node.words) == 1:
            return words[0]
        phrase = {"match_phrase": {node.field: {"query": " ".join(node.words), "slop": node.slop - 1,
                                                "analyzer": ANALYZER}}}
        return _scored_by_words(phrase, words)
    if isinstance(node, plan.Near):
        words = [_term(t.field, t.text, t.boost) for t in node.terms]
        if len({(t.field, t.text) for t in node.terms}) < 2:
            return {"bool": {"must": words}}
        near = {"span_near": {"clauses": [{"span_term": {t.field: t.text}} for t in node.terms],
                              "slop": node.slop, "in_order": False}}
        return _scored_by_words(near, words)
    raise TypeError(f"cannot translate a {type(node).__name__} query")


def filter_clauses(filters: Filters) -> list[dict]:
    """Dates, required actors and a story: they narrow the set every facet counts in."""
    clauses = []
    if filters.date_from or filters.date_to:
        bounds = {}
        if filters.date_from:
            bounds["gte"] = filters.date_from.isoformat()
        if filters.date_to:
            bounds["lte"] = filters.date_to.isoformat()
        clauses.append({"range": {"published": bounds}})
    clauses += [{"term": {"actor": actor}} for actor in filters.required]
    if filters.story is not None:
        clauses.append({"term": {"story": filters.story}})
    return clauses


def chosen(filters: Filters) -> dict[str, dict]:
    """Per facet with a selection (and SPEAKER, with speakers): the clause of
    its values (OR within a facet)."""
    selected = {**filters.selected, SPEAKER: filters.speakers}
    return {name: {"terms": {name: list(values)}} for name, values in selected.items() if values}


def all_of(clauses: list[dict]) -> dict:
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
