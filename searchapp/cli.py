"""The `searchapp` command: a thin click layer over the library."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
from pathlib import Path

import click

from searchapp import facets
from searchapp.engine import ENGINES, open_engine
from searchapp.engine.base import BuildReport, Engine
from searchapp.engine.workers import die_with_parent
from searchapp.errors import SearchappError
from searchapp.ingest.corpus import count_articles
from searchapp.search.highlight import mark
from searchapp.search.service import search, stats

MAX_HEADER_BYTES = 16 * 1024  # waitress answers 431 above this
MAX_BODY_BYTES = 64 * 1024  # and 413 above this: every route is a GET
USER_ERRORS = (SearchappError, OSError)

index_option = click.option(
    "--index",
    "index_dir",
    envvar="SEARCHAPP_INDEX",
    default="index",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index directory (env SEARCHAPP_INDEX).",
)
_engine_name = click.option(
    "--engine",
    "engine_name",
    envvar="SEARCHAPP_ENGINE",
    default="whoosh",
    show_default=True,
    type=click.Choice(sorted(ENGINES)),
    help="Search engine holding the index (env SEARCHAPP_ENGINE).",
)


def _to_environment(name: str):
    """The OpenSearch engine (and every serving process) reads its cluster from the environment."""
    def store(_ctx, _param, value):
        if value is not None and value != "":
            os.environ[name] = str(value)
    return store


def engine_option(command):
    """--engine, and where the opensearch engine's cluster and index are."""
    command = click.option("--opensearch-replicas", metavar="N", type=click.IntRange(0, 16), expose_value=False,
                           callback=_to_environment("SEARCHAPP_OPENSEARCH_REPLICAS"),
                           help="Replicas of each shard of a new build [default: 1] "
                                "(env SEARCHAPP_OPENSEARCH_REPLICAS).")(command)
    command = click.option("--opensearch-shards", metavar="N", type=click.IntRange(1, 1024), expose_value=False,
                           callback=_to_environment("SEARCHAPP_OPENSEARCH_SHARDS"),
                           help="Primary shards of a new build [default: 3] (env SEARCHAPP_OPENSEARCH_SHARDS).")(command)
    command = click.option("--opensearch-index", metavar="NAME", expose_value=False,
                           callback=_to_environment("SEARCHAPP_OPENSEARCH_INDEX"),
                           help="Index (alias) name on the cluster [default: searchapp] "
                                "(env SEARCHAPP_OPENSEARCH_INDEX).")(command)
    command = click.option("--opensearch", metavar="URL", expose_value=False,
                           callback=_to_environment("SEARCHAPP_OPENSEARCH_URL"),
                           help="OpenSearch cluster for --engine opensearch, e.g. http://host:9200; "
                                "comma-separated nodes (env SEARCHAPP_OPENSEARCH_URL).")(command)
    return _engine_name(command)


corpus_option = click.option(
    "--corpus",
    "corpus_paths",
    envvar="SEARCHAPP_CORPUS",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Corpus folder or file; repeatable (env SEARCHAPP_CORPUS)  [default: corpus]",
)


def _fail(exc: BaseException) -> None:
    raise click.ClickException(str(exc))


def facet_options(command):
    """A repeatable --NAME option per facet of the registry."""
    for facet in reversed(facets.FACETS):
        command = click.option(f"--{facet.name}", multiple=True,
                               help=f"Filter by {facet.description}; repeatable (OR).")(command)
    return command


def _on_index(index_dir: Path, engine_name: str, work):
    """Run work(engine) and close it; user errors become messages."""
    try:
        engine = open_engine(index_dir, engine_name)
    except USER_ERRORS as exc:
        _fail(exc)
    try:
        return work(engine)
    except USER_ERRORS as exc:
        _fail(exc)
    finally:
        engine.close()


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", file=sys.stderr, disable=not sys.stderr.isatty(), dynamic_ncols=True)


def _report(report: BuildReport, verbose: bool) -> None:
    click.echo(report.summary())
    for item in report.skipped if verbose else report.skipped[:20]:
        click.echo(f"  skipped {item.source}: {item.reason}", err=True)
    if not verbose and len(report.skipped) > 20:
        click.echo(f"  … and {len(report.skipped) - 20} more (use --verbose to list all)", err=True)


def build_index(engine: Engine, corpus_paths, actor_files=(), strict=False, procs=None, verbose=False,
                synonym_files=()):
    """Rebuild with a progress bar on a terminal and a summary at the end."""
    paths = list(corpus_paths) or [Path("corpus")]
    with _progress_bar(count_articles(paths) if sys.stderr.isatty() else 0) as bar:
        report = engine.rebuild(paths, actor_files=actor_files, synonym_files=synonym_files, strict=strict,
                                procs=procs, progress=bar.update)
    _report(report, verbose)
    return report


@click.group()
@click.version_option(package_name="searchapp")
def main() -> None:
    """Full-text search with facets for Indonesian news."""


@main.command()
@corpus_option
@index_option
@engine_option
@click.option("--actors", "actor_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Extra actor gazetteer file, merged with the built-in one; repeatable.")
@click.option("--synonyms", "synonym_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Extra abbreviation file (ABBR<TAB>full form), merged with the built-in one; repeatable.")
@click.option("--strict", is_flag=True, help="Fail if any file or line is skipped.")
@click.option("--procs", type=click.IntRange(1, 64), help="Worker processes for analysis [default: all cores].")
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file.")
@click.option("--build", "label", metavar="LABEL",
              help="opensearch: the build several machines load together (with --part or --finish).")
@click.option("--part", metavar="K/N", help="opensearch: load this machine's files as part K of N of --build.")
@click.option("--finish", is_flag=True, help="opensearch: once all parts are loaded, check --build and make it live.")
def rebuild(corpus_paths, index_dir, engine_name, actor_files, synonym_files, strict, procs, verbose, label, part,
            finish):
    """Build the index from the corpus and switch to it atomically."""
    if not (label or part or finish):
        _on_index(index_dir, engine_name,
                  lambda engine: build_index(engine, corpus_paths, actor_files, strict, procs, verbose, synonym_files))
        return
    if not label or bool(part) == finish:
        raise click.UsageError("several machines load one build with --build LABEL and either --part K/N "
                               "(each machine) or --finish (once, at the end)")

    def work(engine: Engine) -> None:
        if not hasattr(engine, "load_part"):
            raise click.ClickException(f"the {engine.name} engine is built on one machine: drop --build/--part")
        if finish:
            report = engine.finish_parts(label, actor_files=actor_files, synonym_files=synonym_files)
        else:
            k, n = _part(part)
            with _progress_bar(count_articles(corpus_paths) if sys.stderr.isatty() else 0) as bar:
                report = engine.load_part(list(corpus_paths), label, k, n, actor_files=actor_files,
                                          synonym_files=synonym_files, procs=procs, progress=bar.update)
        _report(report, verbose)

    _on_index(index_dir, engine_name, work)


def _part(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()):
        raise click.BadParameter(f"{text!r} is not K/N, e.g. 2/3", param_hint="--part")
    return int(k), int(n)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@engine_option
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file.")
def add(paths, index_dir, engine_name, verbose):
    """Add or replace articles (by id) in the live index."""
    def work(engine: Engine) -> BuildReport:
        with _progress_bar(count_articles(paths) if sys.stderr.isatty() else 0) as bar:
            return engine.add(paths, progress=bar.update)

    _report(_on_index(index_dir, engine_name, work), verbose)


def _print_hits(result: dict) -> None:
    tty = sys.stdout.isatty()
    before, after = ("\x1b[1;33m", "\x1b[0m") if tty else ("[", "]")
    counted = (f"{result['stories']} stories ({result['total']} articles)" if result["collapse"]
               else f"{result['total']} articles ({result['stories']} stories)")
    click.echo(f"{counted}, {result['took_ms']} ms, page {result['page']}")
    for n, hit in enumerate(result["hits"], (result["page"] - 1) * result["per_page"] + 1):
        title = hit["title"] or "(untitled)"
        click.echo(f"\n{n}. {click.style(title, bold=True)}  [{hit['id']}]")
        meta = " · ".join(x for x in (hit["outlet"], hit["published"], ", ".join(hit["actor"][:5])) if x)
        if meta:
            click.echo(f"   {meta}")
        click.echo("   " + mark(hit["snippet"], hit["highlights"], before, after))
        story = hit["story"]
        if result["collapse"] and story["copies"]:
            where = f" in {', '.join(story['outlets'])}" if story["outlets"] else ""
            click.echo(f"   +{story['copies']} copies{where} (--story {story['id']} --collapse off)")


@main.command("search")
@click.argument("query", default="")
@index_option
@engine_option
@facet_options
@click.option("--from", "date_from", help="Published on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Published on or before YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--page", default="1", help="Page number, from 1.")
@click.option("--per-page", default="10", help="Hits per page (1-100).")
@click.option("--collapse", default="on", help="on: copies of one story are one hit; off: every article.")
@click.option("--count", default=None, help="Facet counts of stories or articles (default: stories when collapsed).")
@click.option("--story", default=None, help="Only the articles of this story (its id).")
@click.option("--json", "as_json", is_flag=True, help="Print the result dict as JSON.")
def search_command(query, index_dir, engine_name, date_from, date_to, sort, page, per_page, collapse, count, story,
                   as_json, **facet_values):
    """Search the index."""
    result = _on_index(index_dir, engine_name, lambda engine: search(
        engine, query, date_from=date_from, date_to=date_to, sort=sort, page=page, per_page=per_page,
        collapse=collapse, count=count, story=story, **facet_values))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_hits(result)


@main.command("stats")
@index_option
@engine_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--top", default=15, show_default=True, help="Values shown per facet.")
def stats_command(index_dir, engine_name, as_json, top):
    """Documents, index size and facet values with counts."""
    result = _on_index(index_dir, engine_name, stats)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"index      {result['index']}")
    click.echo(f"documents  {result['documents']}")
    click.echo(f"size       {result['size_bytes'] / 1e6:.1f} MB")
    if result["repaired"]:
        click.echo("repaired   " + ", ".join(f"{kind} {n}" for kind, n in result["repaired"].items()))
    for name, values in result["facets"].items():
        click.echo(f"\n{name} ({len(values)} values)")
        for row in values[:top]:
            click.echo(f"  {row['count']:>7}  {row['value']}")


@main.command()
@index_option
@engine_option
def rollback(index_dir, engine_name):
    """Go back to the previous build (engines that keep one: opensearch)."""
    def work(engine: Engine) -> None:
        if not hasattr(engine, "rollback"):
            raise click.ClickException(f"the {engine.name} engine has no rollback")
        click.echo(f"live build is now {engine.rollback()}")

    _on_index(index_dir, engine_name, work)


@main.command()
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 9))
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the nodes' data and logs [default: a temporary one, removed at exit].")
@click.option("--heap", default="512m", show_default=True, help="Java heap of each node.")
def devcluster(nodes, data, heap):
    """Run a local OpenSearch cluster (Java 17 and Maven); prints its URL first."""
    from searchapp.engine.opensearch.devcluster import run

    try:
        run(nodes, data, heap, click.echo)
    except USER_ERRORS as exc:
        _fail(exc)


@main.command()
@corpus_option
@index_option
@engine_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Server processes sharing the port: Python uses one core per process.")
@click.option("--search-slots", type=click.IntRange(1, 64),
              help="Searches a process runs at once [default: the engine's; 1 for whoosh, whose searches "
                   "are CPU work under one GIL].")
def serve(corpus_paths, index_dir, engine_name, host, port, threads, workers, search_slots):
    """Serve the search page and JSON API with waitress (builds the index if missing)."""
    from waitress import serve as waitress_serve

    from searchapp.web import create_app

    try:
        engine = open_engine(index_dir, engine_name)
        if not engine.exists():
            click.echo(f"no index in {index_dir}: building it first", err=True)
            build_index(engine, corpus_paths)
        engine.close()
        config = {"INDEX_DIR": str(index_dir), "ENGINE": engine_name, "SEARCH_SLOTS": search_slots}
        create_app(config).extensions["searchapp.engine"].close()  # fails here, not in a worker
        sock = socket.create_server((host, port))
    except USER_ERRORS as exc:
        _fail(exc)
    click.echo(f"serving on http://{host}:{sock.getsockname()[1]}/ with {workers} process(es) "
               f"(index {os.path.abspath(index_dir)})")
    limits = dict(threads=threads, ident="searchapp", max_request_header_size=MAX_HEADER_BYTES,
                  max_request_body_size=MAX_BODY_BYTES, channel_timeout=30)
    _fewer_malloc_arenas()
    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:  # each process opens its own searcher after the fork
            die_with_parent()
            try:
                waitress_serve(_opened_app(config), sockets=[sock], **limits)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum, _frame):
        raise SystemExit(0)  # ends waitress's loop here; the others are stopped below

    signal.signal(signal.SIGTERM, stop)
    try:  # this process serves too: a process of its own to wait on children held ~60 MB doing nothing
        waitress_serve(_opened_app(config), sockets=[sock], **limits)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _opened_app(config: dict):
    """The web app with its live build opened and warm (`service.warm`), so
    the first readers do not wait the second it takes; an engine that cannot
    answer yet is opened by the first request instead (which then says why)."""
    from searchapp.search.service import warm
    from searchapp.web import create_app

    app = create_app(config)
    try:
        warm(app.extensions["searchapp.engine"])
    except USER_ERRORS:
        pass
    return app


def _fewer_malloc_arenas() -> None:
    """At most two malloc arenas a process (glibc's M_ARENA_MAX): with one
    arena per server thread, freed memory was spread over four heaps and a
    loaded worker held ~10 MB more. Elsewhere nothing is changed."""
    try:
        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


@main.command()
@click.argument("feeds_file", metavar="FEEDS", type=click.Path(dir_okay=False, path_type=Path))
@index_option
@engine_option
@click.option("--interval", default=300.0, show_default=True, type=click.FloatRange(1, None),
              help="Seconds from the start of one poll to the next.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
@click.option("--delay", default=2.0, show_default=True, type=click.FloatRange(0, None),
              help="Seconds between two requests to one host (a longer robots.txt Crawl-delay wins).")
@click.option("--max-bytes", default=5 * 1024 * 1024, show_default=True, type=click.IntRange(1024, None),
              help="Largest page fetched; a larger download is aborted.")
@click.option("--timeout", default=20.0, show_default=True, type=click.FloatRange(0.1, None),
              help="Seconds to connect, and between two reads of a response.")
@click.option("--contact", default="", metavar="URL_OR_EMAIL",
              help="Who runs this crawler, added to the User-Agent so a site can reach you.")
def watch(feeds_file, index_dir, engine_name, interval, once, delay, max_bytes, timeout, contact):
    """Poll RSS/Atom feeds and sitemaps (FEEDS: a file of URLs, one a line) and add new articles to the live index.

    State (what was seen and fetched) is kept in INDEX.watch/ beside the index: a restart neither loses nor repeats
    work. Ctrl-C stops; the articles fetched so far are kept."""
    from searchapp.ingest.fetcher import USER_AGENT, Fetcher
    from searchapp.ingest.watch import Watcher, state_dir

    def work(engine: Engine) -> None:
        agent = f"{USER_AGENT[:-1]}; +{contact})" if contact else USER_AGENT
        fetcher = Fetcher(delay=delay, timeout=timeout, max_bytes=max_bytes, user_agent=agent)
        with Watcher(engine, feeds_file, state=state_dir(index_dir), fetcher=fetcher, log=click.echo) as watcher:
            click.echo(f"watching {feeds_file} into {index_dir} (state in {watcher.state})", err=True)
            signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl-C does
            try:
                watcher.run(interval, once=once)
            except KeyboardInterrupt:
                click.echo("stopped", err=True)

    _on_index(index_dir, engine_name, work)
