"""Outlet canonicalisation and detection on metadata, URLs and raw seed articles."""

from pathlib import Path

import pytest

from searchapp.ingest import outlets

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "corpus" if (REPO / "corpus").is_dir() else REPO.parent / "shared" / "seeds"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text("utf-8")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("kompas.com", "Kompas.com"),
        ("Kompas.com", "Kompas.com"),
        ("KOMPAS.com", "Kompas.com"),
        ("regional.kompas.com", "Kompas.com"),
        ("okezone.com", "Okezone"),
        ("tempo.co", "Tempo"),
        ("sindonews.com", "Sindonews"),
        ("wowkeren.com", "Wowkeren"),
        ("tribunnews.com", "Tribunnews"),
        ("kapanlagi.com", "Kapanlagi"),
        ("fimela.com", "Fimela"),
        ("posmetro-medan.com", "Posmetro Medan"),
        ("www.detik.com", "Detik"),
        ("Intisari - Online.com", "Intisari Online"),
        ("  Warta Ekonomi ", "Warta Ekonomi"),
        ("Harian Lokal Kita", "Harian Lokal Kita"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_canonical(raw, expected):
    assert outlets.canonical(raw) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://nasional.kompas.com/read/2019/09/20/x", "Kompas.com"),
        ("https://www.fimela.com/parenting/read/4058864/x", "Fimela"),
        ("https://intisari.grid.id/read/x", "Intisari Online"),
        ("https://www.grid.id/read/x", "Grid"),
        ("okezone.com/read/x", "Okezone"),
        ("https://example.com/news", None),
        ("", None),
        (None, None),
    ],
)
def test_from_url(url, expected):
    assert outlets.from_url(url) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("000", "Intisari Online"),  # "Intisari - Online.com -" + subscription footer
        ("001", "Inionline.id"),  # "Inionline.id –"
        ("002", "Intisari Online"),  # "Intisari-online.com -"
        ("003", None),  # names no outlet anywhere
        ("004", "Warta Ekonomi"),  # "Warta Ekonomi, Moskow -" + Google News footer
    ],
)
def test_detect_seeds(prefix, expected):
    assert outlets.detect(seed(prefix)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JAKARTA, KOMPAS.com - Presiden Joko Widodo ...", "Kompas.com"),
        ("Liputan6.com, Jakarta Presiden Joko Widodo ...", "Liputan6"),
        ("TEMPO.CO, Jakarta - Presiden ...", "Tempo"),
        ("Jakarta (ANTARA) - Presiden ...", "Antara"),
        ("Judul\n\nMau Berita Terbaru Lainnya dari Warta Ekonomi? Yuk Follow", "Warta Ekonomi"),
        ("Langsung saja berlangganan Majalah Intisari. Tinggal klik", "Intisari Online"),
        ("Detik-detik menegangkan saat kapal tenggelam -", None),
        ("Antara lain, ia menyebut - beberapa hal", None),
        ("Berita tanpa nama media.", None),
    ],
)
def test_detect_text(text, expected):
    assert outlets.detect(text) == expected


def test_detect_prefers_url():
    assert outlets.detect("Warta Ekonomi, Moskow - ...", "https://tempo.co/x") == "Tempo"
