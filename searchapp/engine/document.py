"""The analysed document: what every engine indexes for an article.

An article is analysed here, by searchapp's own pipeline (tokenizer, Sastrawi
with exceptions and the build's protected names, exact forms, the lead, the
facet extractors), so every engine indexes the same terms; an engine only
stores them. `Preparer` is made once per build (and per worker process), with
the build's gazetteer and stemmer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import numpy as np

from searchapp import facets
from searchapp.engine import stories
from searchapp.facets.actors import Gazetteer
from searchapp.ingest.corpus import Article, Skipped
from searchapp.text import analysis
from searchapp.text.quotes import QuoteExtractor

SEARCHABLE = ("title", "body")  # the fields a query searches (and names with title:/body:)
EXACT = {"title": "title_exact", "body": "body_exact"}  # the words as written, unstemmed
LEAD = "lead"
LEAD_TERMS = 50  # news puts the story in its first sentences (the lead)
QUOTES = "quotes"  # the article's quotes, stored (not indexed): Quote fields as a dict each
SPEAKER = "speaker"  # who the article quotes: an exact multi-valued field, filtered and counted like a facet


def speaker_of(quote: dict) -> str | None:
    """Whom a stored quote is counted and filtered under: the resolved
    actor's canonical name, else the speaker as listed (the full name the
    article gives a short one; an older build's quotes have only the speaker
    as written); None: unattributed."""
    return quote.get("actor") or quote.get("name") or quote.get("speaker") or None


def speakers(quotes: list[dict]) -> list[str]:
    """The speakers of an article's quotes, each once, in text order."""
    return list(dict.fromkeys(w for w in map(speaker_of, quotes) if w))


class Preparer:
    """Turns a build's articles into analysed documents, with the build's own
    gazetteer and stemmer; and counts what the searcher reads beside the
    index (words written as names, the written forms of each stem) and the
    band keys the build's stories are found by."""

    def __init__(self, actor_files: list[str], stems: dict[str, str], keep_texts: bool = False,
                 fingerprints: stories.Fingerprints | None = None):
        self.gazetteer = Gazetteer.load(actor_files)
        self.stemmer = analysis.Stemmer(self.gazetteer.protected_words())
        self.stemmer.load(stems)
        self.names: Counter[str] = Counter()
        self.forms: Counter[tuple[str, str]] = Counter()
        self.fingerprints = fingerprints or stories.Fingerprints()
        self.quotes = QuoteExtractor(self.gazetteer)
        self.story_ids: list[str] = []
        self._signatures: list[np.ndarray] = []
        self._sizes: list[int] = []
        self.texts = stories.Texts() if keep_texts else None  # what a rebuild's clustering compares

    def prepare(self, article: Article) -> dict:
        """The document's fields: term lists for the indexed fields, the
        text as written (`title_text`, `body_text`) for snippets, facet
        values, the day published (a date or None), the quotes and their
        speakers, and what is stored."""
        stem = self.stemmer.stem
        title = article.title or ""
        title_terms, title_exact = self.stemmer.index_terms(title)
        body_words = analysis.WORD_RE.findall(article.body)
        body_terms, body_exact = self.stemmer.index_terms(article.body, body_words)
        self.names.update(w for w in analysis.name_mentions(article.body) if stem(w) != w)
        self.forms.update((stem(w), w) for w in set(body_exact + title_exact)
                          if w.isalpha() or not analysis.compound(w, stem))
        extraction = facets.Extraction(self.gazetteer, title, title_terms + body_terms)
        text = self.fingerprints.text(article.body, article.outlet or None, body_words)
        signature = self.fingerprints.signature(text.shingles)
        self.story_ids.append(article.id)
        self._signatures.append(signature)
        self._sizes.append(len(text.shingles))
        if self.texts is not None:
            self.texts.add(article.id, text)
        quotes = [asdict(q) for q in self.quotes.extract(article.body)]
        return {
            "id": article.id,
            "title": title_terms,
            "title_text": title,
            "body": body_terms,
            "body_text": article.body,
            LEAD: body_terms[:LEAD_TERMS],
            EXACT["title"]: title_exact,
            EXACT["body"]: body_exact,
            **{f.name: f.extract(article, extraction) for f in facets.FACETS},
            stories.BANDS_FIELD: self.fingerprints.band_keys(signature)[0],  # an engine that indexes them makes terms
            QUOTES: quotes,
            SPEAKER: speakers(quotes),
            "published": article.published,
            "category": article.category or "",
            "url": article.url,
            "source": article.source,
            "extra": article.extra,
        }

    def story_cards(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The ids, MinHash signatures (a row each) and shingle counts of the
        articles prepared so far: what finding the build's stories starts from."""
        signatures = np.array(self._signatures, np.uint32).reshape(len(self._signatures), self.fingerprints.num_perm)
        return self.story_ids, signatures, np.array(self._sizes, np.int64)

    def prepare_or_skip(self, item: Article | Skipped) -> dict | Skipped:
        return item if isinstance(item, Skipped) else self.prepare(item)
