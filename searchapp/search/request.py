"""What a reader asked for, checked: the query text, facet values and dates.

Every search and every view over a result set takes the same keywords, so a
page, its JSON twin, the CLI and an export select the same articles; a bad
value raises QueryError (a 400 on the web, a message in the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from searchapp import facets
from searchapp.engine.base import Filters
from searchapp.errors import QueryError, label_id

SORTS = ("relevance", "newest", "oldest")
COLLAPSE = {"on": True, "off": False}  # one hit per story, or every copy
COUNTS = ("stories", "articles")
MAX_PER_PAGE = 100
MAX_WINDOW = 10_000
MAX_SPEAKER_CHARS = 200  # a speaker's name as written is short; longer is not a name


def as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryError("bad_date", name=name, label=label_id(name), value=value) from None


def as_int(value, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError("bad_number", name=name, label=label_id(name), value=value) from None
    if not low <= number <= high:
        raise QueryError("out_of_range", name=name, label=label_id(name), low=low, high=high, value=number)
    return number


def values(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(v.strip() for v in value if v and v.strip())


def as_speakers(value) -> tuple[str, ...]:
    """`speaker` (a name or a list of names): only the articles quoting one
    of them, and only their quotes. Each must be text of at most
    MAX_SPEAKER_CHARS characters."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise QueryError("bad_speaker", limit=MAX_SPEAKER_CHARS, value=value)
    for v in items:
        if len(v.strip()) > MAX_SPEAKER_CHARS:
            raise QueryError("bad_speaker", limit=MAX_SPEAKER_CHARS, value=v[:40] + "…")
    return tuple(dict.fromkeys(values(items)))


def as_collapse(value) -> bool:
    """`collapse`: on (one hit per story, the default) or off (every copy)."""
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    if str(value).lower() not in COLLAPSE:
        raise QueryError("bad_collapse", value=value)
    return COLLAPSE[str(value).lower()]


def as_count(value, collapse: bool) -> str:
    """`count`: what counts and timelines count (stories where collapsed, unless asked)."""
    if value in (None, ""):
        return "stories" if collapse else "articles"
    if value not in COUNTS:
        raise QueryError("bad_count", value=value)
    return value


@dataclass(frozen=True)
class Request:
    """A validated query text plus the filters an engine applies, and
    whether copies of one story are listed once (`collapse`) and counted
    once (`count`)."""

    q: str
    filters: Filters
    collapse: bool = True
    count: str = "stories"

    @classmethod
    def make(cls, q: str | None = "", date_from=None, date_to=None, require_actor=None, *, collapse=None,
             count=None, story=None, speaker=None, **facet_values) -> Request:
        """From user input: one keyword per facet of the registry (a value or
        a list), and `speaker` (the quotes view); raises QueryError on a bad
        value, TypeError on an unknown keyword (a programming error)."""
        unknown = set(facet_values) - set(facets.names())
        if unknown:
            raise TypeError(f"unknown filter {', '.join(sorted(unknown))}")
        date_from = as_date(date_from, "from")
        date_to = as_date(date_to, "to")
        if date_from and date_to and date_from > date_to:
            raise QueryError("dates_reversed")
        selected = {name: values(facet_values.get(name)) for name in facets.names()}
        collapse = as_collapse(collapse)
        story = (story or "").strip() or None
        return cls(q or "", Filters(selected, date_from, date_to, values(require_actor), story, as_speakers(speaker)),
                   collapse, as_count(count, collapse))

    @property
    def counts_stories(self) -> bool:
        return self.count == "stories"

    @property
    def browse(self) -> bool:
        return not self.q.strip()

    @property
    def selected(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters.selected)
