"""Word error rate against a known reference text."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from workbench.core.errors import InputError, InputTypeError

__all__ = ["normalize_text", "word_error_rate"]

_NON_WORD = re.compile(r"[^a-z0-9' ]+")
# Edit distance fills a len(ref) x len(hyp) table; 1e8 cells (an hour of speech against
# itself) take about a second.
MAX_CELLS = 100_000_000


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
        If the reference holds no words, or the texts are so long that the edit-distance table
        would exceed 100 million cells (score them in parts).
    InputTypeError
        If either argument is not a string.
    """
    ref = normalize_text(reference)
    hyp = normalize_text(hypothesis)
    if not ref:
        raise InputError("The reference text holds no words; WER is undefined for it.")
    if len(ref) * max(len(hyp), 1) > MAX_CELLS:
        raise InputError(
            f"Comparing {len(ref):,} reference words with {len(hyp):,} words is too large for "
            "one edit distance; score the text in parts (e.g. per paragraph) and pool the errors."
        )
    # Levenshtein distance over words, one row at a time. The insertion chain along a row,
    # cur[j] = min(cur[j], cur[j - 1] + 1), is j + cummin(cur[k] - k): one vectorized pass.
    vocab: dict[str, int] = {}
    hyp_ids = np.array([vocab.setdefault(w, len(vocab)) for w in hyp], dtype=np.int64)
    ref_ids = [vocab.setdefault(w, len(vocab)) for w in ref]
    cols = np.arange(len(hyp) + 1)
    prev = cols.copy()
    for i, r in enumerate(ref_ids, start=1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (hyp_ids != r))
        prev = np.minimum.accumulate(cur - cols) + cols
    return float(prev[-1]) / len(ref)
