"""Word error rate against a known reference text."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from workbench.core.errors import InputError, InputTypeError

__all__ = ["normalize_text", "word_error_rate"]

_NON_WORD = re.compile(r"[^a-z0-9' ]+")


def normalize_text(text: str) -> list[str]:
    """Lower-case, strip accents and punctuation, and split into words.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
    """
    if not isinstance(text, str):
        raise InputTypeError(f"Expected text (str), got {type(text).__name__}.")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = _NON_WORD.sub(" ", ascii_text.lower().replace("-", " "))
    return [w.strip("'") for w in cleaned.split() if w.strip("'")]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words.

    Both texts are normalized with :func:`normalize_text` first, so case and punctuation do not
    count as errors.

    Parameters
    ----------
    reference : str
        The known text that was spoken.
    hypothesis : str
        The transcript.

    Returns
    -------
    float
        0 for a perfect transcript; can exceed 1 when the hypothesis has many insertions.

    Raises
    ------
    InputError
        If the reference holds no words.
    InputTypeError
        If either argument is not a string.
    """
    ref = normalize_text(reference)
    hyp = normalize_text(hypothesis)
    if not ref:
        raise InputError("The reference text holds no words; WER is undefined for it.")
    # Levenshtein distance over words, one row at a time.
    prev = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, start=1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return float(prev[-1]) / len(ref)
