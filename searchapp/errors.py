"""The errors a user must act on, with a stable code and messages in two languages.

Every such error is a `SearchappError`; a `QueryError` is one about what was
asked (a query, a parameter). Its text comes from the reviewed catalogue
`data/messages.tsv` (code, English, Indonesian), so the Indonesian pages speak
Indonesian, the CLI English, and the JSON API carries the code for programs.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

LANGUAGES = ("en", "id")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """code → {language: message template} from data/messages.tsv."""
    table: dict[str, dict[str, str]] = {}
    text = resources.files("searchapp.data").joinpath("messages.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, en, id_ = line.split("\t")
        table[code] = {"en": en, "id": id_}
    return table


class SearchappError(Exception):
    """Base of every error searchapp reports to a user instead of a traceback."""


class QueryError(SearchappError, ValueError):
    """A query or parameter the user must fix; `code` names the problem."""

    def __init__(self, code: str, **params: object):
        if code not in catalogue():
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def message(self, language: str = "en") -> str:
        """The message in `language` ("en" or "id"), values filled in."""
        templates = catalogue()[self.code]
        return templates.get(language, templates["en"]).format(**self.params)


def message(code: str, language: str = "en", **params: object) -> str:
    """A catalogue message by its code, in `language`, values filled in (for the
    error pages and API errors that are not a QueryError: 404, 503, 500)."""
    templates = catalogue()[code]
    return templates.get(language, templates["en"]).format(**params)


# What the Indonesian messages call a parameter (its `label`): what it is, not
# its name in the URL ("from" is "tanggal awal", as the form's "Sejak" field).
PARAMETER_LABELS_ID = {
    "from": "tanggal awal",
    "to": "tanggal akhir",
    "page": "nomor halaman",
    "per_page": "jumlah hasil per halaman",
    "size": "jumlah aktor",
    "sample": "ukuran sampel",
    "seed": "seed sampel",
}


def label_id(name: str) -> str:
    """The Indonesian label of parameter `name` (the name itself if it has none)."""
    return PARAMETER_LABELS_ID.get(name, name)
