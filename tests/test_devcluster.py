"""The local OpenSearch cluster of `searchapp devcluster` (devcluster.py and its
Java launcher): a real 3-node cluster, one JVM per node, a node killed for real.

Skipped, with the reason, where Java 17 or Maven is missing. The 3-node cluster
is started once for the module; its tests run in file order and the last one
stops it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from searchapp.engine.opensearch.devcluster import DevCluster, DevClusterError, unavailable

REASON = unavailable()
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
needs_java = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def call(url: str, method: str = "GET", body: dict | None = None, timeout: float = 60) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with LOCAL.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def health(url: str, **wait: str) -> dict:
    """The cluster's health once it is as asked (retried while a cluster manager is elected)."""
    query = "&".join(f"{key}={value}" for key, value in {**wait, "timeout": "30s"}.items())
    deadline = time.monotonic() + 90
    while True:
        status, body = call(f"{url}/_cluster/health?{query}")
        if status == 200 and not body["timed_out"]:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def jvms_under(path: Path) -> list[int]:
    """Ids of the live processes whose command line names `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(path) in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if REASON:
        pytest.skip(REASON)
    started = DevCluster(nodes=3, workdir=tmp_path_factory.mktemp("devcluster"))
    started.start()
    yield started
    started.stop()


def test_unavailable_names_the_missing_java(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert unavailable() == "Java 17 not found: install openjdk-17-jdk-headless"


def test_a_heap_that_is_not_a_size_is_refused():
    with pytest.raises(ValueError, match="heap"):
        DevCluster(nodes=1, heap="lots")


@needs_java
def test_a_node_that_does_not_start_reports_its_log(tmp_path):
    node = DevCluster(nodes=1, workdir=tmp_path, heap="1k")  # too small for any JVM
    with pytest.raises(DevClusterError, match=r"(?s)node-0 did not start .*Too small maximum heap"):
        node.start(timeout=60)
    assert not node.processes and not jvms_under(tmp_path)


@needs_java
def test_three_nodes_are_green(cluster):
    assert len(cluster.urls) == 3 and cluster.url == cluster.urls[0]
    assert cluster.url.startswith("http://127.0.0.1:")
    body = health(cluster.url, wait_for_nodes="3", wait_for_status="green")
    assert body["number_of_nodes"] == 3 and body["status"] == "green"
    assert body["cluster_name"] == "searchapp-dev"
    status, nodes = call(cluster.urls[2] + "/_nodes/http")
    assert status == 200
    assert sorted(node["name"] for node in nodes["nodes"].values()) == ["node-0", "node-1", "node-2"]
    status, root = call(cluster.url + "/")
    assert root["version"]["number"] == "2.19.6"
    print(f"3-node start: {cluster.start_seconds:.1f}s")


@needs_java
def test_an_index_with_replicas_finds_a_document(cluster):
    settings = {
        "number_of_shards": 3,
        "number_of_replicas": 1,
        "unassigned.node_left.delayed_timeout": "10m",  # stays yellow once a node is gone
    }
    mappings = {"properties": {"title": {"type": "text", "analyzer": "indonesian"}}}
    status, body = call(cluster.url + "/berita", "PUT", {"settings": {"index": settings}, "mappings": mappings})
    assert status == 200, body
    health(cluster.url, index="berita", wait_for_status="green")
    status, body = call(cluster.urls[1] + "/berita/_doc/1?refresh=true", "PUT", {"title": "Pemerintah mengumumkan kebijakan"})
    assert status == 201, body
    for url in cluster.urls:
        status, body = call(url + "/berita/_search", "POST", {"query": {"match": {"title": "kebijakannya"}}})
        assert status == 200 and body["hits"]["total"]["value"] == 1, body
    status, shards = call(cluster.url + "/_cat/shards/berita?format=json")
    assert len(shards) == 6 and {shard["state"] for shard in shards} == {"STARTED"}
    assert len({shard["node"] for shard in shards}) == 3


@needs_java
def test_the_cluster_answers_after_a_node_is_killed(cluster):
    killed = cluster.processes[2]
    cluster.stop_node(2)
    assert killed.returncode == -signal.SIGKILL and not cluster.running(2)
    assert refused(cluster.http_ports[2])
    for url in cluster.urls[:2]:
        body = health(url, wait_for_nodes="2", wait_for_status="yellow")
        assert body["number_of_nodes"] == 2 and body["status"] == "yellow", body
        status, body = call(url + "/berita/_search", "POST", {"query": {"match": {"title": "kebijakan"}}})
        assert status == 200 and body["hits"]["total"]["value"] == 1, body
        assert body["_shards"]["failed"] == 0


@needs_java
def test_stop_leaves_no_jvm_and_no_port(cluster):
    processes = list(cluster.processes)
    cluster.stop()
    assert all(process.returncode is not None for process in processes)
    assert [process.returncode for process in processes] == [143, 143, -signal.SIGKILL]  # SIGTERM: closed
    assert not jvms_under(cluster.workdir)
    for port in cluster.http_ports + cluster.transport_ports:
        assert refused(port), port
    assert b"devnode node-0 stopped" in cluster.log_path(0).read_bytes()


@needs_java
def test_searchapp_devcluster_prints_the_url_first_and_stops_on_sigint(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "searchapp", "devcluster", "--nodes", "1", "--heap", "256m", "--data", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), (url, process.stderr.read() if process.poll() is not None else "")
        assert "Ctrl-C to stop" in process.stdout.readline()
        assert health(url, wait_for_status="green")["number_of_nodes"] == 1
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("dev cluster stopped")
    assert not jvms_under(tmp_path)
    assert refused(int(url.rsplit(":", 1)[1]))
