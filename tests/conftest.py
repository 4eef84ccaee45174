"""Shared fixtures: per-test indexes built from real corpora, flaskr-style app/client/runner."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
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
DEFAULT_ENGINE = os.environ.get("SEARCHAPP_TEST_ENGINE", "whoosh")
UNDER_TEST = {"engine": DEFAULT_ENGINE}  # set per test by the `engine_name` fixture
OPENSEARCH_CREATED: set[str] = set()  # index names made on the test cluster
SESSION_INDEXES: set[str] = set()  # of those, the ones session fixtures made: kept until the session ends


def pytest_configure(config):
    config.addinivalue_line("markers", "engines: engine-neutral tests, run against every engine")
    config.addinivalue_line("markers", "engine_only(name): in an engine-neutral module, a test of one engine's own way")


def _opensearch_param():
    if importlib.util.find_spec("opensearchpy") is None:
        return pytest.param("opensearch", marks=pytest.mark.skip(reason="opensearch-py not installed"))
    if os.environ.get("SEARCHAPP_OPENSEARCH_URL"):
        return "opensearch"
    from searchapp.engine.opensearch.devcluster import unavailable

    reason = unavailable()
    if reason:
        return pytest.param("opensearch", marks=pytest.mark.skip(reason=f"no OpenSearch test cluster: {reason}"))
    return "opensearch"


def pytest_generate_tests(metafunc):
    """Engine-neutral modules (pytestmark = pytest.mark.engines) run once per engine."""
    if "engine_name" in metafunc.fixturenames and metafunc.definition.get_closest_marker("engines"):
        only = metafunc.definition.get_closest_marker("engine_only")
        engines = [only.args[0]] if only else ["whoosh", _opensearch_param()]
        metafunc.parametrize("engine_name", engines, indirect=True, scope="session")


@pytest.fixture(scope="session")
def opensearch_cluster(tmp_path_factory):
    """A 3-node OpenSearch cluster from Maven Central artifacts (or the one
    SEARCHAPP_OPENSEARCH_URL names), its URL in the environment."""
    if os.environ.get("SEARCHAPP_OPENSEARCH_URL"):
        yield os.environ["SEARCHAPP_OPENSEARCH_URL"]
        return
    from searchapp.engine.opensearch.devcluster import DevCluster

    with DevCluster(nodes=3, workdir=tmp_path_factory.mktemp("opensearch")) as cluster:
        os.environ["SEARCHAPP_OPENSEARCH_URL"] = cluster.url
        try:
            yield cluster
        finally:
            del os.environ["SEARCHAPP_OPENSEARCH_URL"]


@pytest.fixture(scope="session")
def engine_name(request):
    """The engine the test runs against (the cluster started when it is opensearch)."""
    name = UNDER_TEST["engine"] = getattr(request, "param", DEFAULT_ENGINE)
    if name == "opensearch":
        request.getfixturevalue("opensearch_cluster")
        os.environ.setdefault("SEARCHAPP_OPENSEARCH_SHARDS", "1")  # fast per-test indexes; the
        os.environ.setdefault("SEARCHAPP_OPENSEARCH_REPLICAS", "0")  # cluster tests ask for 3 and 1
    yield name
    if name == "opensearch":  # a cluster the run did not start keeps nothing of it
        _drop_opensearch_indexes(SESSION_INDEXES & OPENSEARCH_CREATED)


@pytest.fixture(autouse=True)
def _engine_under_test(engine_name):
    """Runs after the session and module fixtures (which must ask for
    `engine_name`); drops the cluster indexes the test itself made."""
    UNDER_TEST["engine"] = engine_name
    before = set(OPENSEARCH_CREATED)
    yield
    if engine_name == "opensearch":
        _drop_opensearch_indexes(OPENSEARCH_CREATED - before)
        OPENSEARCH_CREATED.intersection_update(before)


@pytest.fixture(scope="module", autouse=True)
def _module_indexes(engine_name):
    """Drops the cluster indexes a module's fixtures made once the module is
    done: a whole run's would fill a small cluster's shard budget."""
    before = set(OPENSEARCH_CREATED)
    yield
    if engine_name == "opensearch":
        made = OPENSEARCH_CREATED - before - SESSION_INDEXES
        _drop_opensearch_indexes(made)
        OPENSEARCH_CREATED.difference_update(made)


def _drop_opensearch_indexes(names) -> None:
    if not names:
        return
    from opensearchpy import OpenSearch

    client = OpenSearch(os.environ["SEARCHAPP_OPENSEARCH_URL"])
    for name in names:
        client.indices.delete(index=f"{name}-*", ignore=404, params={"expand_wildcards": "all"})
    client.close()


def engine_options(index_dir, engine: str | None = None) -> dict:
    """What the engine under test needs besides the location: for opensearch,
    an index name of the location's own."""
    if (engine or UNDER_TEST["engine"]) != "opensearch":
        return {}
    name = _index_name(index_dir)
    OPENSEARCH_CREATED.add(name)
    return {"index": name}


def _index_name(index_dir) -> str:
    return "t-" + hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()[:16]


def engine_at(index_dir, engine: str | None = None, **options):
    """The engine under test on an index location."""
    name = engine or UNDER_TEST["engine"]
    return open_engine(index_dir, name, **{**engine_options(index_dir, name), **options})


def cli_index(index_dir, engine: str | None = None) -> list[str]:
    """The CLI options naming the index under test."""
    name = engine or UNDER_TEST["engine"]
    options = engine_options(index_dir, name)
    return ["--index", str(index_dir), "--engine", name, *(["--opensearch-index", options["index"]] if options else [])]


def app_config(index_dir, engine: str | None = None) -> dict:
    name = engine or UNDER_TEST["engine"]
    return {"TESTING": True, "INDEX_DIR": str(index_dir), "ENGINE": name,
            "ENGINE_OPTIONS": engine_options(index_dir, name)}


def _with_engine(index_dir, work):
    engine = engine_at(index_dir)
    try:
        return work(engine)
    finally:
        engine.close()


def rebuild(corpus_paths, index_dir, engine: str | None = None, **kwargs):
    built = engine_at(index_dir, engine)
    try:
        return built.rebuild(corpus_paths, **kwargs)
    finally:
        built.close()


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
def clickid_index(tmp_path_factory, clickid_slice, engine_name) -> Path:
    index_dir = tmp_path_factory.mktemp("clickid-index")
    SESSION_INDEXES.add(_index_name(index_dir))
    rebuild([clickid_slice], index_dir, engine=engine_name)
    return index_dir


@pytest.fixture(scope="module")
def clickid_app(clickid_index, engine_name):
    """The app over the 600-article slice of the real corpus."""
    app = create_app(app_config(clickid_index, engine_name))
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def cclient(clickid_app):
    return clickid_app.test_client()


@pytest.fixture(scope="module")
def clive(clickid_index, engine_name):
    """The engine over the 600-article slice of the real corpus."""
    live = engine_at(clickid_index, engine_name)
    yield live
    live.close()


@pytest.fixture
def app(seed_index):
    app = create_app(app_config(seed_index))
    yield app
    app.extensions["searchapp.engine"].close()


@pytest.fixture
def app_factory():
    """Apps over other indexes than the seeds'; closed at the end of the test."""
    made = []

    def make(index_dir):
        app = create_app(app_config(index_dir))
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
    """The CLI in this process; what its --opensearch* options put in the
    environment (for the engine and serving processes) is undone after."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SEARCHAPP_OPENSEARCH")}
    yield CliRunner()
    for key in [k for k in os.environ if k.startswith("SEARCHAPP_OPENSEARCH")]:
        del os.environ[key]
    os.environ.update(saved)


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
