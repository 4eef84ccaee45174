"""The facet registry: one declaration per facet.

Everything facet-shaped reads `FACETS`: the analysed document (the values
of an article), the engines (a multi-valued exact field each; filters and
counts), the search service (filter arguments, counts), the CLI (a repeatable
option each), the API and its OpenAPI parameters, and the page's sidebar.
Adding a facet is adding a `Facet` here.

Every facet filters and counts the same way: values of one facet combine
with OR, different facets with AND, and a facet's counts ignore its own
selection so its other values stay choosable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from searchapp.facets import topics
from searchapp.facets.actors import Gazetteer
from searchapp.ingest.corpus import Article


@dataclass(frozen=True)
class Extraction:
    """What an extractor may read besides the article: the build's gazetteer
    and the article's stemmed title and body terms."""

    gazetteer: Gazetteer
    title: str
    terms: list[str]


@dataclass(frozen=True)
class Facet:
    name: str  # the document field, the URL parameter, the CLI option
    label: str  # the sidebar heading (the page speaks Indonesian)
    description: str  # for the CLI help and the OpenAPI parameter
    extract: Callable[[Article, Extraction], list[str]]  # an article's values, in order
    multi_valued: bool = True  # several values per article (else at most one)
    sidebar: int = 0  # position in the page's sidebar (people and topics before outlets)


def _outlet(article: Article, _ctx: Extraction) -> list[str]:
    return [article.outlet] if article.outlet else []


def _actors(article: Article, ctx: Extraction) -> list[str]:
    return ctx.gazetteer.find(f"{ctx.title}\n{article.body}")


def _topics(article: Article, ctx: Extraction) -> list[str]:
    """Sections such as "Lifestyle" hide the real beat in the subcategory."""
    sub = article.extra.get("subcategory")
    label = str(sub) if sub and topics.from_category(str(sub)) else article.category
    return topics.assign(label, ctx.terms)


FACETS: tuple[Facet, ...] = (
    Facet("outlet", "Media", "the outlet (news site) that published the article", _outlet, multi_valued=False,
          sidebar=3),
    Facet("actor", "Aktor", "a person, organisation or place the article names (gazetteer)", _actors, sidebar=1),
    Facet("topic", "Topik", "the article's topic (outlet category or keyword rules)", _topics, sidebar=2),
)


def names() -> tuple[str, ...]:
    return tuple(f.name for f in FACETS)


def get(name: str) -> Facet:
    return next(f for f in FACETS if f.name == name)
