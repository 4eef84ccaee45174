"""The Whoosh schema: what is indexed, stored and faceted for an article."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from searchapp.engine.whoosh.analyzers import ExactAnalyzer, IndonesianAnalyzer

FACETS = ("outlet", "actor", "topic")
SEARCHABLE = ("title", "body")
EXACT = {"title": "title_exact", "body": "body_exact"}
LEAD_TERMS = 50  # news puts the story in its first sentences (the lead)


def build_schema() -> Schema:
    """Title and body are indexed stemmed (recall: "serangan" finds
    "menyerang"), and their derived words once more as written, without
    positions (precision: the query's own form ranks higher).
    Field boosts are applied at query time so they can be tuned without
    reindexing. Facets are exact multi-valued terms.

    Facet fields are KEYWORD so an article can carry several actors/topics
    (values are passed as lists, so commas inside a name are harmless).
    """
    analyzer = IndonesianAnalyzer()
    exact = ExactAnalyzer()
    facet = dict(stored=True, scorable=False, lowercase=False)
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True),
        body=TEXT(analyzer=analyzer, stored=True),
        lead=TEXT(analyzer=analyzer, phrase=False),  # the opening words: what a news story is about
        title_exact=TEXT(analyzer=exact, phrase=False),
        body_exact=TEXT(analyzer=exact, phrase=False),
        outlet=KEYWORD(**facet),
        actor=KEYWORD(**facet),
        topic=KEYWORD(**facet),
        published=DATETIME(stored=True, sortable=True),
        dated=NUMERIC(sortable=True, bits=8),  # 1 if published is known: sorts undated last
        category=ID(stored=True),
        url=STORED(),
        source=STORED(),
        extra=STORED(),
    )
