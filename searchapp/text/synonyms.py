"""Abbreviations and their full forms, applied at query time.

Indonesian news writes one role, body or programme two ways: "Menkeu" and
"Menteri Keuangan", "karhutla" and "kebakaran hutan dan lahan". The reviewed
table `data/abbreviations.tsv` (found in the corpus by bench/abbreviations.py)
links them, so a query in either form also finds the other. Users extend it
with `rebuild --synonyms FILE` (copied into the build, like the actor
gazetteer). Actors stay in the gazetteer: KPK is an actor, Menkeu is a role.

Forms are compared as the analysis reads them (lowercase words, stop words
dropped), so "kebakaran hutan & lahan" and "Kebakaran Hutan dan Lahan" are one
form. A short all-capitals abbreviation ("MA", "PAN") matches only when typed
in capitals, so the words "ma" and "pan" stay words.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from searchapp.text import analysis
from searchapp.errors import SearchappError

CASE_SENSITIVE_UP_TO = 3  # letters of an all-capitals abbreviation that must be typed in capitals


class SynonymError(SearchappError, ValueError):
    """A synonym file that cannot be read."""


def form_key(text: str) -> tuple[str, ...]:
    """A form as the analysis reads it: its words, stop words dropped."""
    stops = analysis.stop_words()
    return tuple(w for w, _s, _e in analysis.iter_words(text) if w not in stops)


def _case_sensitive(form: str) -> bool:
    letters = [c for c in form if c.isalpha()]
    return len(letters) <= CASE_SENSITIVE_UP_TO and all(c.isupper() for c in letters)


@dataclass
class Synonyms:
    """Groups of forms that name the same thing."""

    _groups: list[dict[tuple[str, ...], str]] = field(default_factory=list)  # form key → written form
    _by_key: dict[tuple[str, ...], int] = field(default_factory=dict)
    longest: int = 0  # words in the longest form

    @classmethod
    def load(cls, extra: Iterable[str | os.PathLike] = ()) -> Synonyms:
        """The packaged table plus the user's files, in order."""
        table = cls()
        packaged = resources.files("searchapp.data").joinpath("abbreviations.tsv")
        table._add_text(packaged.read_text("utf-8"), "abbreviations.tsv")
        for path in extra:
            try:
                text = open(path, encoding="utf-8").read()
            except (OSError, UnicodeDecodeError) as exc:
                raise SynonymError(f"{path}: cannot read synonym file ({exc})") from exc
            table._add_text(text, str(path))
        return table

    def _add_text(self, text: str, source: str) -> None:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            forms = [f.strip() for f in line.split("\t") if f.strip()]
            if len(forms) < 2 or any(not form_key(f) for f in forms):
                raise SynonymError(f"{source}, line {lineno}: needs an abbreviation and a full form, tab-separated")
            self.add(forms)

    def add(self, forms: list[str]) -> None:
        """Link these forms (and every form already linked to one of them)."""
        keyed = [(form_key(f), f) for f in forms]
        groups = {self._by_key[k] for k, _f in keyed if k in self._by_key}
        target = min(groups) if groups else len(self._groups)
        if not groups:
            self._groups.append({})
        for other in sorted(groups - {target}):
            for key, f in self._groups[other].items():
                self._groups[target].setdefault(key, f)
                self._by_key[key] = target
            self._groups[other] = {}
        for key, f in keyed:
            self._groups[target].setdefault(key, f)
            self._by_key[key] = target
            self.longest = max(self.longest, len(key))

    def others(self, key: tuple[str, ...], typed: str) -> list[str] | None:
        """The other forms of what was typed, or None if it is not a known form.

        `typed` is the text as written, for the case rule of short
        all-capitals abbreviations.
        """
        group = self._by_key.get(key)
        if group is None:
            return None
        forms = self._groups[group]
        mine = forms[key]
        if _case_sensitive(mine) and mine not in typed:
            return None
        return [f for k, f in forms.items() if k != key]

    def __len__(self) -> int:
        return sum(1 for g in self._groups if g)
