"""Outlet facet: which news outlet published an article.

Metadata spells one outlet many ways ("kompas.com", "KOMPAS.com",
"regional.kompas.com"); raw .txt articles carry no metadata at all, only a
dateline ("JAKARTA, KOMPAS.com -"), a house footer or a URL. Both are resolved
against data/outlets.tsv so the facet shows one display name per outlet and
never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from searchapp.errors import SearchappError

# How far into a raw article a masthead may sit (site menus come first).
_MASTHEAD_LINES = 40
_DASH = r"[-–—]"


class OutletDataError(SearchappError, ValueError):
    """The packaged outlet table is malformed."""


@dataclass(frozen=True)
class _Outlet:
    name: str
    domains: tuple[str, ...]
    mastheads: tuple[str, ...]
    footers: tuple[str, ...]


def _key(name: str) -> str:
    """Spelling-insensitive lookup key: "Intisari - Online.com" == "intisari-online.com"."""
    return re.sub(r"[^0-9a-z.]", "", name.casefold())


def _split(col: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in col.split("|") if part.strip())


@cache
def _outlets() -> tuple[_Outlet, ...]:
    text = resources.files("searchapp.data").joinpath("outlets.tsv").read_text("utf-8")
    outlets = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t") + ["", "", ""]
        if not cols[0].strip() or not _split(cols[1]):
            raise OutletDataError(f"outlets.tsv, line {lineno}: needs a name and a domain")
        outlets.append(
            _Outlet(
                cols[0].strip(),
                tuple(d.lower() for d in _split(cols[1])),
                _split(cols[2]),
                _split(cols[3]),
            )
        )
    return tuple(outlets)


@cache
def _by_domain() -> dict[str, str]:
    return {domain: o.name for o in _outlets() for domain in o.domains}


@cache
def _by_key() -> dict[str, str]:
    table = {}
    for o in _outlets():
        for form in (o.name, *o.mastheads, *o.domains):
            table.setdefault(_key(form), o.name)
    return table


@cache
def _masthead_re() -> re.Pattern[str]:
    forms = {m: o.name for o in _outlets() for m in (*o.mastheads, *o.domains)}
    alternation = "|".join(re.escape(m) for m in sorted(forms, key=len, reverse=True))
    # [City, | City ] [(] MASTHEAD [)] [, City] -     or     MASTHEAD, City
    return re.compile(
        r"^[ \t]*(?:[A-Z][A-Za-z .'/]{0,40}?(?:,\s*|\s+(?=\()))?\(?"
        rf"(?P<m>{alternation})\)?"
        rf"(?:(?:[ \t]*,[ \t]*[A-Z][^\n,]{{0,40}}?)?[ \t]*{_DASH}|[ \t]*,[ \t]*[A-Z][A-Za-z]+\b)",
        re.IGNORECASE | re.MULTILINE,
    )


@cache
def _footer_re() -> re.Pattern[str] | None:
    footers = [f for o in _outlets() for f in o.footers]
    if not footers:
        return None
    alternation = "|".join(re.escape(f) for f in sorted(footers, key=len, reverse=True))
    return re.compile(alternation, re.IGNORECASE)


def _host_outlet(host: str) -> str | None:
    """Outlet of a host name or of its nearest registered parent domain."""
    labels = host.lower().strip(".").split(".")
    table = _by_domain()
    for i in range(len(labels) - 1):
        name = table.get(".".join(labels[i:]))
        if name is not None:
            return name
    return None


def canonical(name: str | None) -> str | None:
    """Display name for an outlet string from metadata, text or a domain.

    An unknown non-blank name comes back stripped: metadata is the user's
    word, not something to second-guess.
    """
    if name is None or not name.strip():
        return None
    name = name.strip()
    found = _by_key().get(_key(name))
    if found is None and "." in name and " " not in name:
        found = _host_outlet(name.removeprefix("www."))
    return found or name


def from_url(url: str | None) -> str | None:
    """Known outlet of a URL's host (subdomains included), else None."""
    if not url or not url.strip():
        return None
    url = url.strip()
    if "//" not in url:
        url = "//" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return _host_outlet(host) if host else None


def detect(text: str, url: str | None = None) -> str | None:
    """Outlet of a raw article: from its URL, its dateline or a house footer.

    Only outlets in the data file are returned; no match means None.
    """
    found = from_url(url)
    if found:
        return found
    head = "\n".join(text.splitlines()[:_MASTHEAD_LINES])
    m = _masthead_re().search(head)
    if m:
        return canonical(m.group("m"))
    footer = _footer_re()
    m = footer.search(text) if footer else None
    if m:
        lowered = m.group().casefold()
        return next(o.name for o in _outlets() if any(f.casefold() == lowered for f in o.footers))
    return None
