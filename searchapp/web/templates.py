"""Where the Jinja templates are.

`templates/` sits at the repository root, outside the package (a rule of the
project), so it is found in two ways: in a source checkout or an editable
install, beside the package; after a regular `pip install`, as the data files
the distribution installed (setup.cfg puts them under share/searchapp/templates),
located through the distribution's own file list rather than a guess at the
install prefix.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when running from source
MARKER = "base.html"  # every page extends it


def checkout_templates(root: Path = CHECKOUT) -> Path | None:
    """templates/ of the source checkout at `root` (recognised by its setup.cfg), or None."""
    folder = root / "templates"
    return folder if (root / "setup.cfg").is_file() and (folder / MARKER).is_file() else None


def installed_templates(dist: metadata.Distribution) -> Path | None:
    """The templates folder among the files `dist` installed (…/searchapp/templates/base.html), or None."""
    for path in dist.files or ():
        if path.name == MARKER and path.parts[-3:-1] == ("searchapp", "templates"):
            located = Path(dist.locate_file(path)).resolve()
            if located.is_file():
                return located.parent
    return None


def templates_dir(root: Path = CHECKOUT, dist: metadata.Distribution | None = None) -> Path:
    """The checkout's templates/ first, else the installed copy of the searchapp distribution."""
    found = checkout_templates(root)
    if found is None:
        if dist is None:
            try:
                dist = metadata.distribution("searchapp")
            except metadata.PackageNotFoundError:
                dist = None
        found = installed_templates(dist) if dist is not None else None
    if found is None:
        raise FileNotFoundError(f"templates/ not found: not in a source checkout at {root} "
                                "nor among the installed files of the searchapp distribution")
    return found
