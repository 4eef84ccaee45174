"""Who said what: the direct and indirect quotes of a news body, with their speakers.

Indonesian news is built on statements: `"…," kata Menkeu Sri Mulyani`,
`menurut Jubir Taliban Suhail Shaheen, …`, `Ia menegaskan …`. The extractor
reads them with rules, not a model, so every decision can be traced to a
sentence shape: quotation marks paired within a paragraph, the cue words
around them (data/quote_cues.tsv), the speaker phrase after or before the cue
with its titles stripped (data/speaker_titles.tsv), and the speaker resolved
to a gazetteer actor. A pronoun (`ia`, `dia`, `beliau`, `ujarnya`) is resolved
to the person named in the nearest sentence before it that names anyone (at
most four back), and only when that sentence names exactly one person.

Corpus bodies arrive with paragraphs flattened into ".," joins and curly quotes
as mojibake (`‚Äú…‚Äù`); the rules run on a normalised copy and every offset is
mapped back to the body as given, so `body[q.start:q.end] == q.text`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

from searchapp.facets.actors import Gazetteer
from searchapp.text.analysis import common_word, read_lines, stop_words, trie_pattern

ROLES = ("post", "nya", "verb", "verb+", "passive", "menurut")
KINDS = ("title", "place", "stop", "link", "not")
QUOTE_MARKS = '"“”„«»'
PRONOUNS = frozenset({"ia", "dia", "beliau"})
PLURAL_PRONOUNS = frozenset({"mereka", "kami", "kita", "pihaknya"})
WINDOW_SENTENCES = 4  # a pronoun looks back at most this many sentences (past its own) for a named person

# Mojibake of UTF-8 read as Mac Roman, and invisible characters: the quote
# marks become marks, the rest spaces or nothing.
_MOJIBAKE = {
    "‚Äú": "“", "‚Äù": "”", "‚Äò": "‘", "‚Äô": "’", "‚Äì": "–", "‚Äî": "—", "‚Ä¶": "…",
    "‚Äé": "", "‚Äã": "", "¬†": " ", "\u200b": "", "\u200e": "", "\u200f": "", "\ufeff": "", "\xa0": " ",
}
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in sorted(_MOJIBAKE, key=len, reverse=True)))
_COMMAS_RE = re.compile(r",+(?=[^\s,])")  # a run of commas touching the next word (or mark)
_WORD_RE = re.compile(r"\([^\W\d_][\w&'’.\-]*\)|[^\W_][\w'’\-]*")
_WORD_SPLIT_RE = re.compile(f"({_WORD_RE.pattern})")
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"”’]?\s+(?=[\"“”(‘'\d]|[^\W\d_])")
_ABBREVIATIONS = frozenset(
    "dr drg prof ir hj kh st no jl kec kab dkk dll dsb sdr bpk mr mrs ms jr sr tbk vs pol ust".split()
)
# Words between a subject and its verb ("Rusia telah mengatakan"), and the
# connectives a subject clause may start with ("tapi AS mengatakan").
_AUXILIARIES = frozenset(
    "telah sudah juga pun kembali sebelumnya lalu kemudian pernah akan justru hanya sempat bahkan "
    "lantas secara tegas langsung sendiri masih tetap pula lagi sekaligus".split()
)
_CONNECTIVES = frozenset(
    "tapi tetapi namun dan sedangkan sementara kemudian lalu bahkan maka sehingga karena adapun "
    "selanjutnya terpisah sebelumnya sementara itu".split()
)
_SUBORDINATORS = frozenset(
    "setelah sebelum ketika saat karena meski meskipun walaupun jika kalau apabila bila usai seusai sejak "
    "agar supaya hingga sampai sambil seraya sebab yang untuk".split()
)
_DETERMINERS = frozenset("para salah seorang sang pihak sejumlah beberapa".split())
_NEGATIONS = frozenset("tidak tak belum enggan bukan jangan tanpa menolak".split())
_ADJUNCTS = frozenset(
    "kepada pada di dalam saat ketika usai seusai melalui lewat via kepadanya kemarin pekan hari minggu bulan "
    "tahun senin selasa rabu kamis jumat sabtu sebelumnya".split()
)
_THAT = frozenset({"bahwa", "jika", "kalau"})
MONTH_WORDS = frozenset(
    "januari februari maret april mei juni juli agustus september oktober november desember".split()
)
_SENTENCE_PREFIXES = frozenset(
    "lebih lanjut selanjutnya namun tetapi sementara itu terpisah di sisi lain selain sebelumnya kemudian "
    "adapun dan lalu".split()
)
_NAME_COMMA_RE = re.compile(r"(?:^|[.;,]\s+)((?:[A-Z][\w'’-]+\s+){1,3}[A-Z][\w'’-]+),\s+([^\W\d_]+)")
_REATTRIBUTE_RE = re.compile(
    r"^(?:(?:hal|pernyataan|penjelasan|keterangan|ucapan|pesan)\s+(?:itu|tersebut|ini)|demikian)"
    r"(?:\s+(?:juga|pun|sempat|pernah))?\s+(?P<cue>[^\W\d_]+)\s+(?:oleh\s+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quote:
    """One statement in a body: what was said, where, and by whom."""

    text: str  # the quote as written (without the quotation marks)
    start: int  # character offsets of `text` in the body
    end: int
    kind: str  # "direct" or "indirect"
    speaker: str | None  # as written, titles stripped ("Sri Mulyani"); None when unattributed
    actor: str | None  # the gazetteer actor's canonical name, when the speaker resolves to one
    cue: str | None  # the cue word as written ("kata", "ujarnya", "menurut")
    name: str | None = None  # who, as listed: the full name the body gives a short one ("Agus" -> "Agus
    # Wibowo"), in one casing ("NIKI" -> "Niki", "juru bicara" -> "Juru bicara"); None when unattributed


@dataclass
class _Speaker:
    """A speaker phrase read from a sentence."""

    written: str | None  # the name (titles stripped) or the role as written; None for a pronoun
    actor: str | None
    named: bool  # a person's name, not a role, organisation or pronoun
    pronoun: bool = False  # ia/dia/beliau/-nya: to be resolved
    plural: bool = False  # mereka/kami: never resolved


@dataclass
class _Found:
    """A quote on the normalised text, before offsets are mapped back."""

    start: int
    end: int
    kind: str
    cue: str | None
    cue_at: int  # where its attribution stands (for the pronoun window)
    sentence: int
    speaker: _Speaker | None
    chain: int = -1  # quotes of one multi-paragraph quotation share it
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Text:
    """The body normalised for the rules, with the way back to the body."""

    norm: str
    flat: str  # norm before paragraph joins became newlines
    pos: Sequence[int]  # body offset of each normalised character, plus len(body)
    width: dict[int, int]  # normalised index -> body length, where it is not 1


def _normalise(body: str) -> _Text:
    """Mojibake repaired and paragraph joins turned into newlines, offsets kept."""
    if not _MOJIBAKE_RE.search(body):  # most bodies: every offset stays where it is
        return _Text(_join_paragraphs(body), body, range(len(body) + 1), {})
    parts: list[str] = []
    pos: list[int] = []
    width: dict[int, int] = {}
    last = 0
    for m in _MOJIBAKE_RE.finditer(body):
        parts.append(body[last:m.start()])
        pos.extend(range(last, m.start()))
        rep = _MOJIBAKE[m.group()]
        if rep:
            width[len(pos)] = len(m.group())
            parts.append(rep)
            pos.append(m.start())
        last = m.end()
    parts.append(body[last:])
    pos.extend(range(last, len(body)))
    pos.append(len(body))
    flat = "".join(parts)
    return _Text(_join_paragraphs(flat), flat, pos, width)


def _join_paragraphs(norm: str) -> str:
    """The corpus flattened paragraphs into commas ("kalimat.,Kalimat"): a comma
    after a sentence end, or a run of commas, touching the next word is a
    paragraph break; a comma before a space (or in a "1,5") is a comma."""
    chars: list[str] | None = None  # copied only when a join is found: most bodies have none
    for m in _COMMAS_RE.finditer(norm):
        i, j = m.span()
        nxt = norm[j]
        prev = norm[i - 1] if i else "\n"
        if (prev.isdigit() and nxt.isdigit()) or (prev in QUOTE_MARKS and nxt in QUOTE_MARKS):
            continue  # "1,5"; “,”: an empty quotation (a stripped link)
        back = i - 1
        while back >= 0 and norm[back] in " \t":
            back -= 1
        prev_word = norm[back] if back >= 0 else "\n"
        before = norm[i - 2] if i >= 2 else ""
        if (
            j - i > 1
            or prev_word in ".!?…\n"
            or (prev in QUOTE_MARKS and before in ".!?…,")
            or (nxt.isupper() and (prev.isalnum() or prev == ")"))
        ):
            if chars is None:
                chars = list(norm)
            chars[i:j] = "\n" * (j - i)
    return norm if chars is None else "".join(chars)


class _Tables:
    """The cue and speaker tables, read once per extractor."""

    def __init__(self) -> None:
        self.cues: dict[str, str] = {}
        for line in read_lines("quote_cues.tsv"):
            form, role, *_ = (c.strip() for c in line.split("\t"))
            if role not in ROLES:
                raise ValueError(f"quote_cues.tsv: unknown role {role!r}")
            self.cues[form.lower()] = role
        words: dict[str, set[tuple[str, ...]]] = {k: set() for k in KINDS}
        for line in read_lines("speaker_titles.tsv"):
            kind, _, text = line.partition("\t")
            if kind not in KINDS:
                raise ValueError(f"speaker_titles.tsv: unknown kind {kind!r}")
            words[kind].add(tuple(text.strip().lower().rstrip(".").split()))
        self.titles = words["title"]
        self.places = words["place"]
        self.title_words = frozenset(w for t in self.titles for w in t)
        self.title_heads = frozenset(t[0] for t in self.titles if t)
        self.stops = frozenset(w[0] for w in words["stop"])
        self.links = frozenset(w[0] for w in words["link"])
        self.nots = frozenset(w[0] for w in words["not"])
        self.longest = max((len(t) for t in self.titles | self.places), default=1)
        by_role: dict[str, list[str]] = {}
        for form, role in self.cues.items():
            by_role.setdefault(role, []).append(form)
        self.cue_re = re.compile(r"(?<![\w-])(" + trie_pattern(self.cues) + r")(?![\w-])", re.IGNORECASE)


def _words(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, word) of the words in text[start:end]; an abbreviation or
    initial keeps its dot ("dr.", "M.")."""
    end = len(text) if end is None else end
    out = []
    for m in _WORD_RE.finditer(text, start, end):
        s, e, w = m.start(), m.end(), m.group()
        if e < end and text[e] == "." and _keeps_dot(w):
            e += 1
            w += "."
        out.append((s, e, w))
    return out


def _keeps_dot(word: str) -> bool:
    """Whether a word followed by a dot is an initial or an abbreviation, the dot part of it."""
    return len(word) == 1 or word.lower() in _ABBREVIATIONS


class _Norm(str):
    """The normalised body with its words read once: the rules ask for the
    words of overlapping spans (a sentence, the clause before a cue, the window
    around a name) hundreds of times a body, and reading each span anew cost
    more than the rules themselves."""

    def __new__(cls, text: str) -> _Norm:
        self = super().__new__(cls, text)
        # _words(text), a third faster: the words and the text between them split apart, their
        # offsets summed from the lengths, and only the dots of the text looked at
        parts = _WORD_SPLIT_RE.split(text)
        bounds = list(accumulate(map(len, parts)))
        self._starts = starts = bounds[:-1:2]
        self._ends = ends = bounds[1::2]  # before an abbreviation's dot
        self._whole = whole = list(zip(starts, ends, parts[1::2]))
        dot = text.find(".")
        while dot >= 0:
            k = bisect_left(ends, dot)
            if k < len(ends) and ends[k] == dot and _keeps_dot(whole[k][2]):
                whole[k] = (starts[k], dot + 1, whole[k][2] + ".")
            dot = text.find(".", dot + 1)
        return self

    def words(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """`_words(self, start, end)`, from the words of the whole text: the
        words inside the span as read there, a word ending at the end without
        the dot `_words` does not see, a word cut by an edge read anew."""
        if start >= end:
            return []
        starts, ends = self._starts, self._ends
        i = bisect_left(starts, start)
        head = []
        if i and ends[i - 1] > start:  # a word cut by the start: its rest read as _words would
            cut = ends[i - 1]
            if end <= cut:
                return _words(self, start, end)
            head = [w for w in _words(self, start, cut + 1) if w[0] < cut]
        j = bisect_left(ends, end, i)  # words[i:j] end before `end`
        if j == len(starts) or starts[j] >= end:
            return head + self._whole[i:j]
        if ends[j] == end:  # the last word, without the dot after the span
            s, e, w = self._whole[j]
            return head + self._whole[i:j] + [(s, end, w[:end - s])]
        return head + self._whole[i:j] + _words(self, starts[j], end)


def _bare(word: str) -> str:
    return word.lower().rstrip(".")


class QuoteExtractor:
    """Direct and indirect quotes of a body, with speakers resolved to the gazetteer."""

    def __init__(self, gazetteer: Gazetteer):
        self.gaz = gazetteer
        self.t = _Tables()
        self._types = {a.name: a.type for a in gazetteer.actors()}
        # the first words of the aliases: a phrase starting with another word resolves to no actor,
        # and most words of a speaker phrase start none
        self._heads = frozenset(alias.split()[0].casefold() for a in gazetteer.actors() for alias in a.aliases)
        # a speaker's actor, once per name: the same names are quoted article after article
        self._actor = lru_cache(maxsize=1 << 16)(self._actor)

    # --- the public call -----------------------------------------------------

    def extract(self, body: str) -> list[Quote]:
        """The quotes of a body in text order; never raises (an index-time
        extractor must not fail an article: an unexpected error gives [])."""
        try:
            if not isinstance(body, str) or not body.strip():
                return []
            return self._extract(body)
        except Exception:  # noqa: BLE001 - see docstring
            return []

    def _extract(self, body: str) -> list[Quote]:
        text = _normalise(body)
        joined = text.norm
        sentences: list[tuple[int, int]] = []
        found: list[_Found] = []
        pairs = self._pairs(joined, text.flat)
        spanning = [(o, c) for o, c, _ in pairs if "\n" in joined[o:c]]
        if spanning:  # a quotation over paragraphs is read as one: a join back to its comma, a break a space
            chars = list(joined)
            for o, c in spanning:
                for i in range(o, c):
                    if chars[i] == "\n":
                        chars[i] = text.flat[i] if text.flat[i] != "\n" else " "
            joined = "".join(chars)
        norm = _Norm(joined)
        pstart = 0
        paragraphs = []
        for line in norm.split("\n"):
            paragraphs.append((pstart, pstart + len(line)))
            pstart += len(line) + 1
        for ps, pe in paragraphs:
            if ps == pe:
                continue  # a blank line between paragraphs
            inner = [p for p in pairs if ps <= p[0] < pe]
            for ss, se in self._sentences(norm, ps, pe, inner):
                sentences.append((ss, se))
                here = [p for p in inner if ss <= p[0] < se]
                self._sentence(norm, len(sentences) - 1, ss, se, here, found)
        self._continue(norm, found, sentences)
        self._resolve(norm, found, sentences)
        names = self._full_names(norm, found)
        quotes = []
        for f in sorted(found, key=lambda f: f.start):
            start = text.pos[f.start]
            end = text.pos[f.end - 1] + text.width.get(f.end - 1, 1)
            sp = f.speaker
            speaker = sp.written if sp is not None and not sp.plural else None
            actor = sp.actor if speaker is not None else None
            name = None
            if speaker is not None:
                full = names.get(speaker)
                if full is not None:
                    name, actor = full.written, actor or full.actor
                else:
                    name = self._cased(speaker, sp.named, norm)
            quotes.append(Quote(body[start:end], start, end, f.kind, speaker, actor, f.cue, name))
        return quotes

    # --- paragraphs, quotation marks, sentences ------------------------------

    @staticmethod
    def _pairs(norm: str, flat: str) -> list[tuple[int, int, bool]]:
        """(opening mark, closing mark, closed) of the quotations of a body.

        Straight marks do not say which way they face, so a mark opens or
        closes by what touches it, and by turns when nothing tells. A quotation
        still open at the end of its paragraph ends there when the next
        paragraph opens with a mark (a quotation over several paragraphs); it
        runs on over up to two paragraph breaks when it closes there (a post
        or a letter quoted line by line, a break the flattening put inside
        it); otherwise it is dropped."""
        pairs: list[tuple[int, int, bool]] = []
        opened: int | None = None
        for m in re.finditer(f"[{QUOTE_MARKS}]", norm):
            i = m.start()
            ps = norm.rfind("\n", 0, i) + 1
            pe = norm.find("\n", i)
            pe = len(norm) if pe < 0 else pe
            at_start = not norm[ps:i].strip()
            if opened is not None and opened < ps:
                end = norm.find("\n", opened)
                breaks = re.findall(r"\n+", norm[end:ps])  # a blank line between paragraphs is one break
                if at_start and norm[opened + 1:end].strip():
                    pairs.append((opened, end, False))
                    opened = None
                elif at_start or len(breaks) > 2:
                    opened = None
            prev = norm[i - 1] if i > ps else ""
            nxt = norm[i + 1] if i + 1 < pe else ""
            opens = at_start or (
                (not prev or prev.isspace() or prev in "([{:,—–-") and bool(nxt) and not nxt.isspace()
            )
            closes = (
                not at_start and bool(prev) and not prev.isspace()
                and (not nxt or nxt.isspace() or nxt in ",.;:!?)]—–-" or nxt in QUOTE_MARKS)
            )
            if norm[i] == "“" and opens:
                closes = False
            if opened is None:
                if opens or not closes:
                    opened = i
            elif closes or not opens:
                pairs.append((opened, i, True))
                opened = None
            else:
                opened = i  # an opening inside a quotation: the earlier mark never closed
        return pairs

    @staticmethod
    def _sentences(norm: _Norm, ps: int, pe: int, pairs) -> list[tuple[int, int]]:
        """Sentences of a paragraph; a sentence never ends inside a quotation."""
        out, start = [], ps
        for m in _SENTENCE_END_RE.finditer(norm, ps, pe):
            cut = m.end()
            if norm[cut].islower():
                continue  # '?" kata Agus': the attribution goes on
            if any(o < cut <= c for o, c, _ in pairs):
                continue
            dot = m.start()
            if norm[dot] == ".":
                words = norm.words(max(ps, dot - 12), dot)
                word = words[-1][2] if words and words[-1][1] >= dot else ""
                if word and _keeps_dot(word):
                    continue
            out.append((start, cut))
            start = cut
        if norm[start:pe].strip():
            out.append((start, pe))
        return [(s, e) for s, e in out if norm[s:e].strip()]

    # --- one sentence --------------------------------------------------------

    def _sentence(self, norm: _Norm, k: int, ss: int, se: int, pairs, found: list[_Found]) -> None:
        """The quotes of one sentence: its quotations with their attribution,
        else one indirect quote, else a re-attribution of the sentence before."""
        direct = False
        for idx, (o, c, closed) in enumerate(pairs):
            cs, ce = o + 1, c
            while cs < ce and norm[cs].isspace():
                cs += 1
            while ce > cs and norm[ce - 1].isspace():
                ce -= 1
            if ce <= cs or not any(ch.isalnum() for ch in norm[cs:ce]):
                continue
            before = norm[ss:o]
            if idx:
                before = norm[pairs[idx - 1][1] + 1:o]
            after_end = pairs[idx + 1][0] if idx + 1 < len(pairs) else se
            b = before.rstrip()
            lead = not b or b[-1] in ":,;—–-" or (idx > 0 and not b.strip(" ,.")) or b[-1] in ".!?"
            attr = self._after(norm, c + 1, after_end) if closed else None
            if attr is None:
                attr = self._before(norm, ss if not idx else pairs[idx - 1][1] + 1, o, lead)
            words = len(norm[cs:ce].split())
            if attr is None and not lead:
                continue  # a phrase quoted inside a sentence: a term, a title, part of an indirect quote
            tail = norm[c + 1:after_end].strip(" ,.!?") if closed else ""
            standalone = not tail or not closed
            if attr is None and (words < 4 or not standalone or norm[ce - 1] not in ".!?…,"
                                 or self.t.cue_re.match(norm, cs)):
                continue  # a title or a term in quotation marks, or marks paired wrongly
            cue, at, speaker = attr if attr else (None, cs, None)
            found.append(_Found(cs, ce, "direct", cue, at, k, speaker, extras={"lead": lead, "closed": closed}))
            direct = True
        if direct:
            return
        if self._reattribute(norm, k, ss, se, found):
            return
        quote = self._indirect(norm, k, ss, se)
        if quote is not None:
            found.append(quote)

    def _after(self, norm: _Norm, start: int, end: int):
        """The attribution after a closing mark: `kata X`, `ujarnya`, `X menambahkan`."""
        words = norm.words(start, min(end, start + 400))
        if not words:
            return None
        gap = norm[start:words[0][0]]
        if gap.strip(" ,—–-") or "\n" in gap:
            return None
        i = 0
        if words[0][2].lower() == "demikian" and len(words) > 1:
            i = 1
        s, e, w = words[i]
        role = self.t.cues.get(w.lower())
        if role in ("post", "passive", "menurut"):
            speaker, _ = self._forward(norm, e, end)
            return (w, s, speaker) if speaker is not None else None
        if role == "nya":
            return w, s, _Speaker(None, None, False, pronoun=True)
        # "…," Heidy menambahkan.
        for j in range(i, min(len(words), i + 10)):
            if self.t.cues.get(words[j][2].lower()) in ("verb", "verb+"):
                if norm[words[j - 1][1]:words[j][0]].strip() if j else False:
                    return None
                speaker = self._subject(norm, words[i][0], words[j][0])
                return (words[j][2], words[j][0], speaker) if speaker is not None else None
        return None

    def _before(self, norm: _Norm, ss: int, o: int, lead: bool):
        """The attribution before an opening mark: `X mengatakan: "…"`,
        `Menurut X, "…"`, `kata X, "…"`."""
        b = norm[ss:o].rstrip()
        while b and b[-1] in ":,—–-":
            b = b[:-1].rstrip()
        words = norm.words(ss, ss + len(b))
        if not words:
            return None
        s, e, w = words[-1]
        if w.lower() == "bahwa" and len(words) > 1:
            s, e, w = words[-2]
            words = words[:-1]
        role = self.t.cues.get(w.lower())
        if role in ("verb", "verb+"):
            if self._negated(norm, ss, s):
                return None
            speaker = self._subject(norm, ss, s)
            return (w, s, speaker) if speaker is not None else None
        if not lead:
            return None
        if role == "nya":
            return w, s, _Speaker(None, None, False, pronoun=True)
        # Menurut X, "…"   /   Kata X, "…"   (the cue opens the clause before the mark)
        for j, (s2, e2, w2) in enumerate(words):
            r = self.t.cues.get(w2.lower())
            if r in ("menurut", "post") and w2.lower() != "aku":
                clause = norm[ss:s2]
                if clause.strip() and clause.rstrip()[-1] not in ",.:":
                    continue
                speaker, pend = self._forward(norm, e2, ss + len(b))
                if speaker is not None and not norm[pend:ss + len(b)].strip(" ,"):
                    return w2, s2, speaker
        return None

    def _negated(self, norm: _Norm, ss: int, verb: int) -> bool:
        words = norm.words(max(ss, verb - 60), verb)
        for _, _, w in reversed(words):
            lw = w.lower()
            if lw in _NEGATIONS:
                return True
            if lw not in _AUXILIARIES:
                return False
        return False

    # --- indirect quotes -----------------------------------------------------


    def _cue_speaker(self, norm: _Norm, role: str, ce: int, end: int) -> tuple[_Speaker, int] | None:
        """The speaker a cue names and where its name ends: the pronoun of
        "-nya", else the name after the cue (None when there is none, or
        after "menurut" a phrase that is no speaker)."""
        if role == "nya":
            return _Speaker(None, None, False, pronoun=True), ce
        speaker, pend = self._forward(norm, ce, end)
        if speaker is None or (role == "menurut" and self._not_speaker(norm, ce, pend)):
            return None
        return speaker, pend

    def _after_comma(self, norm: str, pend: int, end: int):
        """The statement after the comma that follows a speaker's name, if one follows."""
        rest = norm[pend:end]
        if not rest.lstrip().startswith(","):
            return None
        return self._content(norm, pend + rest.index(",") + 1, end)
    def _indirect(self, norm: _Norm, k: int, ss: int, se: int) -> _Found | None:
        """One indirect quote of a sentence without quotation: `menurut X, …`,
        `Kata X, …`, `…, kata X.`, `X mengatakan (bahwa) …`, `dikatakan X, …`."""
        end = se
        while end > ss and (norm[end - 1].isspace() or norm[end - 1] in ".!?…"):
            end -= 1
        if not self.t.cue_re.search(norm, ss, end):
            return None  # most sentences name no cue: not worth reading their words
        words = norm.words(ss, end)
        if len(words) < 4:
            return None
        # skip a sentence-opening connective ("Lebih lanjut,", "Namun,")
        first = 0
        while first < min(len(words), 3) and words[first][2].lower() in _SENTENCE_PREFIXES:
            first += 1
        if first and norm[words[first - 1][1]:words[first][0]].strip(" ,"):
            first = 0
        s0 = words[first][0]
        for m in self.t.cue_re.finditer(norm, s0, end):
            cue = m.group()
            role = self.t.cues[cue.lower()]
            cs, ce = m.start(), m.end()
            at_start = cs == s0
            after_comma = norm[max(ss, cs - 3):cs].rstrip().endswith(",")
            if at_start and role in ("post", "menurut", "nya", "passive"):
                if cue.lower() in ("aku", "katanya") and role != "menurut":
                    continue
                said = self._cue_speaker(norm, role, ce, end)
                if said is None:
                    continue
                speaker, pend = said
                content = self._after_comma(norm, pend, end)
                if content:
                    return _Found(*content, "indirect", cue, cs, k, speaker)
                continue
            if after_comma and role in ("post", "menurut", "nya"):
                if cue.lower() == "aku":
                    continue
                said = self._cue_speaker(norm, role, ce, end)
                if said is None:
                    continue
                speaker, pend = said
                comma = norm.rfind(",", ss, cs)
                before = self._content(norm, s0, comma)
                after = self._after_comma(norm, pend, end)
                if after and (not before or after[1] - after[0] > before[1] - before[0]):
                    return _Found(*after, "indirect", cue, cs, k, speaker)
                if before:
                    return _Found(*before, "indirect", cue, cs, k, speaker)
                continue
            if role in ("verb", "verb+"):
                if self._negated(norm, ss, cs):
                    continue
                speaker = self._subject(norm, s0, cs)
                if speaker is None:
                    continue
                begin = self._content_start(norm, ce, end)
                if role == "verb+" and begin == ce and not re.match(r"\s*[,:]", norm[ce:ce + 3]):
                    continue  # "menjelaskan alasannya": an object, not a statement
                content = self._content(norm, begin, end)
                if content:
                    return _Found(*content, "indirect", cue, cs, k, speaker)
            if role == "passive" and after_comma is False:
                speaker, pend = self._forward(norm, ce, end)
                rest = norm[pend:end]
                opening = norm[s0:cs].strip(" ,").lower() in (
                    "", "lebih lanjut", "selanjutnya", "sebelumnya", "namun", "sementara itu", "selain itu"
                )
                lead = re.match(r"\s*(?:,\s*)?(?:bahwa\b\s*,?)?", rest)
                if speaker is not None and opening and lead and lead.group().strip():
                    content = self._content(norm, pend + lead.end(), end)
                    if content:
                        return _Found(*content, "indirect", cue, cs, k, speaker)
        return None

    def _content_start(self, norm: _Norm, ce: int, end: int) -> int:
        """Where the reported statement starts after a verb: past a comma or
        colon, past "bahwa", past an adjunct ("kepada wartawan") before bahwa
        or a comma."""
        words = norm.words(ce, min(end, ce + 160))
        if not words:
            return ce
        gap = norm[ce:words[0][0]]
        if gap.strip(" ,:"):
            return ce
        if words[0][2].lower() in ("bahwa",):
            return words[0][1]
        if words[0][2].lower() in _ADJUNCTS:
            for s, e, w in words[1:12]:
                if w.lower() in _THAT:
                    return e
                if "," in norm[words[0][0]:s]:
                    return norm.rfind(",", words[0][0], s) + 1
                if self.t.cues.get(w.lower()):
                    break
        return ce

    def _content(self, norm: str, start: int, end: int) -> tuple[int, int] | None:
        """A span of at least three words, trimmed of spaces and edge punctuation."""
        while start < end and (norm[start].isspace() or norm[start] in ",:;—–-"):
            start += 1
        while end > start and (norm[end - 1].isspace() or norm[end - 1] in ",.;:—–-"):
            end -= 1
        if len(norm[start:end].split()) < 3:
            return None
        return start, end

    def _not_speaker(self, norm: _Norm, start: int, end: int) -> bool:
        words = norm.words(start, end)
        return not words or _bare(words[0][2]) in self.t.nots

    def _reattribute(self, norm: _Norm, k: int, ss: int, se: int, found: list[_Found]) -> bool:
        """`Hal itu dikatakan X …` / `Demikian kata X`: the sentence names the
        speaker of the quote just before it."""
        m = _REATTRIBUTE_RE.match(norm, ss)
        if not m or self.t.cues.get(m.group("cue").lower()) not in ("passive", "post"):
            return False
        speaker, _ = self._forward(norm, m.end(), se)
        if speaker is None or speaker.pronoun:
            return False
        previous = [f for f in found if f.sentence == k - 1]
        for f in previous:
            if f.speaker is None or f.speaker.pronoun:
                f.speaker, f.cue, f.cue_at = speaker, m.group("cue"), m.start("cue")
        return bool(previous)

    # --- continued quotations ------------------------------------------------

    def _continue(self, norm: str, found: list[_Found], sentences) -> None:
        """A quotation with no attribution of its own that follows an attributed
        one directly (same sentence, or the next with nothing else between),
        or shares its multi-paragraph quotation, has its speaker."""
        direct = [f for f in found if f.kind == "direct"]
        for a, b in zip(direct, direct[1:]):
            if not a.extras["closed"]:
                b.chain = a.chain = a.chain if a.chain >= 0 else id(a)
        chains: dict[int, list[_Found]] = {}
        for f in direct:
            if f.chain >= 0:
                chains.setdefault(f.chain, []).append(f)
        for members in chains.values():
            known = next((f for f in members if f.speaker is not None), None)
            if known is not None:
                for f in members:
                    if f.speaker is None:
                        f.speaker, f.cue, f.cue_at = known.speaker, known.cue, known.cue_at
        for a, b in zip(direct, direct[1:]):
            if b.speaker is not None or a.speaker is None or not b.extras["lead"]:
                continue
            if b.sentence == a.sentence or (b.sentence == a.sentence + 1 and not norm[sentences[b.sentence][0]:b.start - 1].strip()):
                b.speaker, b.cue, b.cue_at = a.speaker, a.cue, a.cue_at
        kept = [f for f in found if not (f.kind == "direct" and f.speaker is None and len(norm[f.start:f.end].split()) < 4)]
        found[:] = kept

    # --- speakers ------------------------------------------------------------

    def _forward(self, norm: _Norm, start: int, end: int) -> tuple[_Speaker | None, int]:
        """The speaker phrase after a cue and where it ends: a pronoun, or
        capitalised words, titles and links ("Kepala Seksi Data dan Informasi
        BMKG Aceh"), with a name in apposition after a role ("…, Zakaria,")."""
        hole = re.match(r"\s*,+\s+(?=[^\W\d_])", norm[start:start + 8])
        if hole and norm[start + hole.end()].isupper():
            start += hole.end()  # "Menurut , Netti Herawati,": a stripped link left a comma
        words = norm.words(start, min(end, start + 300))
        if not words or norm[start:words[0][0]].strip():
            return None, start
        first = words[0][2].lower()
        if first in PRONOUNS:
            return _Speaker(None, None, False, pronoun=True), words[0][1]
        if first in PLURAL_PRONOUNS:
            return _Speaker(None, None, False, plural=True), words[0][1]
        taken = self._phrase(norm, words)
        if not taken:
            taken = self._role_before_name(norm, words)
        if not taken:
            return None, start
        speaker = self._speaker(norm, taken)
        if speaker is None:
            return None, start
        weak = speaker.named and len((speaker.written or "").split()) == 1 and len(taken) > 2
        if not speaker.named or weak:  # "GM Plant AHM Cikarang, Dodi Sutriadi": the apposition names
            appos = self._apposition(norm, taken[-1][1], end)
            if appos is not None:
                return appos
        return speaker, taken[-1][1]

    def _phrase(self, norm: str, words) -> list[tuple[int, int, str]]:
        """The words of a speaker phrase from the start of `words`: capitalised
        words, titles and links; or a lower-case description ending in
        itu/tersebut ("kementerian itu", "pemain asal Jerman itu")."""
        anaphor = self._anaphor(norm, words)
        if anaphor:
            return anaphor
        taken: list[tuple[int, int, str]] = []
        for s, e, w in words[:16]:
            if taken and norm[taken[-1][1]:s].strip():
                break  # punctuation between words ends the phrase
            lw = _bare(w)
            if lw in self.t.stops:
                break
            if w[0].isupper() or w[0] == "(" or w[0].isdigit() and taken:
                taken.append((s, e, w))
            elif taken and lw in self.t.links:
                taken.append((s, e, w))
            elif lw in self.t.title_words and (self._title_at(words, len(taken)) or (
                    taken and self._title_at(words, len(taken) - 1) > 1)):
                taken.append((s, e, w))
            else:
                break
            if w.endswith(".") and len(w) > 2 and lw not in _ABBREVIATIONS:
                break
        while taken and _bare(taken[-1][2]) in self.t.links and _bare(taken[-1][2]) not in ("itu", "tersebut"):
            taken.pop()
        if taken and not (taken[0][2][0].isupper() or _bare(taken[0][2]) in self.t.title_words
                          or (_bare(taken[0][2]) in _DETERMINERS and len(taken) > 1)):
            return []
        return taken

    def _title_at(self, words, i: int) -> int:
        """The length of the longest title starting at words[i] (0: none)."""
        lowered = [_bare(w) for _, _, w in words[i:i + self.t.longest]]
        return max((n for n in range(1, len(lowered) + 1) if tuple(lowered[:n]) in self.t.titles), default=0)

    def _role_before_name(self, norm: str, words) -> list[tuple[int, int, str]]:
        """After a cue, up to three lower-case words of a role the tables do not
        know, then a name: "kata professional makeup artist Philips Kwok"."""
        for n in range(1, min(4, len(words))):
            run = words[:n]
            if any(norm[a[1]:b[0]].strip() for a, b in zip(words[:n + 1], words[1:n + 1])):
                return []
            if not all(w[2].isalpha() and w[2].islower() and w[2] not in _ADJUNCTS | _THAT
                       and w[2] not in self.t.cues for w in run):
                return []
            if words[n][2][0].isupper():
                rest = self._phrase(norm, words[n:])
                return run + rest if rest else []
        return []

    def _anaphor(self, norm: str, words) -> list[tuple[int, int, str]]:
        for n in range(1, min(4, len(words))):
            if _bare(words[n][2]) in ("itu", "tersebut"):
                run = words[:n + 1]
                if all(not norm[a[1]:b[0]].strip() for a, b in zip(run, run[1:])) and all(
                    w[2].isalpha() and _bare(w[2]) not in _ADJUNCTS and _bare(w[2]) not in self.t.cues
                    and _bare(w[2]) not in PRONOUNS | PLURAL_PRONOUNS | {"hal", "ini", "saat", "waktu", "kala"}
                    for w in run[:n]
                ):
                    return run
                return []
        return []

    def _apposition(self, norm: _Norm, start: int, end: int) -> tuple[_Speaker, int] | None:
        """A name set off by commas after a role: "pengurus PDPI, dr. Harsini"."""
        rest = norm[start:end]
        if not rest.startswith(","):
            return None
        words = norm.words(start + 1, min(end, start + 120))
        if not words:
            return None
        taken = self._phrase(norm, words)
        if not taken or len(taken) > 6:
            return None
        after = norm[taken[-1][1]:end].lstrip()
        if after and after[0] not in ",.;(" and not after[0].islower():
            return None
        speaker = self._speaker(norm, taken)
        if speaker is not None and speaker.named:
            return speaker, taken[-1][1]
        return None

    def _subject(self, norm: _Norm, ss: int, verb: int) -> _Speaker | None:
        """The subject before a verb cue: the clause after the last comma,
        auxiliaries and connectives dropped; an apposition ("Menteri dari
        Taliban, Amir Khan Muttaqi, mengatakan") gives the name."""
        text = norm[ss:verb]
        stripped = text.rstrip()
        appositive = stripped.endswith(",")
        if appositive:
            stripped = stripped[:-1]
        segments = stripped.split(",")
        segment_start = ss + len(",".join(segments[:-1])) + (1 if len(segments) > 1 else 0)
        words = norm.words(segment_start, ss + len(stripped))
        while words and words[-1][2].lower() in _AUXILIARIES:
            words.pop()
        while words and words[0][2].lower() in _CONNECTIVES | _SENTENCE_PREFIXES:
            words.pop(0)
        if words and words[0][2].lower() in _SUBORDINATORS:
            return None  # "Setelah Rusia memperingatkan …": a clause, not a statement
        if not words or len(words) > 14:
            return None
        if len(words) == 1 and words[0][2].lower() in PRONOUNS:
            return _Speaker(None, None, False, pronoun=True)
        if len(words) == 1 and words[0][2].lower() in PLURAL_PRONOUNS:
            return _Speaker(None, None, False, plural=True)
        if len(words) == 1 and (words[0][2].lower() in stop_words() or words[0][2].lower().endswith("nya")):
            return None  # "Bisa juga menambahkan", "Awalnya mengaku": not a subject
        taken = self._phrase(norm, words)
        if len(taken) != len(words):
            return None
        return self._speaker(norm, taken)

    def _speaker(self, norm: str, taken) -> _Speaker | None:
        """A speaker from the words of its phrase: the name after the last
        title, place or organisation, resolved to an actor; else the role."""
        while len(taken) > 1 and taken[-1][2][0] == "(":
            taken = taken[:-1]  # "Presiden Joko Widodo (Jokowi)": the short name in brackets
        if not taken:
            return None
        phrase = norm[taken[0][0]:taken[-1][1]]
        tokens = [w for _, _, w in taken]
        lowered = [_bare(w) for w in tokens]
        whole = self.gaz.resolve(phrase)
        if whole is not None and self._types.get(whole) != "person":
            return _Speaker(phrase, whole, False)
        cut = 0  # the name starts after the last title, place, organisation or acronym
        for i in range(len(tokens)):
            w = tokens[i]
            head = w.casefold() in self._heads  # else no alias starts with it: resolve gives None
            if w[0] == "(" or (
                len(w) > 1 and w.isupper() and self._types.get((head and self.gaz.resolve(w)) or "") != "person"
            ):
                cut = max(cut, i + 1)
            head = head and w[0].isupper()
            for n in range(min(self.t.longest, len(tokens) - i), 0, -1):
                seq = tuple(lowered[i:i + n])
                actor = self.gaz.resolve(" ".join(tokens[i:i + n])) if head else None
                if seq in self.t.titles or seq in self.t.places or (
                    actor is not None and self._types.get(actor) != "person"
                ):
                    cut = max(cut, i + n)
                    break
        name_tokens = taken[cut:]
        if name_tokens and all(w[2][0].isupper() or _bare(w[2]) in ("bin", "binti", "al", "van", "de", "von")
                               for w in name_tokens) and len(name_tokens) <= 4:
            name = norm[name_tokens[0][0]:name_tokens[-1][1]].rstrip(".")
            return _Speaker(name, self._actor(name), True)
        return _Speaker(phrase, whole, False)  # a role or an organisation, as written

    def _actor(self, name: str) -> str | None:
        """The actor a name resolves to: as a whole alias, or a person alias inside it."""
        actor = self.gaz.resolve(name)
        if actor is not None:
            return actor
        persons = [a for a in self.gaz.count(name) if self._types.get(a) == "person"]
        return persons[0] if len(persons) == 1 else None

    # --- how a speaker is listed ---------------------------------------------

    def _full_names(self, norm: _Norm, found: list[_Found]) -> dict[str, _Speaker]:
        """Each one-word name a quote's speaker is written by ("Agus") mapped
        to the one longer name of the body holding it ("Agus Wibowo"): a
        longer speaker, or a run of capitalised words around the short name,
        read like a speaker phrase (titles, places and organisations cut).
        Two such names ("Agus Wibowo", "Agus Rahardjo") leave it as written:
        a facet must not merge different persons."""
        short = {f.speaker.written for f in found if f.speaker is not None and f.speaker.named
                 and f.speaker.written and f.speaker.actor is None and " " not in f.speaker.written}
        if not short:
            return {}
        names: dict[str, _Speaker] = {}
        for f in found:
            if f.speaker is not None and f.speaker.named and " " in (f.speaker.written or ""):
                names.setdefault(f.speaker.written.lower(), f.speaker)
        runs: dict[str, _Speaker] = {}
        for written in short:
            at = norm.find(written)
            while at >= 0:  # _name_around checks it is the whole word
                sp = self._name_around(norm, at, at + len(written))
                if sp is not None:
                    runs.setdefault(sp.written.lower(), sp)
                at = norm.find(written, at + len(written))
        out = {}
        for written in short:
            word = written.lower()
            longer = [(set(key.split()), sp, key in runs) for key, sp in (names | runs).items() if word in key.split()]
            widest = [c for c in longer if not any(c[0] < other for other, _, _ in longer)]
            if len({sp.actor or " ".join(sorted(w)) for w, sp, _ in widest}) == 1:
                # one person; a speaker phrase may carry a word the run around the name has not
                # ("Satu Eko Murbiyanto", "Eko Murbiyanto"): the run's reading is the safer one
                sp = max(longer, key=lambda c: (c[2], len(c[0])))[1]
                full = self._cased(sp.written or "", True, norm)
                out[written] = _Speaker(full, sp.actor or self._actor(full), True)
        return out

    def _name_around(self, norm: _Norm, start: int, end: int) -> _Speaker | None:
        """The name of two to four words that the word norm[start:end] begins
        ("Agus" in "Agus Wibowo"), else ends ("Cording" in "Jessica
        Cording"). A word before it is taken only when it is no common word
        or derived from one ("Sosok Eko", "Perhubungan Polana"): a role or a
        topic often stands capitalised before a name."""
        words = norm.words(max(0, start - 60), min(len(norm), end + 60))
        at = bisect_left(words, (start,))  # the first word starting at `start` or after
        if at == len(words) or words[at][:2] != (start, end) or not self._name_word(words[at][2]):
            return None
        first = last = at
        while (last + 1 < len(words) and last - first < 3 and self._name_word(words[last + 1][2])
               and norm[words[last][1]:words[last + 1][0]] == " "):
            last += 1
        if last == at:
            while (first > 0 and at - first < 2 and self._name_word(words[first - 1][2])
                   and not common_word(words[first - 1][2].lower())
                   and norm[words[first - 1][1]:words[first][0]] == " "):
                first -= 1
        if first == last:
            return None
        sp = self._speaker(norm, words[first:last + 1])
        if sp is None or not sp.named or " " not in (sp.written or ""):
            return None
        return sp

    def _name_word(self, w: str) -> bool:
        lw = _bare(w)
        return (w[:1].isupper() and w.isalpha() and not w.isupper() and lw not in self.t.title_words
                and (lw,) not in self.t.places and lw not in self.t.cues and lw not in self.t.links
                and lw not in stop_words() and lw not in _ADJUNCTS and lw not in MONTH_WORDS
                and not lw.endswith("nya"))

    def _cased(self, written: str, named: bool, norm: str) -> str:
        """One casing for a speaker, whatever the sentence did to it: the
        first letter capital; in a role, its title words too ("juru bicara"
        -> "Juru Bicara"), the other words as written ("Cinta Karena Cinta"
        is a sinetron); in a name, "DInar" -> "Dinar" and "NIKI" -> "Niki"
        when the body also writes "Niki" or the word is long (a short
        all-capital word may be an acronym: "AJI")."""
        out = []
        for w in written.split(" "):
            if named and w.isalpha() and len(w) > 1:
                if w.isupper():
                    title = w.capitalize()
                    if len(w) >= 5 or re.search(rf"\b{re.escape(title)}\b", norm):
                        w = title
                elif len(w) >= 4 and w[:2].isupper() and w[2:].islower():
                    w = w.capitalize()
            elif not named and _bare(w) in self.t.title_words:
                w = w[:1].upper() + w[1:]
            out.append(w)
        out[0] = out[0][:1].upper() + out[0][1:]
        return " ".join(out)

    # --- pronouns ------------------------------------------------------------

    def _resolve(self, norm: _Norm, found: list[_Found], sentences) -> None:
        """A pronoun speaker becomes the person named in the nearest sentence
        that names anyone (its own sentence up to the cue first, then at most
        WINDOW_SENTENCES before it), when that sentence names exactly one:
        speakers of quotes whose cue is there, gazetteer persons, names after
        a title, words of a speaker's name seen elsewhere in the body, @handles;
        quotation text does not count. Otherwise it stays unattributed."""
        found.sort(key=lambda f: (f.cue_at if f.speaker is not None else f.start))
        quoted = [(f.start, f.end) for f in found if f.kind == "direct"]
        known: dict[str, list[_Speaker]] = {}  # a word of a named speaker's name -> the speakers
        for g in found:
            if g.speaker is not None and g.speaker.named:
                for word in (g.speaker.written or "").split():
                    if len(word) > 2 and word[0].isupper() and _bare(word) not in self.t.title_words:
                        known.setdefault(word.lower(), []).append(g.speaker)
        for f in found:
            sp = f.speaker
            if sp is None or not sp.pronoun:
                continue
            f.speaker = _Speaker(None, None, False, pronoun=True)
            for k in range(f.sentence, max(-1, f.sentence - WINDOW_SENTENCES - 1), -1):
                start = sentences[k][0]
                end = f.cue_at if k == f.sentence else sentences[k][1]
                persons = self._persons(norm, start, end, f, found, quoted, known)
                if persons:
                    if len(persons) == 1:
                        f.speaker = next(iter(persons.values()))
                    break

    def _persons(self, norm: _Norm, start: int, end: int, f: _Found, found, quoted, known) -> dict[str, _Speaker]:
        """The distinct persons named in norm[start:end] outside quotations."""
        persons: dict[str, _Speaker] = {}
        for g in found:
            if g is not f and g.speaker is not None and g.speaker.named and start <= g.cue_at < end:
                self._add_person(persons, g.speaker)
        for s, e in self._outside(start, end, quoted):
            segment = norm[s:e]
            for actor in self.gaz.count(segment):
                if self._types.get(actor) == "person":
                    self._add_person(persons, _Speaker(self._written(segment, actor), actor, True))
            for speaker in self._titled(norm, s, e):
                self._add_person(persons, speaker)
            for _, _, word in norm.words(s, e):
                speakers = known.get(word.lower()) if word[0].isupper() else None
                if not speakers:
                    continue
                # a speaker written by this very word ("Bambang") is the one meant; the longer names
                # holding it ("Bambang Dwiyanto") may be other persons: _full_names decides later
                exact = [sp for sp in speakers if (sp.written or "").lower() == word.lower()]
                for speaker in exact[:1] or speakers:
                    self._add_person(persons, speaker)
            for m in _NAME_COMMA_RE.finditer(segment):  # "Lenis Kogoya, Staf Khusus Presiden …"
                name = m.group(1).split()
                while name and (name[0].lower() in stop_words() or name[0].lower() in self.t.cues):
                    name.pop(0)  # "Menurut Hari, …", "Adalah Yanditya …"
                after = _words(segment, m.start(2), min(len(segment), m.start(2) + 60))
                if len(name) > 1 and self._title_at(after, 0) and self.gaz.resolve(" ".join(name)) is None:
                    self._add_person(persons, _Speaker(" ".join(name), None, True))
            for handle in re.findall(r"@\w+", segment) if "@" in segment else ():
                self._add_person(persons, _Speaker(handle, None, True))
        return persons

    @staticmethod
    def _outside(start: int, end: int, quoted) -> list[tuple[int, int]]:
        spans, at = [], start
        for s, e in quoted:
            if e <= at or s >= end:
                continue
            if s > at:
                spans.append((at, s))
            at = max(at, e)
        if at < end:
            spans.append((at, end))
        return spans

    def _written(self, segment: str, actor: str) -> str:
        best = actor
        for alias in self.gaz.actor(actor).aliases if self.gaz.actor(actor) else ():
            if alias.casefold() in segment.casefold() and len(alias) >= len(best if best in segment else ""):
                best = alias
        return best

    def _titled(self, norm: _Norm, start: int, end: int) -> list[_Speaker]:
        """Names written after a title in a span ("Ipda Danu Setiawan", "Kiai Ali")."""
        out = []
        words = norm.words(start, end)
        lowered = [w.lower().rstrip(".") for _, _, w in words]  # _bare, inline: a span has many words
        i = 0
        for k in [k for k, lw in enumerate(lowered) if lw in self.t.title_heads]:  # only these can open a title
            if k < i or not (words[k][2][0].isupper() and any(
                tuple(lowered[k:k + n]) in self.t.titles for n in range(1, self.t.longest + 1)
            )):
                continue
            i, j = k, k + 1
            while j < len(words) and j - i <= 8 and not norm[words[j - 1][1]:words[j][0]].strip() and (
                words[j][2][0].isupper() or words[j][2][0] == "(" or lowered[j] in self.t.title_words
                or lowered[j] in self.t.links
            ):
                j += 1
            speaker = self._speaker(norm, self._phrase(norm, words[i:j]))
            if speaker is not None and speaker.named:
                out.append(speaker)
            i = j
        return out

    @staticmethod
    def _add_person(persons: dict[str, _Speaker], speaker: _Speaker) -> None:
        """Add a person unless already there: same actor, or one name's words
        inside the other's ("Deni" and "Ipda Deni Setiawan")."""
        words = set((speaker.written or "").lower().split())
        for key, known in list(persons.items()):
            if speaker.actor and known.actor:
                if known.actor == speaker.actor:
                    return
                continue
            other = set((known.written or "").lower().split())
            if words and other and (words <= other or other <= words):
                if len(words) > len(other):
                    del persons[key]
                    persons[speaker.written or ""] = speaker
                return
        persons[speaker.actor or speaker.written or ""] = speaker
