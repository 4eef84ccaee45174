"""Postings arrays (issue 18): the arrays a build writes beside Whoosh's
segments hold exactly Whoosh's postings, search reads them instead of
decoding blocks, and a build without them (or with broken ones) is read
the old way, with a warning, with the same results."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from searchapp.engine.whoosh import builds, columns
from searchapp.engine.whoosh.postings import ARRAYS_DIR, SegmentArrays, TermBlocks, read_postings
from searchapp.search import search
from tests.conftest import SEEDS, add, engine_at, rebuild

QUERIES = ["jokowi", "banjir jakarta", '"presiden joko widodo"', "pemilu 2019", "kpk -revisi", "polisi OR tni",
           "persija", ""]


def whoosh_postings(leaf):
    """Every term of a segment: (field, term) -> (documents, weights), decoded from Whoosh's blocks."""
    out = {}
    for (fieldname, text), info in leaf._terms.items():
        out[fieldname, text] = read_postings(leaf, fieldname, text)
    return out


def whoosh_positions(leaf, info) -> dict[int, list[int]]:
    blocks = TermBlocks.from_info(leaf, info)
    decode = leaf.schema["body"].format.decode_positions
    out = {}
    for b in range(len(blocks)):
        ids, _weights, values = blocks.decode(b)
        out.update({int(d): decode(v) for d, v in zip(ids, values)})
    return out


def check_arrays(build_dir) -> int:
    """Assert every segment's arrays hold Whoosh's postings, term for term; the postings compared."""
    ix = builds.open_build(build_dir)
    compared = 0
    with ix.reader() as reader:
        for leaf, _base in reader.leaf_readers():
            arrays = SegmentArrays.open(build_dir, leaf.segment().segment_id())
            assert arrays is not None
            for fieldname in ("title", "body", "body_exact", "id", "actor"):
                assert arrays.words(fieldname) == sorted(t.decode() for t in leaf.lexicon(fieldname)), fieldname
            assert arrays.words("published") is None  # dates are not text
            arrays.index_words(leaf)
            assert arrays.knows("body") or any(i.is_inlined() for (f, _t), i in leaf._terms.items() if f == "body")
            for fieldname in ("title", "body", "actor", "id"):
                if arrays.knows(fieldname):  # terms it lacks, before, between and after its own
                    for absent in ("", "0", "aaaa-tidak-ada", "jakartaa", "zzzz-tidak-ada", "\uffff"):
                        assert (arrays.lookup(fieldname, absent) is None) == (absent.encode() not in
                                                                              leaf.lexicon(fieldname)), absent
            for (fieldname, text), (docs, tf) in whoosh_postings(leaf).items():
                info = leaf.term_info(fieldname, text)
                got = arrays.postings(info)
                if info.is_inlined():
                    assert got is None and not arrays.knows(fieldname)
                    continue
                assert got is not None, (fieldname, text)
                assert np.array_equal(got[0], docs) and np.array_equal(got[1], tf), (fieldname, text)
                if arrays.knows(fieldname):  # found by the kept words, as by Whoosh's term dictionary
                    found = arrays.lookup(fieldname, text.decode() if isinstance(text, bytes) else text)
                    assert found is not None and found.doc_frequency() == info.doc_frequency(), (fieldname, text)
                    assert all(np.array_equal(x, y) for x, y in zip(arrays.postings(found), got))
                compared += len(docs)
                if fieldname in ("title", "body"):
                    expected = whoosh_positions(leaf, info)
                    assert arrays.positions(info, docs) == expected, (fieldname, text)
                    some = np.arange(0, leaf.doc_count_all(), 7)  # documents with and without the term
                    assert arrays.positions(info, some) == {d: p for d, p in expected.items() if d % 7 == 0}
            arrays.close()
    return compared


def results(index_dir) -> list:
    engine = engine_at(index_dir, "whoosh")
    try:
        out = []
        for q in QUERIES:
            found = search(engine, q, per_page=20, collapse="off")
            out.append((found["total"], [(h["id"], h["score"]) for h in found["hits"]], found["facets"]))
        return out
    finally:
        engine.close()


@pytest.fixture(scope="module")
def built(clickid_slice, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("arrays") / "index"
    rebuild([SEEDS, clickid_slice], index_dir, "whoosh", procs=1)
    return index_dir


def test_a_rebuild_writes_whooshs_postings_as_arrays(built):
    assert check_arrays(builds.live_build(built)) > 100_000


def test_the_words_of_a_field_are_read_from_the_arrays(built, tmp_path):
    engine = engine_at(built, "whoosh")
    try:
        snap = engine.snapshot()
        expected = [t.decode() for t in snap.reader.lexicon("body")]
        assert all(a is not None for a in snap.ranker.arrays)
        assert list(snap.words("body")) == expected and len(expected) > 5_000
    finally:
        engine.close()


def test_search_reads_the_arrays_and_a_build_without_them_the_same(built, tmp_path, caplog):
    with_arrays = results(built)
    assert with_arrays[0][0] > 0
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    shutil.rmtree(builds.live_build(copy) / ARRAYS_DIR)
    with caplog.at_level(logging.WARNING, "searchapp.engine.whoosh.ranking"):
        without = results(copy)
    assert "have no postings arrays" in caplog.text
    assert without == with_arrays


def test_broken_arrays_are_not_read(built, tmp_path, caplog):
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    docs = sorted((builds.live_build(copy) / ARRAYS_DIR).glob("*.docs.npy"))[0]
    docs.write_bytes(docs.read_bytes()[: docs.stat().st_size // 2])  # a file cut short
    with caplog.at_level(logging.WARNING, "searchapp.engine.whoosh.ranking"):
        assert results(copy) == results(built)
    assert "1 of" in caplog.text


def test_arrays_of_an_older_version_are_not_read(built, monkeypatch):
    build_dir = builds.live_build(built)
    ix = builds.open_build(build_dir)
    with ix.reader() as reader:
        segid = next(iter(reader.leaf_readers()))[0].segment().segment_id()
    SegmentArrays.open(build_dir, segid).close()
    monkeypatch.setattr("searchapp.engine.whoosh.postings.ARRAYS_VERSION", 99)
    assert SegmentArrays.open(build_dir, segid) is None


def test_an_add_writes_arrays_for_its_segments_and_drops_merged_ones(built, tmp_path, clickid_records):
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    records = clickid_records[600:650] + [{**clickid_records[0], "title": "Judul diganti untuk uji"}]
    for n in range(3):  # three adds: Whoosh's writer merges small segments
        path = tmp_path / f"more-{n}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[n::3]), "utf-8")
        add([path], copy)
    build_dir = builds.live_build(copy)
    check_arrays(build_dir)
    ix = builds.open_build(build_dir)
    with ix.reader() as reader:
        segids = {leaf.segment().segment_id() for leaf, _base in reader.leaf_readers()}
    on_disk = {p.name.split(".v")[0] for p in (build_dir / ARRAYS_DIR).glob("*.npy")}
    assert on_disk == segids
    engine = engine_at(copy, "whoosh")
    try:
        assert search(engine, '"Judul diganti untuk uji"')["total"] == 1
    finally:
        engine.close()
    assert_columns_from_arrays(built)
    assert_columns_from_arrays(copy)


def assert_columns_from_arrays(index_dir) -> None:
    """A build's facet columns read a field at a time from the arrays equal
    those read term by term, also with a segment read without its arrays;
    so do the live articles' document numbers by id."""
    engine = engine_at(index_dir, "whoosh")
    try:
        snap = engine.snapshot()
        arrays = snap.ranker.arrays
        slow = columns.load(snap.reader)
        for fast in (columns.load(snap.reader, arrays), columns.load(snap.reader, [None, *arrays[1:]])):
            assert fast.facets.keys() == slow.facets.keys()
            for name, facet in slow.facets.items():
                assert fast.facets[name].values == facet.values and facet.values, name
                for part in ("by_value_docs", "value_ptr", "by_doc_values", "by_doc_docs", "doc_ptr"):
                    assert np.array_equal(getattr(fast.facets[name], part), getattr(facet, part)), (name, part)
        numbers = columns.id_numbers(snap.reader, arrays, slow.live)
        assert len(numbers) == slow.live.sum() and all(snap._live_doc(i) == d for i, d in numbers.items())
        assert columns.id_numbers(snap.reader, [None, *arrays[1:]], slow.live) is None
    finally:
        engine.close()


def test_derived_arrays_equal_the_ones_a_rebuild_writes(built, tmp_path):
    """`derive` (for segments Whoosh's writer made) reads back what the lean writer wrote."""
    build_dir = builds.live_build(built)
    ix = builds.open_build(build_dir)
    with ix.reader() as reader:
        leaf = next(iter(reader.leaf_readers()))[0]
        segid = leaf.segment().segment_id()
        written = SegmentArrays.open(build_dir, segid)
        SegmentArrays.derive(tmp_path, leaf)
    derived = SegmentArrays.open(tmp_path, segid)
    try:
        for part in ("docs", "tf", "pos_starts", "pos"):
            mine, theirs = getattr(derived, part), getattr(written, part)
            assert np.array_equal(mine.read(0, len(mine)), theirs.read(0, len(theirs))), part
        assert np.array_equal(derived.offsets, written.offsets) and np.array_equal(derived.starts, written.starts)
        assert all(derived.words(f) == written.words(f) for f in ("title", "body", "body_exact", "outlet", "published"))
    finally:
        derived.close()
        written.close()


def test_term_blocks_from_info_equal_by_name(built):
    ix = builds.open_build(builds.live_build(built))
    with ix.reader() as reader:
        leaf = next(iter(reader.leaf_readers()))[0]
        info = leaf.term_info("body", "banjir")
        by_name, by_info = TermBlocks(leaf, "body", "banjir"), TermBlocks.from_info(leaf, info)
        assert [by_name.decode(b)[0].tolist() for b in range(len(by_name))] == \
            [by_info.decode(b)[0].tolist() for b in range(len(by_info))]

