"""The tables a build is made with and learns, kept beside its index.

A build copies the user's gazetteer and abbreviation files it was made with
(so a later search reads the same ones) and counts, while indexing, the words
written as names and the written forms of each stem; query parsing and
highlighting read them. The stems Sastrawi worked out are kept per index
directory for the next build. Plain TSV files in a directory, whatever the
engine: an engine keeps the directory where it keeps its builds.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.errors import SearchappError
from searchapp.facets.actors import Gazetteer
from searchapp.text import analysis
from searchapp.text.synonyms import Synonyms

ACTORS_DIR = "actors"
SYNONYMS_DIR = "synonyms"
NAMES = "names.tsv"
FORMS = "forms.tsv"
STEMS = "stems.tsv"
REPAIRS = "repairs.tsv"


class TableError(SearchappError):
    """A user table file that cannot be used."""


def write_table(path: Path, rows: Iterable[tuple]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join("\t".join(map(str, row)) + "\n" for row in rows), "utf-8")
    os.replace(tmp, path)


def store_files(build_dir: Path, folder: str, files: Iterable[str | os.PathLike], what: str) -> list[Path]:
    """Copy the user's table files into the build: it keeps what it was made with."""
    stored = []
    for i, src in enumerate(files):
        src = Path(src)
        if not src.is_file():
            raise TableError(f"{what} not found: {src}")
        dest = build_dir / folder / f"{i:02d}-{src.name}"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dest)
        stored.append(dest)
    return stored


def actor_files(build_dir: Path) -> list[str]:
    """The user gazetteer files a build was made with (copied into it)."""
    return sorted(str(p) for p in (build_dir / ACTORS_DIR).glob("*"))


def load_names(build_dir: Path) -> Counter[str]:
    """How often each word Sastrawi would change was written as a name."""
    try:
        text = (build_dir / NAMES).read_text("utf-8")
    except FileNotFoundError:
        return Counter()
    return Counter({w: int(n) for w, _, n in (line.partition("\t") for line in text.splitlines()) if n})


def load_forms(build_dir: Path) -> Counter[tuple[str, str]]:
    """(stem, written form) → number of articles using that form."""
    try:
        text = (build_dir / FORMS).read_text("utf-8")
    except FileNotFoundError:
        return Counter()
    rows = (line.split("\t") for line in text.splitlines())
    return Counter({(s, w): int(n) for s, w, n in rows})


def write_names(build_dir: Path, names: Counter[str], forms: Counter[tuple[str, str]],
                repaired: Counter[str] | None = None) -> None:
    """Add a build's (or an add's) counts of names and forms, and of the
    articles whose text it repaired (per kind), to its tables."""
    merged_names = load_names(build_dir) + names
    write_table(build_dir / NAMES, sorted(merged_names.items()))
    merged = load_forms(build_dir) + forms
    write_table(build_dir / FORMS, ((s, w, n) for (s, w), n in sorted(merged.items())))
    if repaired:
        write_table(build_dir / REPAIRS, sorted((load_repairs(build_dir) + repaired).items()))


def load_repairs(build_dir: Path) -> Counter[str]:
    """Articles whose text the build repaired, per kind (ingest.repair.KINDS);
    empty for a build made before repairs were counted."""
    try:
        text = (build_dir / REPAIRS).read_text("utf-8")
    except FileNotFoundError:
        return Counter()
    return Counter({k: int(n) for k, _, n in (line.partition("\t") for line in text.splitlines()) if n})


def load_stems(index_dir: Path) -> dict[str, str]:
    """The stems earlier builds worked out (word → stem).

    Sastrawi costs ~0.02–0.1 ms per new word; a rebuild of the same corpus then
    stems nothing twice. The file is ignored when the exception table changed.
    """
    try:
        with open(index_dir / STEMS, encoding="utf-8") as fh:
            if fh.readline().strip() != f"# {analysis.stem_cache_fingerprint()}":
                return {}
            return dict(line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line)
    except (FileNotFoundError, ValueError):
        return {}


def save_stems(index_dir: Path, entries: dict[str, str]) -> None:
    tmp = index_dir / f".{STEMS}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"# {analysis.stem_cache_fingerprint()}\n")
        fh.writelines(f"{w}\t{s}\n" for w, s in sorted(entries.items()) if "\t" not in w and "\n" not in w)
    os.replace(tmp, index_dir / STEMS)


def stem_table(index_dir: Path) -> analysis.StemTable | None:
    """The stems earlier builds worked out, to be looked up word by word
    (a serving process: a dict of them would hold ~17 MB); None when there
    are none or they are stale."""
    try:
        with open(index_dir / STEMS, "rb") as fh:
            if fh.readline().decode("utf-8", "replace").strip() != f"# {analysis.stem_cache_fingerprint()}":
                return None
            return analysis.StemTable(fh.read())
    except (OSError, ValueError):
        return None


@dataclass
class BuildTables:
    """What a build's searches read besides the index: its gazetteer,
    abbreviations, names, stemmer (protecting its own names) and forms."""

    directory: Path
    gazetteer: Gazetteer
    synonyms: Synonyms
    names: Counter[str]
    stemmer: analysis.Stemmer
    _forms: dict[str, list[str]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, build_dir: Path) -> BuildTables:
        """A build's tables; its stemmer starts from the stems the builds
        worked out (kept beside the builds): a new process's first queries
        and snippets need not wait on Sastrawi (~0.02–0.1 ms a new word)."""
        gazetteer = Gazetteer.load(actor_files(build_dir))
        stemmer = analysis.Stemmer(gazetteer.protected_words(), stem_table(build_dir.parent))
        return cls(
            directory=build_dir,
            gazetteer=gazetteer,
            synonyms=Synonyms.load(sorted(str(p) for p in (build_dir / SYNONYMS_DIR).glob("*"))),
            names=load_names(build_dir),
            stemmer=stemmer,
        )

    def repaired(self) -> Counter[str]:
        """Articles whose text the build repaired when reading them, per kind."""
        return load_repairs(self.directory)

    def forms(self, stem: str, limit: int | None = 8) -> list[str]:
        """The written forms of a stem in the corpus, most used first."""
        if self._forms is None:
            table: dict[str, list[tuple[str, int]]] = {}
            for (s, w), n in load_forms(self.directory).items():
                table.setdefault(s, []).append((w, n))
            self._forms = {s: [w for w, _n in sorted(rows, key=lambda wn: -wn[1])] for s, rows in table.items()}
        return self._forms.get(stem, [])[:limit]

    def written_stems(self) -> dict[str, str]:
        """Each written form the forms table records → its stem (from the
        table `forms` already holds, not another read of the file)."""
        self.forms("")
        return {word: stem for stem, words in self._forms.items() for word in words}
