"""What an article is in an OpenSearch index: settings, mappings, and the
conversion of an analysed document to its source and back.

The term fields hold searchapp's own tokens joined by spaces, split again by
a whitespace tokenizer (so positions are the token's place in the list, as in
the Whoosh index) and ranked with BM25 at the engine's k1 and b. They are left
out of `_source`: the text as written (`title_text`, `body_text`) is kept for
snippets and for re-analysis when `add` replaces an article.

Stories (engine/stories.py): `story_bands` holds an article's LSH band keys
(indexed for `add` to find candidates, read back from doc values when a
build's stories are found; not in `_source`), `story` its story id (its own
id when it has no copies: what collapsing and counting stories read),
`canon` its place in the story's canonical order (0 for the first) and
`copied` whether its story has copies (stories are counted exactly among
those: snapshot.py). `speaker` holds who the article quotes (a keyword,
filtered and counted like a facet) and `quotes` its quotes, kept in
`_source` only (not indexed). An update would rebuild a document from `_source`,
losing the term fields left out of it: an article whose story changes is
analysed again and indexed whole (indexer.py).
"""

from __future__ import annotations

import hashlib
from datetime import date

from searchapp import facets
from searchapp.engine.document import EXACT, LEAD, QUOTES, SEARCHABLE, SPEAKER
from searchapp.engine.plan import Weights
from searchapp.engine.stories import BANDS_FIELD, band_terms
from searchapp.ingest.corpus import Article

POSITIONS = SEARCHABLE  # phrase and proximity queries read positions of these
TERM_FIELDS = (*SEARCHABLE, LEAD, EXACT["title"], EXACT["body"])
VOCABULARY_FIELDS = (*SEARCHABLE, EXACT["title"], EXACT["body"])  # what expansion and spelling ask about
ANALYZER = "terms"
SIMILARITY = "searchapp_bm25"
MAX_ID_BYTES = 512  # OpenSearch's limit on a document _id


def doc_id(article_id: str) -> str:
    """The document _id of an article id (a digest when the id is too long)."""
    if len(article_id.encode("utf-8")) < MAX_ID_BYTES:
        return article_id
    return "sha1:" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()


def quote_properties() -> dict:
    """The mapping of who an article quotes (a keyword, like a facet) and its quotes (kept, not indexed)."""
    return {SPEAKER: {"type": "keyword", "similarity": "boolean"}, QUOTES: {"type": "object", "enabled": False}}


def index_body(shards: int, replicas: int, weights: Weights) -> dict:
    """A new build index; replicas and refreshing come on after the load."""
    text = {"type": "text", "analyzer": ANALYZER, "similarity": SIMILARITY}
    properties = {
        "id": {"type": "keyword"},
        **{name: {**text, "index_options": "positions" if name in POSITIONS else "freqs"} for name in TERM_FIELDS},
        "title_text": {"type": "text", "index": False},
        "body_text": {"type": "text", "index": False},
        **{name: {"type": "keyword", "similarity": "boolean"} for name in facets.names()},
        **quote_properties(),
        "published": {"type": "date", "format": "strict_date"},
        "order": {"type": "long"},
        BANDS_FIELD: {"type": "keyword"},
        "story": {"type": "keyword"},
        "canon": {"type": "integer"},
        "copied": {"type": "boolean"},
        "category": {"type": "keyword"},
        "url": {"type": "keyword", "index": False, "doc_values": False},
        "source": {"type": "keyword", "index": False, "doc_values": False},
        "extra": {"type": "object", "enabled": False},
    }
    return {
        "settings": {
            "index": {"number_of_shards": shards, "number_of_replicas": 0, "refresh_interval": "-1"},
            "analysis": {
                "tokenizer": {ANALYZER: {"type": "whitespace", "max_token_length": 1024}},
                "analyzer": {ANALYZER: {"type": "custom", "tokenizer": ANALYZER}},
            },
            "similarity": {SIMILARITY: {"type": "BM25", "k1": weights.k1, "b": weights.b}},
        },
        "mappings": {
            "dynamic": "strict",
            "_source": {"excludes": [*TERM_FIELDS, BANDS_FIELD]},
            "_meta": {"generation": 0},
            "properties": properties,
        },
    }


VOCABULARY = {
    "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}},
    "mappings": {
        "dynamic": "strict",
        "properties": {"field": {"type": "keyword"}, "term": {"type": "keyword"},
                       "df": {"type": "long"}, "cf": {"type": "long"}},
    },
}


def vocabulary_id(field: str, term: str) -> str:
    return doc_id(f"{field}:{term}")


def source(doc: dict, order: int, story: str | None = None, canon: int = 0) -> dict:
    """The indexed source of an analysed document (engine/document.py), in
    `story` at place `canon` (alone when `story` is None: its own, place 0)."""
    out = {
        "id": doc["id"],
        **{name: " ".join(doc[name]) for name in TERM_FIELDS},
        "title_text": doc["title_text"],
        "body_text": doc["body_text"],
        **{name: list(doc[name] or []) for name in (*facets.names(), SPEAKER)},
        QUOTES: doc[QUOTES],
        BANDS_FIELD: band_terms(doc[BANDS_FIELD]),
        "story": story or doc["id"],
        "canon": canon,
        "copied": story is not None,
        "order": order,
        "category": doc["category"] or "",
        "url": doc["url"],
        "source": doc["source"],
        "extra": doc["extra"] or {},
    }
    if doc["published"]:
        out["published"] = doc["published"].isoformat()
    return out


def source_fields() -> list[str]:
    return ["id", "title_text", "body_text", *facets.names(), "published", "url", "category", "source", "extra",
            "story", "copied"]


def article(src: dict) -> dict:
    """The stored article as every engine returns it (Snapshot.article)."""
    published = src.get("published")
    return {
        "id": src["id"],
        "title": src.get("title_text") or "",
        "body": src.get("body_text") or "",
        "published": date.fromisoformat(published) if published else None,
        "url": src.get("url"),
        "category": src.get("category") or "",
        **{name: list(src.get(name) or []) for name in facets.names()},
        "source": src.get("source"),
        "extra": src.get("extra") or {},
        "story": src.get("story") or src["id"],
    }


def stored_article(src: dict) -> Article:
    """The article a stored source was analysed from (to analyse it again)."""
    published = src.get("published")
    return Article(id=src["id"], body=src.get("body_text") or "", title=src.get("title_text") or None,
                   outlet=(src.get("outlet") or [None])[0],
                   published=date.fromisoformat(published) if published else None,
                   category=src.get("category") or None, url=src.get("url"), source=src.get("source") or "",
                   extra=src.get("extra") or {})
