"""Actor facet: who (people, countries, organisations) an article is about.

A gazetteer of canonical actors and their aliases (data/actors.tsv, plus any
user files in the same format) is compiled into one trie-shaped regular
expression per case mode, so an article is scanned once per mode rather than
once per alias. Short aliases that are also ordinary words ("AS", "MA", "PAN")
match only in their exact case, and the longest alias wins at each position, so
"Amerika Serikat" counts once and "Amerika Latin" (an ignore phrase) not at all.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from searchapp.errors import SearchappError
from searchapp.text.analysis import sastrawi_root, sastrawi_stem, trie_pattern

TYPES = frozenset({"person", "country", "organisation"})
IGNORE = "ignore"
CASE_SENSITIVE = "="
NEEDS_SUPPORT = "?"
# Prefixes of derived Indonesian words ("perjanjian", "keamanan"): a
# multi-word alias word carrying one and stemmable by Sastrawi is a common
# word, not a name to shield from the stemmer.
_DERIVATION_PREFIXES = ("me", "di", "ke", "pe", "se", "ter", "ber", "per")


class GazetteerError(SearchappError, ValueError):
    """A gazetteer file that cannot be read as actors."""


@dataclass(frozen=True)
class Actor:
    """A canonical actor with the surface forms that name it."""

    name: str
    type: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Alias:
    text: str
    actor: str | None  # None for an ignore phrase
    case_sensitive: bool
    needs_support: bool


def _compile(words: Iterable[str], flags: int) -> re.Pattern[str] | None:
    words = sorted(set(words))
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + trie_pattern(words) + r")(?!\w)", flags)


def _parse_alias(raw: str) -> tuple[str, bool, bool]:
    text, case_sensitive, needs_support = raw.strip(), False, False
    while text[:1] in (CASE_SENSITIVE, NEEDS_SUPPORT):
        case_sensitive |= text[0] == CASE_SENSITIVE
        needs_support |= text[0] == NEEDS_SUPPORT
        text = text[1:]
    return " ".join(text.split()), case_sensitive, needs_support


def _read_rows(text: str, source: str) -> Iterator[tuple[int, str, str, list[str]]]:
    """(line number, name, type, raw aliases) of each data line, validated."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.rstrip("\n").split("\t")
        where = f"{source}, line {lineno}"
        if len(cols) not in (2, 3):
            raise GazetteerError(
                f"{where}: expected 'name<TAB>type<TAB>aliases', got {len(cols)} column(s)"
            )
        name, kind = cols[0].strip(), cols[1].strip().lower()
        aliases = [a for a in (cols[2].split("|") if len(cols) == 3 else []) if a.strip()]
        if kind not in TYPES and kind != IGNORE:
            raise GazetteerError(
                f"{where}: unknown type {kind!r} (use {', '.join(sorted(TYPES))} or {IGNORE})"
            )
        if not name:
            raise GazetteerError(f"{where}: empty actor name")
        if kind == IGNORE and not aliases:
            raise GazetteerError(f"{where}: an ignore row needs phrases in the third column")
        for raw in aliases:
            if not _parse_alias(raw)[0]:
                raise GazetteerError(f"{where}: alias {raw!r} is empty after its markers")
        yield lineno, name, kind, aliases


class Gazetteer:
    """Canonical actors and the compiled matchers over their aliases."""

    def __init__(self) -> None:
        self._types: dict[str, str] = {}
        self._aliases: dict[str, list[_Alias]] = {}
        self._cs: dict[str, _Alias] = {}  # exact text -> alias
        self._ci: dict[str, _Alias] = {}  # casefolded text -> alias
        self._patterns: list[tuple[re.Pattern[str], dict[str, _Alias], bool]] | None = None
        self._protected: frozenset[str] | None = None

    @classmethod
    def load(cls, extra: Iterable[str | os.PathLike] = ()) -> Gazetteer:
        """The packaged gazetteer merged with user files of the same format.

        A user row naming an existing actor adds aliases to it; a new name adds
        an actor. Any malformed row or clashing alias raises GazetteerError.
        """
        gaz = cls()
        packaged = resources.files("searchapp.data").joinpath("actors.tsv")
        gaz._add_text(packaged.read_text("utf-8"), "searchapp/data/actors.tsv")
        for path in extra:
            try:
                text = Path(path).read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise GazetteerError(f"{path}: cannot read gazetteer file ({exc})") from exc
            gaz._add_text(text, str(path))
        return gaz

    def _add_text(self, text: str, source: str) -> None:
        for lineno, name, kind, raw_aliases in _read_rows(text, source):
            where = f"{source}, line {lineno}"
            actor = None if kind == IGNORE else name
            if actor is not None:
                known = self._types.setdefault(actor, kind)
                if known != kind:
                    raise GazetteerError(f"{where}: {actor!r} is already a {known}, not a {kind}")
                self._aliases.setdefault(actor, [])
            parsed = [_parse_alias(raw) for raw in raw_aliases]
            if actor is not None and not any(t.casefold() == name.casefold() for t, _, _ in parsed):
                parsed.append((name, False, False))
            for text_, case_sensitive, needs_support in parsed:
                self._add_alias(_Alias(text_, actor, case_sensitive, needs_support), where)
        self._patterns = None
        self._protected = None

    def _add_alias(self, alias: _Alias, where: str) -> None:
        table, key = (
            (self._cs, alias.text) if alias.case_sensitive else (self._ci, alias.text.casefold())
        )
        old = table.get(key)
        if old is not None:
            if old.actor != alias.actor:
                raise GazetteerError(
                    f"{where}: alias {alias.text!r} already names {old.actor or 'an ignore phrase'!r}"
                )
            return
        table[key] = alias
        if alias.actor is not None:
            self._aliases[alias.actor].append(alias)

    def _matchers(self) -> list[tuple[re.Pattern[str], dict[str, _Alias], bool]]:
        if self._patterns is None:
            self._patterns = [
                (pattern, table, folded)
                for table, folded, flags in ((self._cs, False, 0), (self._ci, True, re.IGNORECASE))
                if (pattern := _compile(table, flags)) is not None
            ]
        return self._patterns

    def _mentions(self, text: str) -> list[_Alias]:
        """Non-overlapping alias hits in text order, the longest at each start."""
        spans = []
        for pattern, table, folded in self._matchers():
            for m in pattern.finditer(text):
                surface = m.group().casefold() if folded else m.group()
                spans.append((m.start(), m.start() - m.end(), table[surface]))
        spans.sort(key=lambda s: (s[0], s[1]))
        hits, reach = [], 0
        for start, neg_length, alias in spans:
            if start >= reach:
                hits.append(alias)
                reach = start - neg_length
        return hits

    def count(self, text: str) -> dict[str, int]:
        """Mentions per canonical actor in the raw text (order of first mention)."""
        counts: Counter[str] = Counter()
        supported: set[str] = set()
        for alias in self._mentions(text):
            if alias.actor is not None:
                counts[alias.actor] += 1
                if not alias.needs_support:
                    supported.add(alias.actor)
        return {actor: n for actor, n in counts.items() if actor in supported}

    def find(self, text: str) -> list[str]:
        """Actors named in the raw text, most mentioned first, ties by first mention."""
        counts = self.count(text)
        order = {actor: i for i, actor in enumerate(counts)}
        return sorted(counts, key=lambda a: (-counts[a], order[a]))

    def actors(self) -> list[Actor]:
        """All actors, sorted by name."""
        return [
            Actor(name, self._types[name], tuple(a.text for a in self._aliases[name]))
            for name in sorted(self._types)
        ]

    def actor(self, name: str) -> Actor | None:
        """The actor of a canonical name, or None."""
        if name not in self._types:
            return None
        return Actor(name, self._types[name], tuple(a.text for a in self._aliases[name]))

    def resolve(self, phrase: str) -> str | None:
        """Canonical actor for a query phrase that is exactly one of its aliases.

        Case-sensitive aliases need their exact case: "as" stays a word, "AS"
        is Amerika Serikat.
        """
        phrase = " ".join(phrase.split())
        alias = self._cs.get(phrase) or self._ci.get(phrase.casefold())
        return alias.actor if alias is not None else None

    def protected_words(self) -> frozenset[str]:
        """Lowercase name words the stemmer must leave alone ("taliban", "putin").

        Every single-word alias is a name. Words of longer aliases are kept
        unless they are ordinary Indonesian: a root in Sastrawi's dictionary
        ("serikat", "putih") or an affixed form of one ("perjanjian").
        """
        if self._protected is None:
            self._protected = self._name_words()
        return self._protected

    def _name_words(self) -> frozenset[str]:
        def ordinary(word: str) -> bool:
            return sastrawi_root(word) or (word.startswith(_DERIVATION_PREFIXES) and sastrawi_stem(word) != word)

        words = set()
        for aliases in self._aliases.values():
            for alias in aliases:
                tokens = [t for t in re.findall(r"[^\W\d_]+", alias.text.lower()) if len(t) > 1]
                if len(tokens) == 1 and " " not in alias.text:
                    words.update(tokens)
                else:
                    words.update(t for t in tokens if not ordinary(t))
        return frozenset(words)


@cache
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return Gazetteer.load()
