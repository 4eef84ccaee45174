"""What a page of hits shows around them: the facet sidebar, "Dicari sebagai"
(how the query was read) and the pagination; and the quotes page's speakers
and pager.

Each turns the search dict into what search.html draws, so the template keeps
no logic beyond loops and conditions.
"""

from __future__ import annotations

from searchapp.search.request import MAX_WINDOW
from searchapp.web.params import SearchState
from searchapp import facets

FACET_VISIBLE = 8


def facet_groups(result: dict) -> list[dict]:
    """Sidebar groups: the top values visible, the rest folded, selected ones never folded away."""
    groups = []
    for spec in sorted(facets.FACETS, key=lambda f: f.sidebar):
        name = spec.name
        facet = result["facets"][name]
        rows = facet["results"]
        if not rows:
            continue
        visible = [r for i, r in enumerate(rows) if i < FACET_VISIBLE or r["selected"]]
        more = [r for i, r in enumerate(rows) if i >= FACET_VISIBLE and not r["selected"]]
        groups.append({"name": name, "label": spec.label, "visible": visible, "more": more,
                       "truncated": facet["truncated"]})
    return groups


def reading(result: dict) -> dict:
    """How the query was searched: each word, its stem and the written forms of
    that stem it matched in the corpus; prefix patterns; actor alias,
    abbreviation and name-spelling expansions."""
    searched = result.get("searched_as") or {}
    aliases = list(dict.fromkeys((a["alias"], a["actor"]) for a in searched.get("actors", [])))
    alias_words = {part for alias, _actor in aliases for part in alias.lower().split()}
    words, seen = [], set()
    for w in searched.get("words", []):
        key = (w["word"].lower(), w["stem"])
        forms = list(w.get("forms") or [])
        changed = bool(w["stem"]) and w["stem"] != w["word"].lower()
        if key in seen or (not changed and not forms and key[0] in alias_words):
            continue  # a name searched as an actor says it better below
        seen.add(key)
        words.append({"word": w["word"], "stem": w["stem"], "forms": forms, "changed": changed})
    stems = [(w["word"], w["stem"]) for w in words if w["changed"]]
    synonyms = [(s["typed"], s["forms"]) for s in searched.get("synonyms", [])]
    spellings = [(s["typed"], s["variants"]) for s in searched.get("spellings", [])]
    return {"words": words, "stems": stems, "aliases": aliases, "synonyms": synonyms, "spellings": spellings,
            "shown": bool(stems or aliases or synonyms or spellings
                          or any(w["forms"] or not w["stem"] for w in words))}


def pagination(result: dict) -> dict:
    """Pagination: last page reachable (search() serves 10,000 hits deep) and the numbers to show."""
    per_page, page = result["per_page"], result["page"]
    listed = result["stories"] if result["collapse"] else result["total"]
    last = max(1, min(-(-listed // per_page), MAX_WINDOW // per_page))
    return {"last": last, "numbers": _numbers(page, last), "first_hit": (page - 1) * per_page + 1,
            "last_hit": (page - 1) * per_page + len(result["hits"])}


def _numbers(page: int, last: int) -> list[int | None]:
    """The page numbers a pager shows: first, last, two either side of this one, None for a gap."""
    numbers: list[int | None] = []
    for n in sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)}):
        if numbers and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def quote_view(result: dict, state: SearchState) -> dict:
    """The quotes page's speakers (each a link adding or removing it) and its
    pager (links keeping the speakers chosen)."""
    chosen = tuple(result["speaker"])
    per_page, page = result["per_page"], result["page"]
    speakers = [{**r, "href": state.quotes_url(tuple(v for v in chosen if v != r["value"]) if r["selected"]
                                               else (*chosen, r["value"]), per_page=per_page)}
                for r in result["speakers"]["results"]]
    last = max(1, min(-(-result["total"] // per_page), MAX_WINDOW // per_page))
    return {"speakers": speakers, "last": last,
            "pages": [(n, None if n is None else state.quotes_url(chosen, n, per_page)) for n in _numbers(page, last)],
            "prev": state.quotes_url(chosen, page - 1, per_page) if page > 1 else None,
            "next": state.quotes_url(chosen, page + 1, per_page) if page < last else None,
            "first": (page - 1) * per_page + 1, "last_shown": (page - 1) * per_page + len(result["quotes"])}
