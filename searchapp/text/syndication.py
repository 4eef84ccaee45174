"""What an article's text says about where it came from, and the words two
copies of it share.

Indonesian outlets republish wire copy, press releases and each other's
articles, and say so in the text: a wire dateline ("JAKARTA (ANTARA) -"),
"dikutip dari Kompas.com", "Sumber: Reuters", "siaran pers yang diterima".
The patterns are a data file (data/syndication.tsv). `comparable` gives
the body as the story clustering compares it, without the teasers an outlet
adds to its copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from searchapp.ingest import outlets
from searchapp.text.analysis import read_lines

KINDS = ("dateline", "kutipan", "sumber", "rilis")
_TEASER_RE = re.compile(r"\b(?:baca|simak|lihat)\s+(?:juga|pula|selengkapnya)\s*:[^.,\n]{0,160}")  # on lowercased text
_NOT_SOURCES = {"laman", "situs", "berbagai", "akun", "media", "keterangan", "sumber", "oleh", "pada", "dari"}


@dataclass(frozen=True)
class Marker:
    """One syndication marker: its kind, the source it names (an outlet's
    display name when known, else as written; None for a press release) and
    the text that matched."""

    kind: str
    source: str | None
    text: str


@cache
def _rules() -> tuple[tuple[str, re.Pattern[str]], ...]:
    rules = []
    for line in read_lines("syndication.tsv"):
        kind, _, pattern = line.partition("\t")
        if kind not in KINDS:
            raise ValueError(f"syndication.tsv: unknown kind {kind!r}")
        rules.append((kind, re.compile(pattern, re.MULTILINE)))
    return tuple(rules)


def _source(written: str | None) -> str | None:
    if not written:
        return None
    written = written.strip(" .,-")
    if not written or written.split()[0].lower() in _NOT_SOURCES:
        return None
    known = outlets.canonical(written)
    if known != written:
        return known
    first = outlets.canonical(written.split()[0])  # "Kompas.com dari" → Kompas.com
    return first if first != written.split()[0] else written


def markers(body: str) -> list[Marker]:
    """The syndication markers of a body, in rule order, each (kind, source) once."""
    found: dict[tuple[str, str | None], Marker] = {}
    for kind, rule in _rules():
        text = body[:400] if kind == "dateline" else body
        for m in rule.finditer(text):
            source = _source(m.groupdict().get("src"))
            if kind != "rilis" and source is None:
                continue
            found.setdefault((kind, source), Marker(kind, source, m.group().strip()))
    return list(found.values())


def sources(body: str) -> set[str]:
    """The outlets and agencies a body names as its origin."""
    return {m.source for m in markers(body) if m.source}


def comparable(body: str) -> str:
    """The body as copies of one text share it: lowercased, without the
    teasers of other stories an outlet inserts ("Baca juga: ...")."""
    lowered = body.lower()
    return _TEASER_RE.sub(" ", lowered) if ":" in lowered else lowered
