"""Shared fixtures: per-test indexes built from real corpora, flaskr-style app/client/runner."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp.engine.whoosh import builder as indexer
from searchapp.search.service import LiveIndex
from searchapp.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus"
CLICKID = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"


@pytest.fixture
def seed_index(tmp_path) -> Path:
    """An index of the five seed articles, built in the test's tmp dir."""
    index_dir = tmp_path / "index"
    indexer.rebuild([SEEDS], index_dir, procs=1)
    return index_dir


@pytest.fixture
def live(seed_index):
    live = LiveIndex(seed_index)
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
    indexer.rebuild([clickid_slice], index_dir)
    return index_dir


@pytest.fixture
def app(seed_index):
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index)})
    yield app
    app.extensions["searchapp.index"].close()


@pytest.fixture
def app_factory():
    """Apps over other indexes than the seeds'; closed at the end of the test."""
    made = []

    def make(index_dir):
        app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["searchapp.index"].close()


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

    def make(records: list[dict], name: str = "articles") -> LiveIndex:
        corpus = write_jsonl(tmp_path / f"{name}.jsonl", records)
        indexer.rebuild([corpus], tmp_path / f"{name}-index")
        opened.append(LiveIndex(tmp_path / f"{name}-index"))
        return opened[-1]

    yield make
    for live in opened:
        live.close()


@contextmanager
def indexed(records: list[dict], directory: Path) -> Iterator[LiveIndex]:
    """The live index of these records, built in `directory`, closed after."""
    write_jsonl(directory / "articles.jsonl", records)
    indexer.rebuild([directory / "articles.jsonl"], directory / "index", procs=1)
    live = LiveIndex(directory / "index")
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
