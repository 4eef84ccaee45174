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


# (case, body, expected (speaker, name) of each attributed quote in order): how a speaker is listed
NAMES = [
    # a longer speaker of the same body (corpus d8cb2388c605a495, two sentences of it)
    ("longer speaker",
     '"Nutrisi yang sering kurang dalam makanan kita," kata Sonya Angelone, RD, juru bicara Akademi Nutrisi dan '
     "Diet, seperti dilansir dari laman Women‚Äôs Health.,Biji bunga matahari memiliki senyawa nabati yang disebut "
     "fitosterol yang membantu menurunkan kolesterol, kata Angelone.",
     [("Sonya Angelone", "Sonya Angelone"), ("Angelone", "Sonya Angelone")]),
    # the name around the short one: the words after it (corpus 4d3b93837ace12e1, whole body)
    ("name after",
     "- Api kebakaran , hingga Rabu (18/9/2019) malam belum berhasil dipadamkan.,Wafik Septiawan, warga lereng , "
     'yang tergabung dalam relawan pemadam mengonfirmasi hal ini.,"Sementara (api) belum padam (di jalur Selo)," '
     "kata Wafik dihubungi TribunTravel melalui\xa0Direct Message\xa0(DM) Instagram, Rabu malam.,Menindaklanjuti "
     "hal ini, petugas Balai Taman Nasional , (BTNGMb) memakai drone untuk memantau titik api.",
     [("Wafik", "Wafik Septiawan")]),
    # the words before it (corpus 3d14b66b77cec6cc, first and last sentences)
    ("name before",
     "Khabib Nurmagomedov berhasil meraih kemenangan atas Dustin Poirier dalam gelaran , 242 di Du Arena, Uni "
     "Emirates Arab,\xa0Sabtu\xa0(7/9/2019).,Selepas melakoni laga penting itu, Nurmagomedov mengaku\xa0bersedia "
     'jika diminta\xa0untuk kembali bertarung di Abu Dhabi.,"Tentu saja, saya ingin bertarung di sini," kata '
     "Nurmagomedov, dilansir dari ,.",
     [("Nurmagomedov", "Khabib Nurmagomedov"), ("Nurmagomedov", "Khabib Nurmagomedov")]),
    # two persons called Bambang in one body: each short "Bambang" stays as written, the pronoun too
    # (corpus f8de1e1ef7a2a8af; the Bambang of the last quote is Dwiyanto, but the rules cannot tell)
    ("two longer names",
     "kata Menteri Perencanaan Nasional (PPN)/ Kepala Badan Perencanaan Pembangunan Nasional (Bappenas) Bambang "
     "Brodjonegoro saat peresmian PLTBM, Selasa (17/9/2019) di Mentawai.,Bambang mengatakan, pemanfaatan bambu "
     "untuk energi listrik merupakan teknologi yang tepat untuk daerah terpencil dan jauh dari pusat kota.,Untuk "
     "membangun tiga PLTBM itu, menurut Bambang, dibutuhkan Rp 150 miliar yang merupakan hibah dari Amerika "
     'Serikat.,"Investasinya Rp 150 miliar dari hibah Amerika Serikat ke pemerintah Indonesia. Kemudian, kita '
     'hibahkan lagi ke Pemerintah Kabupaten Mentawai," katanya.,Sementara itu, General Manager PLN Unit Induk '
     "Wilayah (UIW) Sumatera Barat Bambang Dwiyanto menyebutkan, tiga PLTBM itu berkapasitas 700 kilowatt dan "
     'menampung 1.233 pelanggan yang tersebar di tiga desa itu.,"Tiga PLTBM itu sudah bisa menerangi tiga desa di '
     'Mentawai. Ini tentunya sangat bagus," kata Bambang.',
     [("Bambang", "Bambang"), ("Bambang", "Bambang"), ("Bambang", "Bambang"),
      ("Bambang Dwiyanto", "Bambang Dwiyanto"), ("Bambang", "Bambang")]),
    # no longer name in the body (the crawler stripped it: corpus 892358383f4d9ae8)
    ("no longer name",
     "Agus menuturkan, Pimpinan KPK merasa perlu bertemu dengan Presiden untuk membahas revisi UU KPK. Sebab, "
     'hingga kini Pimpinan KPK belum mendapat draf RUU KPK secara resmi.,"Di dalam banyak kesempatan saya sudah '
     "menyampaikan, masa draf yang resmi baik draf RUU-nya, maupun DIM-nya, kita tuh belum tahu, kita kan tahunya "
     'dari media. Kalau dimungkinkan ada diskusi," kata Agus.',
     [("Agus", "Agus"), ("Agus", "Agus")]),
    # a short all-capital stage name stays as written: it may be an acronym (corpus 07c2cb1a239b76d9)
    ("all capitals kept",
     '"Senang banget bisa ikut acara ini, terimakasih Smartfren. Aku juga deg-degan nanti akan satu panggung '
     'dengan Dewa 19, Rossa, dan musisi legend lainnya," ujar NIKI saat wawancara eksklusif dengan Group SCTV.',
     [("NIKI", "NIKI")]),
    # a role begins with a capital, its title words too (corpus 56d691b99b1b9da4)
    ("role cased",
     "Dalam foto raport tersebut, sang guru menilai bahwa Deepika adalah anak yang sangat cerewet di kelas. Selain "
     'itu, Deepika juga seharusnya lebih menurut kepada gurunya.,"Deepika harus belajar mengikuti instruksi yang '
     'diberikan," tulis sang guru.',
     [("sang guru", "Sang Guru"), ("sang guru", "Sang Guru")]),
]


@pytest.mark.parametrize(("case", "body", "expected"), NAMES, ids=[c[0] for c in NAMES])
def test_names(extractor, case, body, expected):
    got = [(q.speaker, q.name) for q in extractor.extract(body) if q.speaker is not None]
    assert got == expected


def test_name_resolves_to_the_actor(extractor):
    # "Saut" alone is no alias; the body's "Saut Situmorang" is (corpus a43f79a3c20ed52d, a paragraph of it)
    body = ("Selain menyinggung Abraham Samad Nawawi juga menyindir Wakil Ketua KPK saat ini, Saut Situmorang. "
            '"Apa yang pernah Saut lakukan, juga beda dengan saya. Saya tidak pernah melobi Bapak," ujar Nawawi.,'
            "Saut mengakui ada lobi-lobi itu. Namun, Saut mengatakan proses lobi itu ia lakukan di restoran sembari "
            "makan siang. Di sana, kata Saut, ia hanya menjelaskan program kerjanya bila terpilih menjadi pimpinan "
            'KPK. "Ini program saya, pilihlah saya, agar mereka mau memilih kita, iya enggak?" kata Saut kepada '
            "wartawan, Senin, 9 September 2019.")
    quotes = [q for q in extractor.extract(body) if q.speaker == "Saut"]
    assert len(quotes) >= 3
    assert all((q.name, q.actor) == ("Saut Situmorang", "Saut Situmorang") for q in quotes)


def test_unattributed_has_no_name(extractor):
    # the pronoun-ambiguous case above: no speaker, so no name
    quotes = extractor.extract(next(c[1] for c in CASES if c[0] == "pronoun ambiguous"))
    assert [(q.speaker, q.name) for q in quotes if q.kind == "direct"] == [(None, None)]
