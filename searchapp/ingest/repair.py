"""Article text as a reader should see it, whatever the crawler did to it.

Scraped corpora arrive damaged in known ways: UTF-8 read as Mac Roman or
Windows-1252 (`‚Äú`, `¬†`: mojibake), paragraphs flattened into comma joins
(`kalimat.,Kalimat`), teasers of other stories left inline (`Baca juga: …`),
share/subscribe lines, invisible characters. `repair` undoes what it can
recognise and says what it did, so a build can report it. Text that is
already clean comes back unchanged: the rules only fire on the damage.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy

KINDS = ("mojibake", "teasers", "boilerplate", "dateline", "paragraphs", "whitespace")

# ftfy repairs the encoding only: curly quotes, dashes and full-width forms are the writer's, not damage
_FTFY = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, fix_character_width=False,
                             fix_latin_ligatures=False, fix_line_breaks=False, normalization=None, explain=True)
# What a UTF-8 lead byte becomes when read as Mac Roman or Windows-1252 ("‚", "¬", "√", "Ã"), less
# the characters news writes itself (quotes, dashes, accented letters): every damaged word holds one.
# ftfy is given the runs of such words, not whole bodies: the same repairs, three times faster.
_SUSPECT = sorted({c for enc in ("mac_roman", "cp1252") for c in bytes(range(0xC2, 0xF5)).decode(enc, "ignore")}
                  - set("“”‘’–—…«»\u00a0éèàáíóúñçäöüëïâêîôûãõ"))
_SUSPECT_WORDS = re.compile(rf"\S*[{re.escape(''.join(_SUSPECT))}]\S*(?:\s+\S*[{re.escape(''.join(_SUSPECT))}]\S*)*")
# what ftfy leaves: a Mac Roman reading of a lone invisible mark ("‚Äé" is U+200E) or of a letter
# alone in a foreign word ("Jo√£o"); repaired when the bytes decode as UTF-8 to one character
_MAC_ROMAN_LEFT = re.compile(r"‚Ä.|[√≈ƒ¬].")

# "Baca juga: <title>" and its variants; the title (when the crawler kept it) runs to a comma that
# joins paragraphs (no space after it), a closing bracket when it opened with one, or the line end
_TEASER_RE = re.compile(
    r"""\[bacajuga:[^\]]*\](?:\([^)]*\))?                        # fimela's markup
      | \(\s*(?:Baca|BACA|Simak|SIMAK)\s+(?:[Jj]uga|JUGA|[Pp]ula)\b[^)\n]{0,300}\)   # "(Baca juga: …)"
      | (?<![\w-])(?:Baca|BACA|Simak|SIMAK)\s+(?:[Jj]uga|JUGA|[Pp]ula)\b\s*[:;]?(?:[^,\n]|,[ \u00a0])*
    """,
    re.VERBOSE,
)  # capitalised only: "anak bisa baca juga menulis" is a sentence
# a paragraph break the corpus wrote as commas: a sentence end then commas, or two commas, touching
# the next paragraph (a word, or an opening quotation mark: in `(Songkrasin)," ucap` the comma ends
# a quotation, in `Jakarta,, , kembali` two commas are a link the crawler cut out of a sentence)
_FLAT_BREAK_RE = re.compile(
    r"""(?:(?<=[.!?"”’)])[ \t\u00a0]*,(?:[ \t\u00a0]*,)*|,{2,})(?=[^\s,"“”'‘’]|["“”'‘’]\w)""")
_URL_JOIN_RE = re.compile(r"(https?://[^\s,]+),(?=\S)")  # a link the flattening joined to the next paragraph
_LEADING_COMMAS_RE = re.compile(r"^[\s,]+")
_RESIDUE_RE = re.compile(r"^[\s,\u00a0]*(?:[-–—][\s,\u00a0]+)+")  # "- ", ", , - ": a dateline the crawler cut
_SHORT_LINE_WORDS = 15  # a boilerplate line is short: a long paragraph mentioning "berlangganan" is news
_BOILERPLATE_RE = re.compile(
    r"""^(?:
        (?:baca|simak)\s+(?:juga|pula|selengkapnya)\b.*
      | artikel\s+terkait\b.*
      | berita\s+terkait\b.*
      | (?:editor|penulis|reporter|pewarta|penyunting|kontributor|redaktur|sumber\s+foto)\s*:.*
      | (?:kredit\s+)?foto\s*:.*
      | (?:bagikan|share)(?:\s+artikel)?\s*:?
      | .*\b(?:follow|ikuti)\s+(?:kami|kanal|akun|berita)\b.*
      | .*\bgoogle\s+news\b.*
      | .*\bberlangganan\b.*
      | .*\bklik\s+di\s*sini\b.*
      | .*\bdapatkan\s+(?:update|informasi|berita)\b.*
      | (?:©|copyright\b).*
      | disclaimer\s*:.*
      | \S+?\d*\s+views?
      | (?:advertisement|iklan|scroll\s+to\s+continue.*)
      | https?://\S+
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_PARAGRAPH_RE = re.compile(r"[^\n]*\S[^\n]*")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class Repaired:
    text: str
    kinds: tuple[str, ...]  # what was repaired, in KINDS order


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of a text: its lines that hold more than spaces."""
    return [m.span() for m in _PARAGRAPH_RE.finditer(text)]


def is_boilerplate(line: str) -> bool:
    """A page line that is not the article's: teaser, credit, share or subscribe line, view counter."""
    return bool(_BOILERPLATE_RE.match(line))


def repair(text: str) -> Repaired:
    """The text repaired, and which kinds of damage were found."""
    kinds = []
    fixed = _unmojibake(text)
    if fixed != text:
        kinds.append("mojibake")
        text = fixed
    text, n = _TEASER_RE.subn("", text)
    if n:
        kinds.append("teasers")
    if "\n" not in text.strip():
        text, n = _FLAT_BREAK_RE.subn("\n\n", text)
        text, links = _URL_JOIN_RE.subn("\\1\n\n", text)
        if n or links:
            kinds.append("paragraphs")
    residue = _RESIDUE_RE.match(text)
    if residue:
        kinds.append("dateline")
        text = text[residue.end():]
    kept, dropped = [], False
    for line in text.split("\n"):
        bare = _LEADING_COMMAS_RE.sub("", line).strip(" ,\t\u00a0")
        if bare and len(bare.split()) <= _SHORT_LINE_WORDS and is_boilerplate(bare):
            dropped = True
            continue
        kept.append(line)
    if dropped:
        kinds.append("boilerplate")
        text = "\n".join(kept)
    tidy = _tidy(text)
    if tidy != text and "whitespace" not in kinds:
        kinds.append("whitespace")
    return Repaired(tidy, tuple(k for k in KINDS if k in kinds))


def repair_line(text: str) -> Repaired:
    """A one-line field (a title) repaired: mojibake and spacing only."""
    fixed = _unmojibake(text)
    tidy = _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", fixed))).strip()
    kinds = (("mojibake",) if fixed != text else ()) + (("whitespace",) if tidy != fixed else ())
    return Repaired(tidy, kinds)


def _unmojibake(text: str) -> str:
    """ftfy over the suspect runs; once one run proves the body mojibake, its
    repair (the plan ftfy found) is tried on the runs too short to judge
    alone ("Kj√¶r"), kept where it decodes."""
    plans = []

    def fix(m: re.Match) -> str:
        fixed, plan = ftfy.fix_and_explain(m.group(), _FTFY)
        if plan and fixed != m.group():
            plans.append(plan)
        return fixed

    text = _SUSPECT_WORDS.sub(fix, text)
    if plans:
        text = _SUSPECT_WORDS.sub(lambda m: _apply(m.group(), plans[0]), text)
    return _MAC_ROMAN_LEFT.sub(_one_character, text)


def _one_character(m: re.Match) -> str:
    try:
        char = m.group().encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return m.group()
    return char if len(char) == 1 else m.group()


def _apply(run: str, plan) -> str:
    try:
        return ftfy.apply_plan(run, plan)
    except (UnicodeError, ValueError):
        return run


def _tidy(text: str) -> str:
    """Invisible characters out, runs of spaces (no-break ones too) one space,
    paragraphs separated by one blank line, NFC."""
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n\n".join(line for line in lines if line)
