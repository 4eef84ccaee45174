"""Engines: where analysed articles are indexed and searched.

`base` is the boundary every engine implements; `plan` the query plan they
translate; `document` the analysed article they index; `tables` what a build
keeps beside its index. Each engine is one package: `whoosh` (the embedded
default, an index directory on this machine) and `opensearch` (an index on an
OpenSearch cluster, past one machine).
"""

from __future__ import annotations

import os
from importlib import import_module

from searchapp.engine.base import Engine
from searchapp.errors import SearchappError

ENGINES = {"whoosh": "searchapp.engine.whoosh.engine:WhooshEngine",
           "opensearch": "searchapp.engine.opensearch.engine:OpenSearchEngine"}
DEFAULT = "whoosh"


class UnknownEngine(SearchappError):
    """An engine name searchapp does not have."""


def open_engine(location: str | os.PathLike, engine: str | None = None, **options) -> Engine:
    """The engine of that name (default: $SEARCHAPP_ENGINE or whoosh) on an
    index location; engines are imported only when chosen."""
    name = engine or os.environ.get("SEARCHAPP_ENGINE") or DEFAULT
    if name not in ENGINES:
        raise UnknownEngine(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(import_module(module), cls)(location, **options)
