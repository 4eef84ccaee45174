"""A local multi-node OpenSearch 2.19 cluster built from Maven Central, for the
tests and for `searchapp devcluster`.

The launcher (`devcluster/`: a pom.xml and `searchapp.devcluster.DevNode`)
starts one embedded OpenSearch node per JVM on 127.0.0.1. It is built once by
Maven (`package` plus `dependency:copy-dependencies`) into
`$XDG_CACHE_HOME/searchapp/devcluster/<hash of pom.xml and the Java sources>`
(`~/.cache/...` by default): built in a temporary directory under a lock and
renamed into place, so concurrent builds never leave half a launcher behind.

`DevCluster` picks free loopback ports, starts every node's JVM at once (each
one's output goes to `<workdir>/<node>.log`), and waits for the cluster to be
green with all its nodes. Each JVM runs in its own session (a Ctrl-C in the
terminal reaches Python only, which stops the cluster cleanly) and keeps a pipe
to Python on its standard input: when Python dies, the pipe closes and the
node stops by itself, so no JVM outlives its parent.

Standard library only (and `searchapp.errors`): this module must work without
an OpenSearch client installed.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from searchapp.errors import SearchappError

SOURCES = Path(__file__).with_name("devcluster")  # pom.xml and src/main/java/...
MAIN_CLASS = "searchapp.devcluster.DevNode"
JAVA_MIN = 17
BUILD_TIMEOUT = 1800  # a cold build downloads ~60 jars from Maven Central
STOP_TIMEOUT = 30  # a node's clean close, before it is killed
LOG_TAIL_LINES = 40

# What OpenSearch's jvm.options sets that matters for an embedded node (the heap
# comes from `heap`). Serial GC: three JVMs on two cores, small heaps.
JVM_OPTIONS = (
    "-XX:+UseSerialGC",
    "-Xss1m",
    "-Dfile.encoding=UTF-8",
    "-Djava.locale.providers=SPI,COMPAT",
    "-Djna.nosys=true",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j2.formatMsgNoLookups=true",
    "-XX:-OmitStackTraceInFastThrow",
)


QUICK_START = ("-XX:TieredStopAtLevel=1",)  # C1 only: starts in half the time, runs slower (tests, not benchmarks)


class DevClusterError(SearchappError):
    """The dev cluster could not be built, started or stopped; the message says why."""


# ---------------------------------------------------------------- requirements


def _java() -> str | None:
    return shutil.which("java")


def java_version(java: str) -> int | None:
    """The major version of `java` (8 for 1.8), None if it does not answer."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def unavailable() -> str | None:
    """None when Java >= 17 and Maven are here, else why the dev cluster cannot run."""
    java = _java()
    if java is None:
        return f"Java {JAVA_MIN} not found: install openjdk-{JAVA_MIN}-jdk-headless"
    version = java_version(java)
    if version is None or version < JAVA_MIN:
        found = "an unknown version" if version is None else f"Java {version}"
        return f"Java {JAVA_MIN} not found ({java} is {found}): install openjdk-{JAVA_MIN}-jdk-headless"
    if shutil.which("mvn") is None:
        return "mvn not found: install maven"
    if not (SOURCES / "pom.xml").is_file():
        return f"the dev cluster's launcher sources are missing ({SOURCES / 'pom.xml'})"
    return None


# ---------------------------------------------------------------- the launcher


def _source_files() -> list[Path]:
    files = [SOURCES / "pom.xml"]
    files += sorted(p for p in (SOURCES / "src").rglob("*") if p.is_file())
    return files


def source_hash() -> str:
    """A hash of the launcher's pom.xml and sources: the name of its build in the cache."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(path.relative_to(SOURCES).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "searchapp" / "devcluster"


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _classpath(build: Path) -> str:
    jars = [build / "devnode.jar", *sorted((build / "lib").glob("*.jar"))]
    return os.pathsep.join(str(jar) for jar in jars)


def build_launcher() -> str:
    """The launcher's classpath, built by Maven first if this version is not cached."""
    return _classpath(_build())


def _build() -> Path:
    """The cache directory of this launcher version, built if it is not there."""
    root = cache_root()
    build = root / source_hash()
    if (build / "READY").is_file():
        return build
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DevClusterError("mvn not found: install maven")
    root.mkdir(parents=True, exist_ok=True)
    # One build at a time per machine (Maven's local repository is not safe for two
    # writers); the temporary directory and the rename keep a reader from ever
    # seeing half a build, even without the lock.
    with open(root / f".{build.name}.lock", "w") as lock:
        _lock(lock)
        if (build / "READY").is_file():
            return build
        work = Path(tempfile.mkdtemp(prefix=f".build-{build.name}-", dir=root))
        try:
            shutil.copy2(SOURCES / "pom.xml", work / "pom.xml")
            shutil.copytree(SOURCES / "src", work / "src")
            command = [
                mvn, "-q", "-B", "-f", str(work / "pom.xml"),
                "package", "dependency:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={work / 'target' / 'lib'}",
            ]  # fmt: skip
            try:
                done = subprocess.run(
                    command, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                    text=True, timeout=BUILD_TIMEOUT,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                output = (exc.stdout or "") + (exc.stderr or "")
                if isinstance(output, bytes):
                    output = output.decode("utf-8", "replace")
                raise DevClusterError(
                    f"the Maven build of the dev cluster's launcher took over {BUILD_TIMEOUT}s:\n{_tail(output)}"
                ) from None
            output = done.stdout + done.stderr
            jar = work / "target" / "devnode.jar"
            if done.returncode != 0 or not jar.is_file():
                raise DevClusterError(
                    f"the Maven build of the dev cluster's launcher failed (exit {done.returncode}):\n"
                    f"{_tail(output) or '(no output)'}"
                )
            os.replace(jar, work / "devnode.jar")
            os.replace(work / "target" / "lib", work / "lib")
            shutil.rmtree(work / "target")
            (work / "build.log").write_text(output)
            (work / "READY").write_text(" ".join(command) + "\n")
            try:
                os.rename(work, build)
            except OSError:  # another process put it there first
                if not (build / "READY").is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return build


def _java_key(java: str) -> str:
    """A name for what `java` is (its real path and version): a class archive is
    only good for the JVM that wrote it."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
        version = done.stderr + done.stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    return hashlib.sha256((os.path.realpath(java) + "\0" + version).encode()).hexdigest()[:12]


def class_archive(build: Path, java: str) -> Path | None:
    """A dynamic CDS archive of the classes a node loads (~30% off its start on two
    cores), written once per launcher build and JVM by a one-node run; None when
    it could not be made (the nodes then just load their classes as usual)."""
    archive = build / f"classes-{_java_key(java)}.jsa"
    failed = archive.with_suffix(".failed")
    if archive.is_file():
        return archive
    if failed.is_file():
        return None
    with open(build.parent / f".{build.name}.lock", "w") as lock:
        _lock(lock)
        if archive.is_file():
            return archive
        if failed.is_file():
            return None
        partial = archive.with_name(f".{archive.name}.{os.getpid()}")
        probe = DevCluster(nodes=1, _jvm_options=(f"-XX:ArchiveClassesAtExit={partial}",), _archive=False)
        try:
            probe.start(timeout=120)
            _exercise(probe.url)
            probe.stop()  # the JVM writes the archive as it exits
            if not partial.is_file():
                raise DevClusterError("no archive written")
            os.replace(partial, archive)
        except (DevClusterError, OSError, ValueError) as exc:
            probe.stop()
            failed.write_text(f"{exc}\n")
            return None
        finally:
            partial.unlink(missing_ok=True)
    return archive


def _exercise(url: str) -> None:
    """Index, refresh and search once, so that the archive holds those classes too."""
    def call(method: str, path: str, body: dict | None = None) -> None:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with _LOCAL.open(request, timeout=30) as response:
            response.read()

    call("PUT", "/warmup", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    call("PUT", "/warmup/_doc/1?refresh=true", {"title": "Pemerintah mengumumkan kebijakan baru", "day": "2024-01-02"})
    call("POST", "/warmup/_search", {"query": {"match": {"title": "kebijakan"}},
                                     "aggs": {"days": {"date_histogram": {"field": "day", "calendar_interval": "month"}}}})
    call("DELETE", "/warmup")


def _lock(handle) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: the rename alone keeps the cache whole
        return
    fcntl.flock(handle, fcntl.LOCK_EX)


# ---------------------------------------------------------------- the cluster


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free right now (all held open while choosing)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# The cluster is on loopback: never through an http_proxy from the environment.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str, timeout: float = 10) -> tuple[int, dict]:
    """(status, JSON body) of a GET; an HTTP error status is returned, not raised."""
    try:
        with _LOCAL.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body


class DevCluster:
    """A local OpenSearch cluster of `nodes` JVMs on 127.0.0.1, one per node.

        with DevCluster(nodes=3) as cluster:
            urllib.request.urlopen(cluster.url + "/_cat/nodes")

    `workdir` holds each node's home (`node-<i>/`, its data kept between runs)
    and log (`node-<i>.log`); without one, a temporary directory is made and
    removed by `stop()`.
    """

    def __init__(
        self,
        nodes: int = 3,
        workdir: Path | None = None,
        heap: str = "512m",
        cluster_name: str = "searchapp-dev",
        *,
        quick_start: bool = True,
        _jvm_options: tuple[str, ...] = (),
        _archive: bool = True,
    ):
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        if not re.fullmatch(r"\d+[kKmMgG]?", heap):
            raise ValueError(f"heap {heap!r} is not a JVM size such as 512m or 1g")
        self.nodes = nodes
        self.quick_start = quick_start
        self.heap = heap
        self.cluster_name = cluster_name
        self.names = [f"node-{i}" for i in range(nodes)]
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = self._given_workdir
        self._own_workdir = False
        self.http_ports: list[int] = []
        self.transport_ports: list[int] = []
        self.processes: list[subprocess.Popen] = []
        self._logs: list = []
        self.start_seconds: float | None = None
        self._jvm_options = _jvm_options
        self._archive = _archive

    # -- addresses

    @property
    def url(self) -> str:
        """The first node's HTTP URL."""
        return self.urls[0]

    @property
    def urls(self) -> list[str]:
        """Every node's HTTP URL, in node order (stopped nodes included)."""
        if not self.http_ports:
            raise DevClusterError("the dev cluster is not started")
        return [f"http://127.0.0.1:{port}" for port in self.http_ports]

    def log_path(self, i: int) -> Path:
        assert self.workdir is not None
        return self.workdir / f"{self.names[i]}.log"

    def running(self, i: int) -> bool:
        return i < len(self.processes) and self.processes[i].poll() is None

    # -- life cycle

    def __enter__(self) -> DevCluster:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, timeout: float = 180) -> DevCluster:
        """Build the launcher if needed, start every node, wait for green; `timeout`
        is for the nodes (a cold Maven build has its own)."""
        if self.processes:
            raise DevClusterError("the dev cluster is already started")
        reason = unavailable()
        if reason:
            raise DevClusterError(reason)
        build = _build()
        classpath = _classpath(build)
        java = _java() or "java"
        options = [*(QUICK_START if self.quick_start else ()), *self._jvm_options]
        if self._archive:
            archive = class_archive(build, java)
            if archive is not None:
                options.append(f"-XX:SharedArchiveFile={archive}")
        began = time.monotonic()
        if self._given_workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="searchapp-devcluster-"))
            self._own_workdir = True
        else:
            self.workdir = self._given_workdir
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._claim_workdir()
        ports = free_ports(2 * self.nodes)
        self.http_ports, self.transport_ports = ports[: self.nodes], ports[self.nodes :]
        atexit.register(self.stop)
        try:
            for i in range(self.nodes):
                self._launch(i, java, options, classpath)
            self._wait_green(began + timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _claim_workdir(self) -> None:
        """A workdir keeps its nodes' data, so it only serves a cluster of the same shape."""
        assert self.workdir is not None
        marker = self.workdir / "devcluster.json"
        shape = {"nodes": self.nodes, "cluster_name": self.cluster_name}
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            found = None
        if found is not None and found != shape:
            raise DevClusterError(
                f"{self.workdir} holds the data of a {found.get('nodes')}-node cluster "
                f"{found.get('cluster_name')!r}: start that, or use another (or an emptied) workdir"
            )
        marker.write_text(json.dumps(shape) + "\n")

    def _command(self, i: int, java: str, options: list[str], classpath: str) -> list[str]:
        assert self.workdir is not None
        if self.nodes == 1:
            discovery = ["--cluster-managers=single"]
        else:
            discovery = [
                "--seed-ports=" + ",".join(map(str, self.transport_ports)),
                "--cluster-managers=" + ",".join(self.names),
            ]
        return [
            java, f"-Xms{self.heap}", f"-Xmx{self.heap}", *JVM_OPTIONS, *options,
            f"-Djava.io.tmpdir={self.workdir / self.names[i] / 'tmp'}",
            "-cp", classpath, MAIN_CLASS,
            f"--name={self.names[i]}", f"--cluster={self.cluster_name}",
            f"--home={self.workdir / self.names[i]}",
            f"--http-port={self.http_ports[i]}", f"--transport-port={self.transport_ports[i]}",
            *discovery, "--watch-stdin",
        ]  # fmt: skip

    def _launch(self, i: int, java: str, options: list[str], classpath: str) -> None:
        assert self.workdir is not None
        home = self.workdir / self.names[i]
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(i), "ab")
        self._logs.append(log)
        self.processes.append(
            subprocess.Popen(
                self._command(i, java, options, classpath), cwd=home, stdin=subprocess.PIPE, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        )

    def _log_tail(self, i: int) -> str:
        try:
            text = self.log_path(i).read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return _tail(text) or "(empty log)"

    def _wait_green(self, deadline: float) -> None:
        health = f"/_cluster/health?wait_for_nodes={self.nodes}&wait_for_status=green&timeout=2s"
        last = "no answer"
        while True:
            for i, process in enumerate(self.processes):
                if process.poll() is not None:
                    raise DevClusterError(
                        f"dev cluster node {self.names[i]} did not start (exit {process.returncode}); "
                        f"the end of {self.log_path(i)}:\n{self._log_tail(i)}"
                    )
            try:
                status, body = get_json(self.url + health, timeout=10)
                if status == 200 and not body.get("timed_out"):
                    return
                last = f"HTTP {status}: {json.dumps(body)[:300]}"
            except (OSError, ValueError) as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                tails = "\n".join(f"--- {self.log_path(i)}:\n{self._log_tail(i)}" for i in range(self.nodes))
                raise DevClusterError(
                    f"the dev cluster was not green with {self.nodes} nodes in time (last health: {last})\n{tails}"
                )
            time.sleep(0.25)

    def stop_node(self, i: int, timeout: float = STOP_TIMEOUT) -> None:
        """Kill node `i`'s JVM outright (SIGKILL, as a crash) and wait for it to exit."""
        process = self.processes[i]
        if process.poll() is None:
            _signal_group(process, signal.SIGKILL)
        process.wait(timeout)
        _close(process.stdin)

    def stop(self) -> None:
        """Stop every node cleanly (SIGTERM: the JVM closes its node and exits 143),
        kill what is left after STOP_TIMEOUT seconds, and remove the temporary
        workdir made by `start()`."""
        atexit.unregister(self.stop)
        for process in self.processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(10)
        for process in self.processes:  # anything the JVM started in its group
            _signal_group(process, signal.SIGKILL)
            _close(process.stdin)
        for log in self._logs:
            log.close()
        self._logs = []
        self.processes = []
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self._own_workdir = False


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the JVM leads its own session
    except (ProcessLookupError, PermissionError):
        pass
    except AttributeError:  # no process groups (not POSIX)
        if sig == signal.SIGTERM:
            process.terminate()
        else:
            process.kill()


def _close(stream) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


# ---------------------------------------------------------------- the CLI


class _Stop(Exception):
    pass


def run(nodes: int, workdir: Path | None, heap: str, echo: Callable[[str], None]) -> None:
    """`searchapp devcluster`: start the cluster, echo its URL (the first line),
    then the nodes, and keep it up until SIGINT/SIGTERM; then stop it cleanly."""
    cluster = DevCluster(nodes=nodes, workdir=workdir, heap=heap)
    handlers = _install_stop_handlers()
    try:
        try:
            cluster.start()
            echo(cluster.url)
            ports = ", ".join(
                f"{name} http {http} transport {transport}"
                for name, http, transport in zip(cluster.names, cluster.http_ports, cluster.transport_ports)
            )
            echo(
                f"OpenSearch 2.19.6 cluster {cluster.cluster_name!r} up in {cluster.start_seconds:.0f}s, "
                f"{nodes} node(s) on 127.0.0.1: {ports}; logs in {cluster.workdir}. Ctrl-C to stop."
            )
            reported: set[int] = set()
            while True:
                time.sleep(1)
                for i in range(nodes):
                    if i not in reported and not cluster.running(i):
                        reported.add(i)
                        echo(f"{cluster.names[i]} exited; see {cluster.log_path(i)}")
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            _ignore_stop_signals(handlers)
            if cluster.processes:
                echo("stopping the dev cluster ...")
            cluster.stop()
    finally:
        _restore(handlers)
    echo("dev cluster stopped")


def _install_stop_handlers() -> dict:
    """SIGINT and SIGTERM raise _Stop in the main thread (nothing outside it)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, frame):
        raise _Stop()

    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        saved[sig] = signal.signal(sig, handler)
    return saved


def _ignore_stop_signals(saved: dict) -> None:
    for sig in saved:
        signal.signal(sig, signal.SIG_IGN)


def _restore(saved: dict) -> None:
    for sig, handler in saved.items():
        signal.signal(sig, handler)
