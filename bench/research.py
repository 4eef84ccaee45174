"""Latency of the research views on a built index: each endpoint's p50/p90
over everyday queries, the first time each request is seen (a fresh app over
a freshly opened index) and again.

    .venv/bin/python bench/research.py --index /tmp/full/index     # an index of the 2019 corpus

Requests go through the Flask app in this process (no sockets), so the
figures are the server's own work per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, environment, percentile  # noqa: E402

QUERIES = ["presiden", "jokowi", "pilpres 2019", "polisi", "korupsi", "banjir jakarta", "gempa", "KPK",
           "harga minyak", "timnas indonesia", "prabowo", "papua", "demo mahasiswa", "RUU KUHP", "kebakaran hutan",
           "Rp 1 triliun", "ekonomi", "sepak bola", "bank indonesia", "ibu kota baru"]


def requests(client) -> dict[str, list[str]]:
    actors = [a["name"] for a in client.get("/api/actors").get_json()["actors"][:20]]
    pairs = list(zip(QUERIES[::2], QUERIES[1::2]))
    return {
        "/api/timeline (counts and shares)": [f"/api/timeline?{urlencode({'q': q})}" for q in QUERIES],
        "/api/compare (2 queries)": [f"/api/compare?{urlencode([('q', a), ('q', b)])}" for a, b in pairs],
        "/api/actors/<name>": [f"/api/actors/{quote(a)}" for a in actors],
        "/api/actors (index)": ["/api/actors", "/api/actors?sort=name", "/api/actors?q=joko", "/api/actors?q=a"],
        "/api/significant": [f"/api/significant?{urlencode({'q': q})}" for q in QUERIES],
        "/feed.atom": [f"/feed.atom?{urlencode({'q': q})}" for q in QUERIES],
        "/api/export?sample=100": [f"/api/export?{urlencode({'q': q, 'format': 'jsonl', 'sample': 100, 'seed': 1})}"
                                   for q in QUERIES[:8]],
        "/compare page": [f"/compare?{urlencode([('q', a), ('q', b)])}" for a, b in pairs],
        "/actor/<name> page": [f"/actor/{quote(a)}" for a in actors],
    }


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    body = response.get_data()
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {body[:200]!r}")
    return elapsed * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from searchapp.web import create_app

    app = create_app({"INDEX_DIR": str(args.index)})
    client = app.test_client()
    timed(client, "/api/search?q=")  # opens the index: not part of any endpoint's figure
    plan = requests(client)
    rows = []
    for name, urls in plan.items():
        first = [timed(client, u) for u in urls]
        again = [timed(client, u) for u in urls]
        rows.append((name, len(urls), first, again))
    app.extensions["searchapp.engine"].close()
    print("| endpoint | requests | first time p50 / p90 | again p50 / p90 |")
    print("| --- | --- | --- | --- |")
    for name, n, first, again in rows:
        print(f"| {name} | {n} | {statistics.median(first):.1f} / {percentile(first, 90):.1f} ms "
              f"| {statistics.median(again):.1f} / {percentile(again, 90):.1f} ms |")
    env = environment()
    print(f"\n`{env['command']}` — {env['date']}, commit {env['git_commit']}{' (with changes)' if env['git_dirty'] else ''}")


if __name__ == "__main__":
    main()
