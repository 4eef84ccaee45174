"""The OpenSearch engine: searchapp's own analysis, an OpenSearch cluster's storage.

Articles are analysed in Python exactly as for the Whoosh engine (tokens,
Sastrawi with exceptions and protected names, exact forms, lead, facets); the
cluster stores the terms in whitespace-analysed fields and the text as written
for snippets, and answers the engine-neutral query plan (translate.py) with
its own ranking, aggregations and scrolling. Every OpenSearch call lives in
this package; `opensearch-py` is the optional extra `searchapp[opensearch]`.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("opensearchpy") is None:  # the extra is optional: say how to get it
    raise ImportError("the OpenSearch engine needs opensearch-py: pip install 'searchapp[opensearch]'")
