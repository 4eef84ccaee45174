"""The CLI: commands, JSON output, env defaults and clear errors (no tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchapp.cli import main

from tests.conftest import SEEDS, write_jsonl
from searchapp.engine.whoosh import builds


def test_rebuild_search_stats(runner, tmp_path):
    index_dir = str(tmp_path / "index")
    result = runner.invoke(main, ["rebuild", "--corpus", str(SEEDS), "--index", index_dir])
    assert result.exit_code == 0, result.output
    assert "indexed 5 articles" in result.output and "skipped 0" in result.output

    result = runner.invoke(main, ["search", "Taliban", "--index", index_dir, "--json"])
    data = json.loads(result.output)
    assert data["total"] == 5
    assert set(data) >= {"query", "total", "page", "per_page", "took_ms", "hits", "facets"}
    assert set(data["hits"][0]) >= {"id", "title", "outlet", "published", "url", "actor", "topic", "score", "snippet"}

    result = runner.invoke(main, ["search", "Moskow", "--actor", "Rusia", "--index", index_dir])
    assert result.exit_code == 0
    assert "[Moskow]" in result.output

    result = runner.invoke(main, ["stats", "--index", index_dir, "--json"])
    assert json.loads(result.output)["documents"] == 5
    result = runner.invoke(main, ["stats", "--index", index_dir])
    assert "documents  5" in result.output and "Taliban" in result.output


def test_env_defaults(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHAPP_CORPUS", str(SEEDS))
    monkeypatch.setenv("SEARCHAPP_INDEX", str(tmp_path / "idx"))
    assert runner.invoke(main, ["rebuild"]).exit_code == 0
    assert json.loads(runner.invoke(main, ["search", "Taliban", "--json"]).output)["total"] == 5


def test_add_twice_is_one_document(runner, tmp_path):
    index_dir = str(tmp_path / "index")
    runner.invoke(main, ["rebuild", "--corpus", str(SEEDS), "--index", index_dir])
    extra = write_jsonl(tmp_path / "x.jsonl", [{"id": "x", "title": "Kopi", "body": "Kopi Gayo."}])
    for _ in range(2):
        result = runner.invoke(main, ["add", str(extra), "--index", index_dir])
        assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(main, ["stats", "--index", index_dir, "--json"]).output)
    assert stats["documents"] == 6


@pytest.mark.parametrize(
    "args,message",
    [
        (["search", "x"], "no index"),
        (["stats"], "no index"),
        (["rebuild", "--corpus", "/nonexistent/path"], "corpus path not found"),
        (["add", "/nonexistent/file.jsonl"], "no index"),
    ],
)
def test_user_errors_are_messages_not_tracebacks(runner, tmp_path, args, message):
    result = runner.invoke(main, [*args, "--index", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["--page", "abc"], "page must be a whole number"),
        (["--per-page", "1000"], "per_page must be between"),
        (["--from", "yesterday"], "from must be a date"),
    ],
)
def test_bad_search_options(runner, seed_index, args, message):
    result = runner.invoke(main, ["search", "Taliban", "--index", str(seed_index), *args])
    assert result.exit_code == 1
    assert message in result.output


def test_concurrent_rebuild_message(runner, tmp_path):
    index_dir = tmp_path / "index"
    with builds.locked(index_dir):
        result = runner.invoke(main, ["rebuild", "--corpus", str(SEEDS), "--index", str(index_dir)])
    assert result.exit_code == 1
    assert "another rebuild or add is running" in result.output


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_and_stops_on_sigterm(seed_index, workers):
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "searchapp", "serve", "--index", str(seed_index), "--port", "0",
         "--workers", str(workers)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        line = proc.stdout.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        for _ in range(workers * 2):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=Taliban", timeout=10) as resp:
                assert json.load(resp)["total"] == 5
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == workers - 1  # the first process serves too
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) is not None
    assert not [c for c in children if Path(f"/proc/{c}").exists()]  # stopped with it


def test_server_limits_and_proxy_headers(seed_index):
    """Oversize headers → 431, oversize bodies → 413; X-Forwarded-* is not trusted."""
    import http.client
    import re
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "searchapp", "serve", "--index", str(seed_index), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))

        def status(method, headers=None, body=None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, "/api/search?q=Taliban", body=body, headers=headers or {})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            return resp.status, resp

        assert status("GET", {"X-Big": "x" * 40_000})[0] == 431
        assert status("POST", {"Content-Type": "text/plain"}, "x" * 200_000)[0] == 413
        code, resp = status("GET", {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
        assert code == 200
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/?q=x", headers={"X-Forwarded-Host": "evil.example"})
        page = conn.getresponse().read().decode()
        assert "evil.example" not in page
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
