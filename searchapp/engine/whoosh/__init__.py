"""The Whoosh engine: an embedded index directory, the default engine.

Every `whoosh` import of searchapp is in this package. Whoosh is pinned
(setup.cfg: whoosh-reloaded==2.7.5) because these modules touch its private
internals, each for a measured reason; the version is checked on import, and
each touch has a test that fails if a Whoosh release changes it:

| where | private touch | why | guarded by |
|---|---|---|---|
| postings.py | `leaf._terms._postfile`, W3 block layout (header, pickled ids/weights, zlib) | read a term's postings as numpy arrays, block by block | tests/test_whoosh_engine.py::test_ranking_equals_whoosh_matchers, ::test_updated_articles_in_several_segments |
| columns.py | `col._default`, `_typecode`, `_dbfile`, `_basepos`, `_count`, `_fixedlen` | a numeric column in one read | tests/test_whoosh_engine.py::test_columns_read_days_and_deletions |
| ranking.py | `whoosh3._lenfield`, `leaf._perdoc._cached_reader` | the byte-quantised field lengths BM25F uses | tests/test_whoosh_engine.py::test_ranking_equals_whoosh_matchers |
| ranking.py | a copy of `SpanNear2Matcher._get_spans` | the proximity test on position lists | tests/test_whoosh_engine.py::test_deep_pages_and_proximity_pruning_stay_exact |
| segments.py | `field.format.__class__` swap, `SegmentWriter._commit_toc`, `_flush_segment`'s writing, `W3TermInfo._struct`, `codec._inlinelimit/_blocklimit/_compression` | a lean segment writer for rebuilds | tests/test_segments.py (stock bytes, same index parallel and split) |
| builder.py | `SegmentWriter._close_segment`, `_commit_toc`, `_finish` | one table of contents over the workers' segments | tests/test_segments.py, tests/test_rebuild.py |
| builds.py | the `_MAIN_<n>.toc` file name | notice an `add`'s commit with one listdir | tests/test_rebuild.py::test_add_twice_gives_one_document_and_survives_rebuild |
| storage.py | a `StructFile` over a pread file; `W3PerDocReader._cached_reader`, `column_reader`, `deleted_docs_set` warmed at open | threads read one opened index at once | tests/test_whoosh_engine.py::test_threads_share_one_snapshot |
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

WHOOSH_VERSION = "2.7.5"


def _check_version() -> None:
    try:
        found = version("whoosh-reloaded")
    except PackageNotFoundError:
        found = None
    if found != WHOOSH_VERSION:
        raise ImportError(
            f"searchapp's Whoosh engine needs whoosh-reloaded=={WHOOSH_VERSION} (it reads Whoosh internals), "
            f"found {found or 'none'}: pip install 'whoosh-reloaded=={WHOOSH_VERSION}'"
        )


_check_version()
