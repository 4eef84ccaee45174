"""The Whoosh schema: what is indexed, stored and faceted for an article."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import IndonesianAnalyzer

TITLE_BOOST = 2.0
FACETS = ("outlet", "actor", "topic")
SEARCHABLE = ("title", "body")


def build_schema() -> Schema:
    """Title and body are stemmed text; facets are exact multi-valued terms.

    Facet fields are KEYWORD so an article can carry several actors/topics
    (values are passed as lists, so commas inside a name are harmless).
    """
    analyzer = IndonesianAnalyzer()
    facet = dict(stored=True, scorable=False, lowercase=False)
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=TITLE_BOOST),
        body=TEXT(analyzer=analyzer, stored=True),
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
