"""Sentences of a transcript with their times: the unit that summaries and action items pick.

A transcript with word timestamps is split after ``.``, ``!`` or ``?`` (or every 40 words, since
unpunctuated speech would otherwise become one giant sentence), and each sentence keeps the start
of its first word and the end of its last one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from workbench.core.errors import InputTypeError
from workbench.transcribe.transcript import Transcript, Word

__all__ = ["Sentence", "group_sentences", "split_sentences"]

_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*$")
_SPLIT_TEXT = re.compile(r"(?<=[.!?])\s+")
_MAX_WORDS_PER_SENTENCE = 40  # unpunctuated speech would otherwise become one giant "sentence"


@dataclasses.dataclass(frozen=True)
class Sentence:
    """A sentence of the transcript with its position and time span.

    Attributes
    ----------
    index : int
        Position among the transcript's sentences.
    start, end : float
        Seconds in the audio (NaN for plain text input).
    text : str
    """

    index: int
    start: float
    end: float
    text: str


def split_sentences(source: Transcript | Sequence[Word] | str) -> list[Sentence]:
    """Split a transcript, a word list or plain text into timed sentences.

    Parameters
    ----------
    source : Transcript, sequence of Word, or str
        With word timestamps, sentences get exact times; a transcript without words gives each
        sentence its segment's times; plain text gives NaN times.

    Returns
    -------
    list of Sentence

    Raises
    ------
    InputTypeError
        For any other type.
    """
    if isinstance(source, Transcript):
        if source.words:
            return _from_words(source.words)
        out: list[Sentence] = []
        for seg in source.segments:
            for part in _SPLIT_TEXT.split(seg.text.strip()):
                if part:
                    out.append(Sentence(len(out), seg.start, seg.end, part))
        return out
    if isinstance(source, str):
        parts = [p.strip() for p in _SPLIT_TEXT.split(source.strip()) if p.strip()]
        return [Sentence(i, float("nan"), float("nan"), p) for i, p in enumerate(parts)]
    if isinstance(source, Sequence) and all(isinstance(w, Word) for w in source):
        return _from_words(list(source))
    raise InputTypeError(
        f"Cannot summarize a {type(source).__name__}; pass a Transcript, a list of Word or a str."
    )


def group_sentences(words: Sequence[Word]) -> list[list[Word]]:
    """Group timed words into sentences (split after ``.``, ``!``, ``?`` or 40 words).

    Parameters
    ----------
    words : sequence of Word

    Returns
    -------
    list of list of Word
    """
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        current.append(w)
        if _SENTENCE_END.search(w.text.strip()) or len(current) >= _MAX_WORDS_PER_SENTENCE:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return [g for g in groups if "".join(w.text for w in g).strip()]


def _from_words(words: Sequence[Word]) -> list[Sentence]:
    return [
        Sentence(i, g[0].start, g[-1].end, "".join(w.text for w in g).strip())
        for i, g in enumerate(group_sentences(words))
    ]
