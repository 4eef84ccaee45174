"""Quote extraction: who said what, on sentences copied from the seed articles
and from the 2019 corpus (/work/shared/corpora/clickid-2019.jsonl.gz; the
article id is in the comment of each row). Bodies keep the corpus's own
artefacts: ".," paragraph joins, Mac Roman mojibake for curly quotes."""

from __future__ import annotations

import random

import pytest

from searchapp.facets.actors import Gazetteer
from searchapp.text.quotes import Quote, QuoteExtractor


@pytest.fixture(scope="module")
def extractor() -> QuoteExtractor:
    return QuoteExtractor(Gazetteer.load([]))  # the default gazetteer, as the build loads it


# (case, body, expected quotes in order: (kind, start of text, speaker, actor, cue)); actor "?" = not checked
CASES = [
    # direct, attribution after the quotation, title stripped, actor resolved (seed 002)
    ("direct", '"Kita bisa menangani ISIS secara mandiri," kata Shaheen.',
     [("direct", "Kita bisa menangani ISIS secara mandiri,", "Shaheen", "Suhail Shaheen", "kata")]),
    # title stripped: Menkeu (corpus 3f53cc0910a5fac2)
    ("title Menkeu",
     '"Kita akan pelajari dulu statement Pak Sofyan dan implikasinya. Sebagaimana diketahui, kita sedang siapkan '
     'policy perpajakan untuk dukung ekonomi," ujar Menkeu Sri Mulyani di ICE BSD, Tangerang, Kamis (19/9/2019).',
     [("direct", "Kita akan pelajari", "Sri Mulyani", "Sri Mulyani", "ujar")]),
    # title stripped: Menteri Keuangan (corpus d50250e897afbceb)
    ("title Menteri Keuangan",
     '"Kita semua akhirnya memutuskan untuk kenaikan cukai rokok ditetapkan sebesar 23% dan kenaikan harga jual '
     'eceran menjadi 35%," ujar Menteri Keuangan Sri Mulyani.',
     [("direct", "Kita semua akhirnya", "Sri Mulyani", "Sri Mulyani", "ujar")]),
    # title stripped: juru bicara + organisation (seed 004)
    ("title juru bicara Taliban",
     "Dalam komentar yang dibawa oleh kantor berita negara Rusia Tass, juru bicara Taliban Mohammad Sohail Shaheen "
     "mengatakan delegasi mereka datang ke Moskow untuk berunding.",
     [("indirect", "delegasi mereka datang", "Mohammad Sohail Shaheen", "Suhail Shaheen", "mengatakan")]),
    # indirect with an adjunct before "jika" and a quoted phrase inside (seed 000)
    ("indirect mengatakan kepada … jika",
     'Juru bicara Suhai Shaheen mengatakan kepada Associated Press jika Taliban bisa "melawan ISIS secara mandiri."',
     [("indirect", "Taliban bisa", "Suhai Shaheen", "Suhail Shaheen", "mengatakan")]),
    # indirect with an apposition: role, name, verb (seed 000)
    ("indirect apposition",
     'Menteri dari Taliban, Amir Khan Muttaqi, mengatakan kedua pihak mendiskusikan "membuka halaman baru" '
     "antara dua negara setelah perang terpanjang dalam sejarah AS.",
     [("indirect", "kedua pihak mendiskusikan", "Amir Khan Muttaqi", "Amir Khan Muttaqi", "mengatakan")]),
    # indirect "menurut X," after a paragraph join " ,Menurut" (corpus 6ae367cb0ec8a57e)
    ("indirect menurut after a join",
     '"Setiap penyakit itu berasal dari sebuah virus dan virus itu adalah setan. Untuk itu, setiap penyakit itu '
     'utamanya bersumber dari penyakit hati," kata Goryachev. ,Menurut Goryachev, praktik seperti ini sudah '
     "dimulai pada 2004.",
     [("direct", "Setiap penyakit", "Goryachev", None, "kata"),
      ("indirect", "praktik seperti ini sudah dimulai pada 2004", "Goryachev", None, "Menurut")]),
    # indirect parenthetical ", kata dia," resolved to the one person named before (corpus fd17d74041a4f277)
    ("indirect parenthetical pronoun",
     '"Dengan dihapuskannya visa progresif,,untuk visa umrah diberlakukan 300 riyal," kata Endang di Jeddah.,'
     "Selain biaya umrah, kata dia, jamaah haji juga akan dikenakan sejumlah biaya lainnya.",
     [("direct", "Dengan dihapuskannya", "Endang", None, "kata"),
      ("indirect", "jamaah haji juga akan dikenakan sejumlah biaya lainnya", "Endang", None, "kata")]),
    # multi-sentence direct quote, mojibake left-to-right mark inside, ".," joins (corpus ca3d6c97536605d0)
    ("multi-sentence, mojibake LRM",
     "Hal itu diucapkan Nawawi saat menjalani uji kelayakan dan kepatutan (,) sebagai Capim KPK Periode 2019-2023 "
     'di Komisi III DPR RI, Rabu (11/9/2019).,,"‚ÄéKok kinerja kayak orang pulang dari dugem. Orang pulang tengah '
     'malam, jalan sempoyongan, kiri-kanan, engga sampai-sampai," kata Nawawi di ruang Komisi III DPR, Komplek '
     "Parlemen, Senayan, Jakarta.",
     [("direct", "Kok kinerja kayak orang pulang dari dugem. Orang pulang tengah malam", "Nawawi", None, "kata")]),
    # continued quotation: "A," kata X. "B." (corpus, bench/quotes/checked.tsv row 6)
    ("continued quote",
     'Dalam catatan kurasi, Tommy menyatakan lukisan-lukisan itu mencerminkan ekspresi, realitas, dan pengalaman '
     'hidup. "Mereka menggoreskan catnya ke kanvas dengan gaya masing-masing," kata Tommy. "Ada ekspresi dan '
     'kemerdekaan memilih dengan kondisi yang menyertai secara spontan."',
     [("indirect", "lukisan-lukisan itu", "Tommy", None, "menyatakan"),
      ("direct", "Mereka menggoreskan", "Tommy", None, "kata"),
      ("direct", "Ada ekspresi", "Tommy", None, "kata")]),
    # a quotation over two paragraphs, opened again on the second (seed 000)
    ("multi-paragraph quotation",
     "Menteri Pertahanan tersebut mengatakan: \"Siapa yang langsung muncul ketika AS dan NATO pergi selain China "
     "yang menawarkan investasi di Afghanistan?\n\"Itu adalah untuk mengamankan rute daratan ke pelabuhan seperti "
     "Karachi dan juga ke Pakistan.\"",
     [("direct", "Siapa yang langsung", "Menteri Pertahanan tersebut", None, "mengatakan"),
      ("direct", "Itu adalah untuk", "Menteri Pertahanan tersebut", None, "mengatakan")]),
    # mojibake curly quotes, role then name in apposition (corpus 38643b84dcd7d8f1)
    ("mojibake quotes, apposition",
     ",,‚ÄúDua kejadian berbeda, di Aceh tengah hujan es sementara sebagian wilayah di Aceh sedang panas dan "
     "terjadi kebakaran hutan, tetapi itu bukanlah hal yang tidak mungkin terjadi,‚Äù kata Kepala Seksi Data dan "
     "Informasi BMKG Aceh, Zakaria, Minggu (7/7/2019).",
     [("direct", "Dua kejadian berbeda", "Zakaria", None, "kata")]),
    # a quotation that the flattening broke with ".," inside it; "-nya" stays unattributed because the
    # sentence before names Ilham and Ainun (corpus 4b72530988aa59a2)
    ("quotation across a .,-join",
     "‚ÄúIni satu hal yang menghilangkan duka ini,‚Äù ujar Ilham Akbar Habibie.,Ilham sempat mengenang sembilan "
     "tahun lalu dengan upacara yang sama dan di tempat yang sama Ainun pergi terlebih dahulu. ‚ÄúBayangkan "
     "bapak itu tiap hari tahlilan. Setiap hari Jumat atau lebih ke makam untuk berdoa. Begitu setia bapak dengan "
     "ibu sampai wafat.,Dan sekarang pun dikuburkan di sebelah ibu,‚Äù ungkapnya.",
     [("direct", "Ini satu hal", "Ilham Akbar Habibie", "Ilham Akbar Habibie", "ujar"),
      ("direct", "Bayangkan bapak itu tiap hari tahlilan. Setiap hari Jumat atau lebih ke makam untuk berdoa. "
                 "Begitu setia bapak dengan ibu sampai wafat.,Dan sekarang", None, None, "ungkapnya")]),
    # pronoun resolved: one person named in the sentence before (corpus 2a4d5cb6d0f9d1dd)
    ("pronoun resolved",
     "Hari menuturkan, sebelumnya pengelola Jalan Tol Becakayu berencana membuat taman dari jalan yang tersisa. "
     "Namun, hal itu sepertinya tidak mungkin dilakukan karena berada di separuh jalan.,\"Kami targetkan "
     'pembongkaran trotoar dalam dua pekan ke depan," ucapnya.',
     [("indirect", "sebelumnya pengelola", "Hari", None, "menuturkan"),
      ("direct", "Kami targetkan", "Hari", None, "ucapnya")]),
    # pronoun ambiguous: two persons named before "katanya" (corpus, bench/quotes/checked.tsv row 119)
    ("pronoun ambiguous",
     "- Presiden Joko Widodo (Jokowi) mengaku akan selalu mengingat pesan-pesan Presiden ke-3 RI BJ Habibie. "
     'Salah satu pesannya adalah agar tidak cengeng,"Kami akan selalu ingat pesanmu, jangan terlalu banyak '
     'diskusi, jangan cengeng," katanya dalam pidatonya.',
     [("indirect", "akan selalu mengingat", "Joko Widodo", "Joko Widodo", "mengaku"),
      ("direct", "Kami akan selalu ingat", None, None, "katanya")]),
    # quoted terms and titles are not quotes (seed 001, corpus 45d6352394bb71c6)
    ("scare quotes and titles",
     "sepuluh negara peserta juga menyerukan bantuan kemanusiaan “mendesak” untuk Afghanistan. Apa yang kamu "
     'pikirkan jika mendengar lagu "Senorita"?',
     []),
    # role as speaker, kept as written (corpus, bench/quotes/checked.tsv row 14)
    ("role only",
     "“Kedua pelaku melakukan aksinya lantaran faktor ekonomi sehingga terpaksa menjambret,” ujar Kapolres.",
     [("direct", "Kedua pelaku", "Kapolres", None, "ujar")]),
]


@pytest.mark.parametrize(("case", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_quotes(extractor, case, body, expected):
    quotes = extractor.extract(body)
    for q in quotes:
        assert body[q.start:q.end] == q.text
        if q.kind == "direct":  # an indirect quote may hold a quoted phrase, marks and all
            assert q.text and q.text[0] not in "\"“”" and q.text[-1] not in "\"“”"
    got = [(q.kind, q.text, q.speaker, q.actor, q.cue) for q in quotes]
    assert len(got) == len(expected), got
    for (kind, text, speaker, actor, cue), (ekind, eprefix, espeaker, eactor, ecue) in zip(got, expected):
        assert (kind, speaker, cue) == (ekind, espeaker, ecue), got
        assert text.startswith(eprefix), got
        if eactor != "?":
            assert actor == eactor, got


def test_offsets_skip_mojibake_marks(extractor):
    # corpus 38643b84dcd7d8f1: the text starts after the three characters of ‚Äú and ends before ‚Äù
    body = "‚ÄúAda daerah di Aceh yang timbul titik panas,‚Äù kata Zakaria."
    (q,) = extractor.extract(body)
    assert (q.start, q.end) == (3, body.index("‚Äù"))


def test_text_order_and_types(extractor):
    body = CASES[9][1] + " " + CASES[0][1]
    quotes = extractor.extract(body)
    assert [q.start for q in quotes] == sorted(q.start for q in quotes)
    assert all(isinstance(q, Quote) and q.kind in ("direct", "indirect") for q in quotes)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        '"',
        '"abc',
        '“““”””',
        '"Kalimat tanpa tutup, kata dia.',
        'kata ujar katanya "" "," ,,,, .,.,., menurut , ,',
        "‚Äú‚Äù‚Äú",
        "Menurut",
        '"' * 1000,
        "x" * 10_000,
    ],
)
def test_edge_input_never_raises(extractor, body):
    quotes = extractor.extract(body)
    for q in quotes:
        assert body[q.start:q.end] == q.text


def test_large_body(extractor):
    """A 1 MB body of real sentences and random punctuation: no error, offsets exact."""
    rng = random.Random(7)
    pieces = [case[1] for case in CASES] + ['"', "“", "”", ".,", ",,", " ", "kata", "ujarnya", "‚Äú"]
    body = ""
    while len(body) < 1_000_000:
        body += rng.choice(pieces) + rng.choice([" ", ".,", "\n", ""])
    quotes = extractor.extract(body)
    assert quotes
    for q in quotes[:: max(1, len(quotes) // 500)]:
        assert body[q.start:q.end] == q.text
