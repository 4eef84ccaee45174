"""Finding templates/: beside the package in a checkout, else among the files a
regular `pip install` recorded for the distribution (here a dist-info built by
hand, read by the real importlib.metadata)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from searchapp.web.templates import CHECKOUT, templates_dir

PAGES = ("base.html", "search.html", "error.html")


def installed(prefix: Path, record: list[str]) -> metadata.Distribution:
    """A venv at `prefix` where pip installed searchapp: the templates under share/,
    the dist-info's RECORD listing them relative to site-packages."""
    site = prefix / "lib" / "python3.11" / "site-packages"
    info = site / "searchapp-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: searchapp\nVersion: 0.1.0\n")
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in record))
    for page in PAGES:
        target = prefix / "share" / "searchapp" / "templates" / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("{% block content %}{% endblock %}")
    return metadata.PathDistribution(info)


RECORD = ["searchapp/__init__.py", "searchapp/static/style.css",
          *(f"../../../share/searchapp/templates/{page}" for page in PAGES)]


def test_checkout_templates_come_first(tmp_path):
    dist = installed(tmp_path / "venv", RECORD)
    assert templates_dir(dist=dist) == CHECKOUT / "templates"
    assert (CHECKOUT / "templates" / "base.html").is_file()


def test_installed_templates_are_found_through_the_distribution(tmp_path):
    dist = installed(tmp_path / "venv", RECORD)
    found = templates_dir(root=tmp_path / "no-checkout", dist=dist)
    assert found == (tmp_path / "venv" / "share" / "searchapp" / "templates").resolve()


def test_a_templates_folder_without_a_checkout_is_not_taken(tmp_path):
    """site-packages may hold another project's templates/: only a checkout (setup.cfg) counts."""
    site_like = tmp_path / "site"
    (site_like / "templates").mkdir(parents=True)
    (site_like / "templates" / "base.html").write_text("not ours")
    dist = installed(tmp_path / "venv", RECORD)
    assert templates_dir(root=site_like, dist=dist) == (tmp_path / "venv" / "share" / "searchapp" / "templates").resolve()


@pytest.mark.parametrize("record", [[], ["searchapp/__init__.py"], ["../../../share/searchapp/templates/missing.html"]])
def test_no_templates_is_a_clear_error(tmp_path, record):
    dist = installed(tmp_path / "venv", record)
    with pytest.raises(FileNotFoundError, match="templates/ not found"):
        templates_dir(root=tmp_path / "no-checkout", dist=dist)
