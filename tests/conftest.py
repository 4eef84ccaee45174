"""Shared fixtures: per-test indexes built from real corpora, flaskr-style app/client/runner."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp.engine import open_engine
from searchapp.engine.base import Engine
from searchapp.search.request import Request
from searchapp.search.service import select
from searchapp.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus"
ENGINE = os.environ.get("SEARCHAPP_TEST_ENGINE", "whoosh")  # the suite runs against every engine


def engine_at(index_dir, **options):
    """The engine under test on an index location."""
    return open_engine(index_dir, ENGINE, **options)


def _with_engine(index_dir, work):
    engine = engine_at(index_dir)
    try:
        return work(engine)
    finally:
        engine.close()


def rebuild(corpus_paths, index_dir, **kwargs):
    return _with_engine(index_dir, lambda engine: engine.rebuild(corpus_paths, **kwargs))


def matching_ids(engine, q: str) -> set[str]:
    """The ids of every article a query matches (no ranking, no paging)."""
    sel = select(engine, Request.make(q))
    return {sel.snapshot.article(d)["id"] for d in sel.snapshot.docs(sel.rs)}


def add(paths, index_dir, **kwargs):
    return _with_engine(index_dir, lambda engine: engine.add(paths, **kwargs))
CLICKID = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"


@pytest.fixture
def seed_index(tmp_path) -> Path:
    """An index of the five seed articles, built in the test's tmp dir."""
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    return index_dir


@pytest.fixture
def live(seed_index):
    live = engine_at(seed_index)
    yield live
    live.close()


@pytest.fixture(scope="session")
def clickid_slice(tmp_path_factory) -> Path:
    """The first 600 articles of the real 2019 corpus as a .jsonl file."""
    if not CLICKID.exists():
        pytest.skip(f"{CLICKID} not present")
    path = tmp_path_factory.mktemp("clickid") / "slice.jsonl"
    with gzip.open(CLICKID, "rt", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as dst:
        dst.writelines(islice(src, 600))
    return path


@pytest.fixture(scope="session")
def clickid_records() -> list[dict]:
    """Every article of the real 2019 corpus, as read from its JSON lines."""
    if not CLICKID.exists():
        pytest.skip(f"{CLICKID} not present")
    with gzip.open(CLICKID, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def clickid_index(tmp_path_factory, clickid_slice) -> Path:
    index_dir = tmp_path_factory.mktemp("clickid-index")
    rebuild([clickid_slice], index_dir)
    return index_dir


@pytest.fixture(scope="module")
def clickid_app(clickid_index):
    """The app over the 600-article slice of the real corpus."""
    app = create_app({"TESTING": True, "INDEX_DIR": str(clickid_index), "ENGINE": ENGINE})
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def cclient(clickid_app):
    return clickid_app.test_client()


@pytest.fixture(scope="module")
def clive(clickid_index):
    """The engine over the 600-article slice of the real corpus."""
    live = engine_at(clickid_index)
    yield live
    live.close()


@pytest.fixture
def app(seed_index):
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "ENGINE": ENGINE})
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def app_factory():
    """Apps over other indexes than the seeds'; closed at the end of the test."""
    made = []

    def make(index_dir):
        app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "ENGINE": ENGINE})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["searchapp.engine"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def live_from(tmp_path):
    """Index records (dicts) into the test's tmp dir and open the live index."""
    opened = []

    def make(records: list[dict], name: str = "articles") -> Engine:
        corpus = write_jsonl(tmp_path / f"{name}.jsonl", records)
        rebuild([corpus], tmp_path / f"{name}-index")
        opened.append(engine_at(tmp_path / f"{name}-index"))
        return opened[-1]

    yield make
    for live in opened:
        live.close()


@contextmanager
def indexed(records: list[dict], directory: Path) -> Iterator[Engine]:
    """The live index of these records, built in `directory`, closed after."""
    write_jsonl(directory / "articles.jsonl", records)
    rebuild([directory / "articles.jsonl"], directory / "index", procs=1)
    live = engine_at(directory / "index")
    try:
        yield live
    finally:
        live.close()


def copy_seeds(directory: Path) -> Path:
    """A corpus folder holding copies of the five seed articles."""
    directory.mkdir()
    for seed in SEEDS.glob("*.txt"):
        (directory / seed.name).write_bytes(seed.read_bytes())
    return directory


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path
