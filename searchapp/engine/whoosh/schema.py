"""The Whoosh schema: what is indexed, stored and faceted for an article."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from searchapp import facets
from searchapp.engine.document import EXACT, LEAD, QUOTES, SPEAKER
from searchapp.engine.whoosh.analyzers import ExactAnalyzer, IndonesianAnalyzer


def build_schema() -> Schema:
    """Title and body are indexed stemmed (recall: "serangan" finds
    "menyerang"), and their derived words once more as written, without
    positions (precision: the query's own form ranks higher).
    Field boosts are applied at query time so they can be tuned without
    reindexing. Each facet of the registry is an exact multi-valued KEYWORD
    field (values are passed as lists, so commas inside a name are harmless),
    and so are the speakers an article quotes, not stored: its quotes are.
    """
    analyzer = IndonesianAnalyzer()
    exact = ExactAnalyzer()
    facet = dict(stored=True, scorable=False, lowercase=False)
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True),
        body=TEXT(analyzer=analyzer, stored=True),
        **{LEAD: TEXT(analyzer=analyzer, phrase=False)},  # the opening words: what a news story is about
        **{EXACT["title"]: TEXT(analyzer=exact, phrase=False), EXACT["body"]: TEXT(analyzer=exact, phrase=False)},
        **{name: KEYWORD(**facet) for name in facets.names()},
        **{SPEAKER: KEYWORD(**{**facet, "stored": False}), QUOTES: STORED()},
        published=DATETIME(stored=True, sortable=True),
        dated=NUMERIC(sortable=True, bits=8),  # 1 if published is known: sorts undated last
        category=ID(stored=True),
        url=STORED(),
        source=STORED(),
        extra=STORED(),
    )
