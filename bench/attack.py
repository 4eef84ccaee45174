"""Load with attackers: normal queries' latency with and without hostile ones.

Runs `searchapp serve` on a free loopback port over an index of the CLICK-ID
corpus (or --limit N articles of it) and drives it for --seconds with
--clients concurrent keep-alive clients twice: first normal queries only, then
the same clients with every other one sending attack queries (huge, deeply
nested, wildcard, field-probing, fuzzed parameters). Reports 5xx counts and the
normal queries' p50/p99 in both runs; target: 0 server errors and p99 under
attack ≤ 2× p99 without.

    .venv/bin/python bench/attack.py [--limit 5000] [--seconds 20] [--clients 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import perf  # noqa: E402

ATTACKS = [
    "/api/search?" + urlencode({"q": "a" * 5000}),
    "/api/search?" + urlencode({"q": "(" * 300 + "x" + ")" * 300}),
    "/api/search?" + urlencode({"q": "*"}),
    "/api/search?" + urlencode({"q": "*a*"}),
    "/api/search?" + urlencode({"q": "?*"}),
    "/api/search?" + urlencode({"q": "*:*"}),
    "/api/search?" + urlencode({"q": "secret:x id:1 url:http"}),
    "/api/search?" + urlencode({"q": " OR ".join(f"kata{i}" for i in range(200))}),
    "/api/search?" + urlencode({"q": "pe* OR me* OR di*"}),
    "/api/search?" + urlencode({"q": "x", "page": "99999999", "per_page": "100"}),
    "/api/search?" + urlencode({"q": "x", "per_page": "-1"}),
    "/api/search?" + urlencode({"q": "x", "from": "2019-99-99"}),
    "/api/search?q=%00%ff%fe",
    "/?q=" + quote("<script>alert(1)</script>"),
    "/article/..%2F..%2Fetc%2Fpasswd",
    "/api/export?format=xml",
]


def run(port: int, normal: list[str], clients: int, seconds: float, attackers: int) -> dict:
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    lat: list[float] = []
    counts = {"normal": 0, "attack": 0, "5xx": 0, "conn_errors": 0, "attack_4xx": 0, "attack_conn_errors": 0}

    def client(k: int, attacking: bool) -> None:
        rng = random.Random(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, local = [], {"normal": 0, "attack": 0, "5xx": 0, "conn_errors": 0, "attack_4xx": 0,
                           "attack_conn_errors": 0}
        while time.perf_counter() < deadline:
            path = rng.choice(ATTACKS) if attacking else rng.choice(normal)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                local["attack_conn_errors" if attacking else "conn_errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if resp.status >= 500:
                local["5xx"] += 1
            if attacking:
                local["attack"] += 1
                local["attack_4xx"] += 400 <= resp.status < 500
            else:
                local["normal"] += 1
                mine.append(time.perf_counter() - t0)
            if resp.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        with lock:
            lat.extend(mine)
            for key, n in local.items():
                counts[key] += n

    threads = [threading.Thread(target=client, args=(k, k < attackers)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**counts, **common.summarize_ms(lat), "normal_per_s": round(counts["normal"] / seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-attack"))
    ap.add_argument("--index", type=Path, help="an existing index of the same articles (else one is built)")
    args = ap.parse_args()

    records = common.load_records(args.corpus, args.limit)
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = common.corpus_for(args.corpus, args.limit, args.workdir)
    index_dir = args.index or args.workdir / "index"
    if not (index_dir / "CURRENT").exists():
        common.run_rebuild(corpus, index_dir)
    queries = common.make_queries(records, common.index_facets(index_dir))
    normal = [perf.api_path(q) for q in queries]
    proc, port = perf.start_server(index_dir, 4, args.workers)
    try:
        run(port, normal, args.clients, 3, 0)  # warm-up
        calm = run(port, normal, args.clients, args.seconds, attackers=0)
        storm = run(port, normal, args.clients, args.seconds, attackers=args.clients // 2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"| run ({args.clients} clients, {args.seconds:g} s, {args.workers} serve processes) "
          "| normal req/s | normal p50 | normal p99 | attack requests (4xx, dropped) | 5xx | normal connection errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, r in (("normal only", calm), (f"{args.clients // 2} of them attacking", storm)):
        print(f"| {label} | {r['normal_per_s']} | {r['p50_ms']} ms | {r['p99_ms']} ms | "
              f"{r['attack']} ({r['attack_4xx']}, {r['attack_conn_errors']}) | {r['5xx']} | {r['conn_errors']} |")
    ratio = storm["p99_ms"] / calm["p99_ms"] if calm["p99_ms"] else float("nan")
    print(f"\nnormal p99 under attack / without: {ratio:.2f}× (target ≤ 2×); 5xx total: {calm['5xx'] + storm['5xx']}")
    print(f"`{' '.join(sys.argv)}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
