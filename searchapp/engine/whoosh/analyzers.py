"""Whoosh analyzers over searchapp's own text analysis.

searchapp hands Whoosh every field as the terms its build's `Stemmer` made,
so these run only where Whoosh analyses text itself (a schema needs one per
text field); they split and stem words exactly as `searchapp.text.analysis`.
"""

from __future__ import annotations

from whoosh.analysis import CompositeAnalyzer, Filter, Token, Tokenizer

from searchapp.text.analysis import unprotected_stem, iter_words, stop_words


class IndonesianTokenizer(Tokenizer):
    """Yields lowercased words with positions and character spans."""

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for pos, (word, start, end) in enumerate(iter_words(value), start_pos):
            t.text = word
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


class IndonesianStopFilter(Filter):
    """Drops stop words and renumbers positions so phrases stay contiguous."""

    def __call__(self, tokens):
        stops = stop_words()
        pos = None
        for t in tokens:
            if t.stopped:
                yield t
                continue
            if t.text in stops:
                if not t.removestops:
                    t.stopped = True
                    yield t
                continue
            if t.positions:
                pos = t.pos if pos is None else pos + 1
                t.pos = pos
            yield t


class SastrawiStemFilter(Filter):
    """Stems text Whoosh analyses itself. searchapp never lets it: every field
    is passed as the terms its build's `Stemmer` made (protected names and
    all), so this stemmer protects no names and caches nothing."""

    is_morph = True

    def __call__(self, tokens):
        for t in tokens:
            if not t.stopped:
                t.text = unprotected_stem(t.text)
            yield t


def IndonesianAnalyzer() -> CompositeAnalyzer:
    """The analyzer of the stemmed title and body fields."""
    return IndonesianTokenizer() | IndonesianStopFilter() | SastrawiStemFilter()


def ExactAnalyzer() -> CompositeAnalyzer:
    """The analyzer of the exact-form fields: the same words, unstemmed."""
    return IndonesianTokenizer() | IndonesianStopFilter()
