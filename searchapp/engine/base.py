"""The engine boundary: what searchapp asks of an index, whatever stores it.

An `Engine` owns one index location: it builds it (`rebuild`, `add`) and opens
its live build as a `Snapshot`. A snapshot is immutable and safe to share
between threads: every answer of one request comes from one snapshot, and an
engine swaps in a new one when a rebuild or add changed the live build, while
searches still running finish on the old one.

Above the boundary (searchapp.search) live the query language, expansions,
highlighting, snippets, spelling, facet shaping and the result-set views; an
engine only matches, ranks, counts and returns stored articles. Its document
handles (`Doc`) and result sets (`ResultSet`) are opaque to the callers.
"""

from __future__ import annotations

import gc
import os
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from searchapp.engine import plan
from searchapp.engine.tables import BuildTables
from searchapp.errors import SearchappError
from searchapp.ingest.corpus import Skipped

Doc = int  # an engine's handle of an article in one snapshot
Progress = Callable[[int], None]
PARSED_QUERIES = 256  # parsed queries a snapshot remembers


class IndexerError(SearchappError):
    """A rebuild or add that could not be done; the live index is untouched."""


class IndexBusy(IndexerError):
    """Another rebuild or add holds the index lock."""


class NoIndex(IndexerError):
    """No live index yet."""


class IndexUnreadable(IndexerError):
    """The live index exists but cannot be read (damaged, or made by an
    incompatible version)."""


class EngineUnavailable(SearchappError):
    """The engine's server cannot be reached or is not answering (a 503, not a 500)."""


class TooSlow(Exception):
    """A query ran past its deadline."""


@dataclass
class BuildReport:
    indexed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    build: str = ""
    documents: int = 0
    repaired: Counter[str] = field(default_factory=Counter)  # articles whose text was repaired, per kind

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"indexed {self.indexed} articles in {self.seconds:.1f} s "
            f"({self.docs_per_second:.0f} docs/s), skipped {len(self.skipped)}; "
            f"index holds {self.documents} documents"
            + (f"; repaired: {', '.join(f'{k} {n}' for k, n in self.repaired.most_common())}" if self.repaired else "")
        )


@dataclass(frozen=True)
class Filters:
    """What selects articles besides the query text.

    Values of one facet combine with OR, different facets with AND; each
    facet's counts ignore its own selection, so its other values stay
    choosable. `required` are actors an article must all name; like the text
    query, they narrow the set every facet counts in. `speakers` keeps the
    articles quoting any of them (engine.document.SPEAKER): a selection like
    a facet's, which the speaker counts ignore and every facet counts within.
    """

    selected: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    required: tuple[str, ...] = ()
    story: str | None = None  # only the articles of this story (its copies)
    speakers: tuple[str, ...] = ()  # only the articles quoting one of these


class TermStats(Protocol):
    """What query expansion and spelling ask of the indexed words."""

    fields: frozenset[str]

    def frequency(self, field: str, text: str) -> int: ...

    def doc_frequency(self, field: str, text: str) -> int: ...

    def words(self, field: str) -> Iterable[str]: ...

    def expand_prefix(self, field: str, prefix: str) -> list[str]: ...


class ResultSet(ABC):
    """The articles a plan and filters select in one snapshot; collapsed
    (`Snapshot.collapse`), one article per story."""

    total: int  # articles, or stories when collapsed


class Snapshot(ABC):
    """One opened build. Immutable once opened; its caches are safe to share."""

    key: Any  # changes when the live build changes
    tables: BuildTables
    fields: frozenset[str]  # the indexed field names (the query language refuses naming others)

    def __init__(self) -> None:
        self._memo: OrderedDict[Any, Any] = OrderedDict()
        self._once: dict[str, Any] = {}
        self._memo_lock = Lock()

    def remember(self, key: Any, make: Callable[[], Any]) -> Any:
        """`make()`, remembered for the last PARSED_QUERIES keys of this
        snapshot (a page asks for the same query on every facet click)."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = make()
        with self._memo_lock:
            self._memo[key] = value
            if len(self._memo) > PARSED_QUERIES:
                self._memo.popitem(last=False)
        return value

    def once(self, name: str, make: Callable[[], Any]) -> Any:
        """`make()`, computed on first use and kept as long as the snapshot."""
        if name not in self._once:
            self._once[name] = make()  # a race computes an equal value twice
        return self._once[name]

    # --- the indexed words ---------------------------------------------------

    @abstractmethod
    def frequency(self, field: str, text: str) -> int:
        """How often the term occurs in the field, over all articles."""

    @abstractmethod
    def doc_frequency(self, field: str, text: str) -> int:
        """In how many articles the field holds the term."""

    @abstractmethod
    def words(self, field: str) -> Iterable[str]:
        """Every term of the field."""

    @abstractmethod
    def expand_prefix(self, field: str, prefix: str) -> list[str]:
        """The terms of the field starting with `prefix`."""

    # --- result sets -----------------------------------------------------------

    @abstractmethod
    def select(self, query: plan.Node, filters: Filters, deadline: float) -> ResultSet:
        """The articles matching the plan and the filters (TooSlow past the deadline)."""

    @abstractmethod
    def docs(self, rs: ResultSet) -> list[Doc]:
        """Every article of the result set, in index order."""

    @abstractmethod
    def facet_counts(self, rs: ResultSet, name: str) -> Counter[str]:
        """Articles per value of the facet, over the result set with every
        facet selection applied but this facet's own."""

    @abstractmethod
    def speaker_counts(self, rs: ResultSet) -> Counter[str]:
        """Articles (stories when collapsed) quoting each speaker, over the
        result set with every selection applied but the speaker filter."""

    @abstractmethod
    def has_value(self, name: str, value: str) -> bool:
        """Whether any article of the build has this facet value."""

    @abstractmethod
    def ranked(self, rs: ResultSet, limit: int, deadline: float) -> list[tuple[Doc, float]]:
        """The best `limit` (article, score), best first; ties in index order."""

    @abstractmethod
    def by_date(self, rs: ResultSet, newest: bool, limit: int) -> list[Doc]:
        """The first `limit` articles by publication day (undated last)."""

    @abstractmethod
    def days(self, rs: ResultSet, facet: tuple[str, str] | None = None,
             interval: str = "day") -> tuple[Counter[date], int]:
        """Articles per publication day (or per `interval`, "week" from
        Monday or "month": keyed by its first day), and the undated count;
        with `facet=(name, value)` only those having that value."""

    @abstractmethod
    def value_lists(self, rs: ResultSet, name: str) -> list[list[str]]:
        """Each article's values of a facet."""

    # --- stories (engine/stories.py) -------------------------------------------
    #
    # A collapsed result set stands for one article per story: of each story,
    # the first article in canonical order the set holds. On it `total`,
    # `docs` and `value_lists` give those articles; `ranked` orders the
    # stories by their best-scoring article (giving the shown one); `by_date`
    # orders them by their newest (or oldest) article and gives that article,
    # so a date-ordered list stays in date order; `facet_counts` and `days`
    # count stories (a story once in each value or day any of its articles has).

    @abstractmethod
    def collapse(self, rs: ResultSet) -> ResultSet:
        """The result set, one article per story."""

    @abstractmethod
    def story_keys(self, rs: ResultSet) -> list[Any]:
        """Each article's story as a key (equal for the articles of one story,
        opaque otherwise), in the order of `docs` and `value_lists`."""

    @abstractmethod
    def copies(self, rs: ResultSet, docs: list[Doc]) -> dict[Doc, list[Doc]]:
        """For each of `docs`, the other articles of its story the result set
        holds (collapsed or not), in canonical order."""

    @abstractmethod
    def story(self, doc: Doc) -> tuple[str, list[Doc]]:
        """An article's story id and every article of the story in the build,
        in canonical order (the article alone when it has no copies)."""

    @abstractmethod
    def similar(self, doc: Doc, terms: str, top: int) -> list[tuple[Doc, float]]:
        """The articles (other than `doc`) most like the given stemmed terms."""

    # --- articles and the build ------------------------------------------------

    @abstractmethod
    def find(self, article_id: str) -> Doc | None:
        """The article of an id, or None."""

    @abstractmethod
    def article(self, doc: Doc) -> dict:
        """The stored article: id, title, body, outlet, published (date or
        None), url, category, the facet values, source, extra, and its story id."""

    def articles(self, docs: list[Doc]) -> list[dict]:
        """Several stored articles (an engine over a network fetches them in one request)."""
        return [self.article(d) for d in docs]

    @abstractmethod
    def quotes(self, docs: list[Doc]) -> list[list[dict]]:
        """Each document's stored quotes (engine.document.QUOTES), in text
        order; none for an article of a build made before quotes were kept."""

    def values_of(self, docs: list[Doc], name: str) -> list[list[str]]:
        """Each document's values of a facet (an engine with facet columns
        answers without reading the stored articles)."""
        return [list(a[name]) for a in self.articles(docs)]

    def ids(self, docs: list[Doc]) -> list[str]:
        """The article ids of documents."""
        return [a["id"] for a in self.articles(docs)]

    @property
    @abstractmethod
    def documents(self) -> int:
        """Live articles in the build."""

    @abstractmethod
    def facet_totals(self, name: str) -> list[tuple[str, int]]:
        """Every value of a facet with its article count in the whole build."""

    @abstractmethod
    def location(self) -> tuple[str, int]:
        """Where the build lives, and its size in bytes."""


class OpenSnapshot:
    """An engine's opened snapshot, swapped for a new one when the live
    build's key changes. The swap is the only locked step: searches running
    on the old snapshot finish on it."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = Lock()

    def get(self, key: Any, make: Callable[[], Snapshot]) -> Snapshot:
        snap = self._snapshot
        if snap is not None and snap.key == key:
            return snap
        with self._lock:
            old = snap = self._snapshot
            if snap is None or snap.key != key:
                snap = self._snapshot = make()
                if old is not None and gc.get_freeze_count():
                    gc.unfreeze()  # objects frozen by a server's warm-up (search.service.warm): the old build's go
        return snap

    def drop(self) -> Snapshot | None:
        """Forget the snapshot; the caller closes what it holds."""
        with self._lock:
            snap, self._snapshot = self._snapshot, None
        return snap


class Engine(ABC):
    """An index: built from corpus files, searched through snapshots."""

    name: str
    weights: plan.Weights  # the knobs its queries are planned and scored with
    search_slots: int = 1  # searches a serving process runs at once (an engine in this process: its CPU)

    @abstractmethod
    def rebuild(self, corpus_paths: Iterable[str | os.PathLike], *, actor_files: Iterable[str | os.PathLike] = (),
                synonym_files: Iterable[str | os.PathLike] = (), procs: int | None = None,
                progress: Progress | None = None, strict: bool = False) -> BuildReport:
        """Index the corpus into a new build and switch to it atomically;
        files given to `add` before are indexed again."""

    @abstractmethod
    def add(self, paths: Iterable[str | os.PathLike], *, progress: Progress | None = None) -> BuildReport:
        """Add or replace articles by id in the live build."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The live build, opened (NoIndex if there is none)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether there is a live build."""

    def close(self) -> None:
        """Release what the open snapshot holds."""

    @property
    @abstractmethod
    def location(self) -> Path | str:
        """Where the index lives (a directory, a URL)."""
