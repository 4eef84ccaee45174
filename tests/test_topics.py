"""Topic taxonomy: category normalisation and keyword rules on short texts.

The rules are the hand-written words of data/topics.json plus the weights
learned from labelled articles (data/topic_weights.tsv, bench/train_topics.py);
these tests pin behaviour, not particular weights.
"""

from pathlib import Path

import pytest

from searchapp.facets import topics
from searchapp.facets.actors import default_gazetteer
from searchapp.text.analysis import Stemmer


def terms(text: str) -> list[str]:
    """Stems as the indexer makes them (the default gazetteer's names protected)."""
    return Stemmer(default_gazetteer().protected_words()).terms(text)


REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "corpus" if (REPO / "corpus").is_dir() else REPO.parent / "shared" / "seeds"


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Selebriti", ["Hiburan"]),
        ("SELEBRITI", ["Hiburan"]),
        ("Celebrity", ["Hiburan"]),
        ("seleb", ["Hiburan"]),
        (" News & Entertainment ", ["Hiburan"]),
        ("KOREA", ["Hiburan"]),
        ("Bola", ["Olahraga"]),
        ("bola", ["Olahraga"]),
        ("Super Skor", ["Olahraga"]),
        ("Sports", ["Olahraga"]),
        ("Ekbis", ["Ekonomi & Bisnis"]),
        ("Economy", ["Ekonomi & Bisnis"]),
        ("Money", ["Ekonomi & Bisnis"]),
        ("bisnis", ["Ekonomi & Bisnis"]),
        ("Fiskal & Moneter", ["Ekonomi & Bisnis"]),
        ("Lifestyle", ["Gaya Hidup"]),
        ("cantik", ["Gaya Hidup"]),
        ("Otomotif", ["Otomotif"]),
        ("Autos - Tips & Trik", ["Otomotif"]),
        ("tekno", ["Teknologi & Sains"]),
        ("Techno", ["Teknologi & Sains"]),
        ("Travel", ["Perjalanan"]),
        ("Muslim", ["Agama"]),
        ("International", ["Diplomasi & Internasional"]),
        ("dunia", ["Diplomasi & Internasional"]),
        ("hukum", ["Hukum & Kriminal"]),
        ("News", []),
        ("Nasional", []),
        ("Daerah", []),
        ("metro", []),
        ("Berita Utama", []),
        ("Autotekno", []),
        ("something new", []),
        ("", []),
        (None, []),
    ],
)
def test_from_category(category, expected):
    assert topics.from_category(category) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Persija menang 2-1 atas Persib dalam laga Liga 1, gol dicetak striker di menit akhir.",
         "Olahraga"),
        ("IHSG dan rupiah melemah setelah Bank Indonesia menahan suku bunga acuan; investor "
         "menunggu data inflasi.", "Ekonomi & Bisnis"),
        ("Polisi menangkap tersangka pembunuhan; pelaku dijerat pasal KUHP dan terancam "
         "hukuman penjara.", "Hukum & Kriminal"),
        ("Penyanyi itu merilis album dan video klip lagu baru, penggemar antusias menonton "
         "konser perdananya.", "Hiburan"),
        ("Kelompok militan melancarkan serangan bom; pasukan militer dan tentara memburu "
         "teroris di perbatasan.", "Keamanan & Terorisme"),
        ("Menteri luar negeri kedua negara menggelar pertemuan bilateral dan diplomasi untuk "
         "memperbaiki hubungan diplomatik.", "Diplomasi & Internasional"),
        ("Gempa bermagnitudo 5,2 mengguncang; BMKG memastikan tidak berpotensi tsunami, BNPB "
         "siaga bencana.", "Bencana & Lingkungan"),
        ("Dokter mengingatkan gejala penyakit jantung dan diabetes; pasien perlu obat dan "
         "pemeriksaan rutin.", "Kesehatan"),
        ("Toyota meluncurkan mobil SUV baru bermesin 1.500 cc dengan transmisi otomatis, "
         "harga di diler naik.", "Otomotif"),
        ("Smartphone baru ini memakai chipset Snapdragon, RAM 8 GB, baterai 5.000 mAh dan "
         "kamera 48 MP.", "Teknologi & Sains"),
        ("Siswa SMA dan guru menyambut kurikulum baru; sekolah menyiapkan ujian dan "
         "beasiswa kuliah.", "Pendidikan"),
        ("Umat Islam dianjurkan memperbanyak doa dan salat sunnah; ustaz mengutip hadis "
         "Rasulullah.", "Agama"),
        ("Destinasi wisata pantai di Labuan Bajo ramai wisatawan, hotel dan tiket pesawat "
         "habis saat liburan.", "Perjalanan"),
        ("Partai koalisi dan oposisi di DPR berebut kursi pimpinan MPR jelang pelantikan "
         "kabinet.", "Politik"),
        ("Relawan menyalurkan bantuan kemanusiaan dan donasi bagi pengungsi yang kelaparan.",
         "Kemanusiaan"),
        ("Tips memilih busana dan riasan wajah agar tampil cantik, plus resep sarapan "
         "sehat rendah kalori.", "Gaya Hidup"),
        # A second text per topic, in other words.
        ("Timnas sepak bola Indonesia kalah dari Malaysia di kualifikasi Piala Dunia; pelatih "
         "mengevaluasi lini belakang.", "Olahraga"),
        ("Pembalap MotoGP Marc Marquez meraih pole position di sirkuit Aragon.", "Olahraga"),
        ("Teror bom bunuh diri di depan gereja; Densus 88 memburu jaringan teroris yang "
         "diduga terkait ISIS.", "Keamanan & Terorisme"),
        ("Banjir dan tanah longsor merendam ratusan rumah setelah hujan deras; BPBD "
         "mengevakuasi warga.", "Bencana & Lingkungan"),
        ("Kebakaran hutan dan lahan gambut di Riau memicu kabut asap; kualitas udara "
         "memburuk.", "Bencana & Lingkungan"),
        ("Harga saham emiten perbankan naik; investor asing mencatat pembelian bersih di "
         "Bursa Efek Indonesia.", "Ekonomi & Bisnis"),
        ("Pemain drama Korea itu dikabarkan berpacaran dengan aktris lawan mainnya, agensi "
         "belum memberi konfirmasi.", "Hiburan"),
        ("Pasien demam berdarah meningkat; dokter menyarankan masyarakat menguras bak mandi "
         "dan menjaga daya tahan tubuh.", "Kesehatan"),
        ("Presiden Amerika Serikat bertemu Perdana Menteri Jepang membahas perjanjian dagang "
         "dan hubungan kedua negara.", "Diplomasi & Internasional"),
        ("Honda memperkenalkan motor skuter matik baru dengan mesin 150 cc dan konsumsi "
         "bahan bakar irit.", "Otomotif"),
        ("Komisi Pemberantasan Korupsi menetapkan bupati sebagai tersangka suap proyek; "
         "penyidik menggeledah kantornya.", "Hukum & Kriminal"),
        ("Fraksi-fraksi DPR menyetujui revisi undang-undang dalam rapat paripurna, partai "
         "oposisi menolak.", "Politik"),
        ("Aplikasi pesan instan itu meluncurkan fitur enkripsi baru untuk pengguna Android "
         "dan iOS.", "Teknologi & Sains"),
        ("Jemaah haji diimbau menjaga kesehatan selama ibadah di Mekkah dan memperbanyak "
         "zikir.", "Agama"),
        ("Mahasiswa baru mengikuti orientasi kampus; rektor meminta mereka fokus kuliah dan "
         "meraih prestasi akademik.", "Pendidikan"),
        ("Warga menggalang donasi untuk korban kebakaran; relawan membagikan sembako dan "
         "pakaian layak pakai.", "Kemanusiaan"),
        ("Hotel dan objek wisata di Bali dipadati turis asing selama musim liburan.",
         "Perjalanan"),
        ("Padu padan outfit kasual dengan sneakers putih agar penampilan tetap stylish.",
         "Gaya Hidup"),
    ],
)
def test_rules_top_topic(text, expected):
    assert topics.from_stems(terms(text))[0] == expected


@pytest.mark.parametrize(
    "text",
    ["Ia datang kemarin dan pulang hari ini.", "Rapat dimulai pukul sembilan pagi.", ""],
)
def test_rules_nothing_to_say(text):
    assert topics.from_stems(terms(text)) == []


def test_rules_several_topics():
    stems = terms("Penyanyi dangdut itu ditangkap polisi karena kasus narkoba; ia diperiksa "
                  "penyidik bersama manajernya.")
    assert set(topics.from_stems(stems)[:2]) == {"Hukum & Kriminal", "Hiburan"}


def test_scores_are_positive_evidence_only():
    found = topics.scores(terms("Gol tunggal striker itu membawa klub menang di liga."))
    assert found and all(score > 0 for score in found.values())
    assert max(found, key=found.get) == "Olahraga"


def test_learned_weights_are_well_formed():
    learned = topics._read_learned()
    assert learned, "data/topic_weights.tsv is missing: run bench/train_topics.py"
    assert set(learned) <= set(topics.names())
    weights = [w for table in learned.values() for w in table.values()]
    assert all(-3 <= w <= 3 and w != 0 for w in weights)
    assert max(len(table) for table in learned.values()) <= 2000
    # Outlet names and page furniture are never evidence of a topic.
    for stem in ("kompas", "okezone", "tribunnews", "wowkeren", "fimela", "baca", "simak"):
        assert all(stem not in table for table in learned.values())


def test_learned_weights_add_to_hand_words():
    rules = topics._build(topics._raw(), {"Olahraga": {"zzyzx": 2.0, "gol": 1.0},
                                          "Hiburan": {"gol": -3.0}})
    assert topics._scores_with(rules, ["zzyzx"]) == {"Olahraga": pytest.approx(0.2 * 2)}
    base = topics._scores_with(topics._build(topics._raw(), {}), ["gol"])
    found = topics._scores_with(rules, ["gol"])
    assert found["Olahraga"] > base["Olahraga"]
    assert "Hiburan" not in found
    with pytest.raises(topics.TopicDataError):
        topics._build(topics._raw(), {"Not A Topic": {"x": 1.0}})


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_topics(prefix):
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    stems = terms(path.read_text("utf-8"))
    ranked = sorted(topics.scores(stems).items(), key=lambda kv: -kv[1])
    assert [name for name, _ in ranked[:2]] == ["Diplomasi & Internasional", "Keamanan & Terorisme"]
    assert topics.from_stems(stems)[0] == "Diplomasi & Internasional"


def test_assign_trusts_specific_category_first():
    stems = terms("Polisi menangkap artis itu; tersangka kasus narkoba diperiksa penyidik.")
    assigned = topics.assign("Selebriti", stems)
    assert assigned[0] == "Hiburan"
    assert "Hukum & Kriminal" in assigned


def test_assign_generic_category_uses_rules():
    stems = terms("Persija menang atas Persib di laga Liga 1, gol dicetak striker.")
    assert topics.assign("News", stems) == topics.from_stems(stems) == ["Olahraga"]


def test_names():
    names = topics.names()
    assert 12 <= len(names) <= 20 and len(set(names)) == len(names)
