"""The words of one streaming pass: which to keep, how to compare them, what looks copied.

:class:`~workbench.transcribe.StreamingSession` decodes its buffer again and again; the helpers
here turn one decoding into the words it may confirm, compare words across passes, and spot a
pass that copied the prompt instead of reading the audio. They hold no state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from workbench.transcribe.sentences import group_sentences
from workbench.transcribe.transcript import Segment, Word

__all__ = ["SENTENCE_END", "join_words", "norm_word", "pass_words", "repeats_opening"]

SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
"""A word that ends a sentence (``"launch."``, ``"why?\\""``)."""

_NORM = re.compile(r"[^a-z0-9']+")
_PUNCTUATION = re.compile(r"[\s.,;:!?…\-\"'()\[\]]*")
_MAX_WORDS_BACK = 80  # enough to hold the last confirmed sentence (at most 40 words)
_COPY_PROBABILITY = 0.1


def norm_word(word: Word) -> str:
    """The word compared case- and punctuation-blind (a word that is only punctuation, such as
    ``"%"``, as written)."""
    return _NORM.sub("", word.text.lower()) or word.text.strip()


def join_words(words: Sequence[Word]) -> str:
    """The words' text joined as Whisper wrote it."""
    return "".join(w.text for w in words).strip()


def pass_words(segments: Iterable[Segment], audio_end: float) -> list[Word]:
    """The words of one decoding that a stream may confirm.

    Parameters
    ----------
    segments : iterable of Segment
        One decoding of the buffer (absolute times).
    audio_end : float
        Stream time where the buffer's audio ends.

    Returns
    -------
    list of Word
        Without the segments Whisper's own rule calls silence, without lone punctuation and
        ellipses, and cut where Whisper writes words aligned to no sound.
    """
    # Whisper's own rule for hallucinated text on silence. A lone punctuation mark is no word
    # (Whisper attaches real punctuation to its word), and lone ellipses, once Whisper starts
    # writing them, are all it writes.
    words = [
        w
        for s in segments
        if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)
        for w in s.words
        if not _PUNCTUATION.fullmatch(w.text)
    ]
    # Words Whisper writes past the audio it heard (a phrase repeated at the end of the
    # buffer, or after a sentence it has heard) are aligned with zero length: at the very end
    # one such word, anywhere else two in a row, end the pass.
    end = audio_end - 0.5
    flat = [w.end - w.start < 0.01 for w in words] + [False]
    cut = next(
        (i for i, w in enumerate(words) if flat[i] and (w.start >= end or flat[i + 1])),
        None,
    )
    return words[:cut]


def repeats_opening(words: Sequence[Word], before: Sequence[Word]) -> bool:
    """Does a pass open like the last sentence of the confirmed words ``before`` its buffer?

    tiny.en copies the opening of the prompt's last sentence on short buffers ("Third, we'll
    prepare" for "Sarah will prepare" after "Third, we'll plan the launch."). Two words in a
    row count, or one that Whisper itself barely believes (the copies seen have probability
    0.00, real first words 0.3 and more).

    Parameters
    ----------
    words : sequence of Word
        The pass.
    before : sequence of Word
        Confirmed words that end before the buffer (its prompt).

    Returns
    -------
    bool
    """
    if not before or not words:
        return False
    opening = [norm_word(w) for w in group_sentences(before[-_MAX_WORDS_BACK:])[-1]]
    n = 0
    while n < min(len(opening), len(words)) and norm_word(words[n]) == opening[n]:
        n += 1
    return n >= 2 or (n == 1 and words[0].probability < _COPY_PROBABILITY)
