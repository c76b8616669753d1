"""Offline extractive summaries of transcripts: TextRank or TF-IDF centroid, plus key phrases.

Nothing is generated and nothing is downloaded: the summary is a handful of the transcript's own
sentences, kept in spoken order with their start and end times, so every line links back to its
place in the audio. Sentences are scored on a TF-IDF sentence graph (TextRank: PageRank over
cosine similarities) or by similarity to the TF-IDF centroid of the whole text. A second list
holds the decisions, action items and dates (:mod:`workbench.transcribe.actions`), also timed.
With ``summarizer=`` a local language model adds a written summary on top
(:mod:`workbench.transcribe.summarizers`); the default needs no model.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.results import Result
from workbench.core.validation import check_choice, check_positive
from workbench.transcribe.actions import ActionItem, items_from_sentences
from workbench.transcribe.checks import MAX_SENTENCES, check_text_list
from workbench.transcribe.sentences import Sentence, group_sentences, split_sentences
from workbench.transcribe.summarizers import resolve_summarizer, run_summarizer
from workbench.transcribe.transcript import Transcript, Word, format_timestamp

__all__ = [
    "METHODS",
    "KeyPhrase",
    "Sentence",
    "Summary",
    "group_sentences",
    "key_phrases",
    "split_sentences",
    "summarize",
]

METHODS = ("textrank", "centroid")
"""Sentence scoring methods of :func:`summarize`."""

_TOKEN = re.compile(r"[a-z][a-z']+")
# The sentence graph is n x n: 5,000 sentences (hours of speech) take 200 MB and seconds.
MAX_CANDIDATES = 5000


@dataclasses.dataclass(frozen=True)
class KeyPhrase:
    """A key phrase and its score (higher is more central)."""

    phrase: str
    score: float


@dataclasses.dataclass(repr=False)
class Summary(Result):
    """An extractive summary: selected sentences in spoken order, with scores and key phrases.

    Attributes
    ----------
    sentences : list of Sentence
        The chosen sentences, in the order they were spoken.
    scores : list of float
        Centrality score of each chosen sentence.
    key_phrases : list of KeyPhrase
    n_candidates : int
        Number of sentences the summary was chosen from.
    method : str
    action_items : list of ActionItem
        Decisions, action items and dates, in spoken order, each with its sentence's times.
    abstract : str or None
        The written summary of the ``summarizer=`` hook; None without one.
    """

    sentences: list[Sentence]
    scores: list[float]
    key_phrases: list[KeyPhrase]
    n_candidates: int
    method: str = "textrank"
    action_items: list[ActionItem] = dataclasses.field(default_factory=list)
    abstract: str | None = None

    @property
    def title(self) -> str:
        return "Summary"

    @property
    def text(self) -> str:
        """The summary sentences joined into one paragraph."""
        return " ".join(s.text for s in self.sentences)

    def summary(self) -> dict[str, Any]:
        return {
            "sentences": f"{len(self.sentences)} of {self.n_candidates}",
            "method": self.method,
            "key_phrases": ", ".join(k.phrase for k in self.key_phrases),
            "action_items": len(self.action_items),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per summary line: index, start, end, time, text, score."""
        rows = [
            {
                "index": s.index,
                "start": round(s.start, 2) if math.isfinite(s.start) else None,
                "end": round(s.end, 2) if math.isfinite(s.end) else None,
                "time": _stamp(s.start),
                "text": s.text,
                "score": round(score, 4),
            }
            for s, score in zip(self.sentences, self.scores, strict=True)
        ]
        return pd.DataFrame(rows, columns=["index", "start", "end", "time", "text", "score"])

    def actions_frame(self) -> pd.DataFrame:
        """One row per decision, action item or date: index, start, end, time, kind, who, due,
        text."""
        cols = ["index", "start", "end", "time", "kind", "who", "due", "text"]
        rows = [{**a.to_dict(), "time": _stamp(a.start)} for a in self.action_items]
        return pd.DataFrame(rows, columns=cols)

    def to_text(self) -> str:
        """The written summary (if any), bulleted lines ``- [HH:MM:SS] sentence``, the key
        phrases, then the decisions and action items."""
        lines = [self.abstract, ""] if self.abstract else []
        lines += [f"- [{_stamp(s.start)}] {s.text}" for s in self.sentences]
        if self.key_phrases:
            lines.append("Key phrases: " + ", ".join(k.phrase for k in self.key_phrases))
        if self.action_items:
            lines.append("Decisions and action items:")
            for a in self.action_items:
                tags = ", ".join(t for t in (a.kind, a.who, a.due) if t)
                lines.append(f"- [{_stamp(a.start)}] ({tags}) {a.text}")
        return "\n".join(lines)


def _stamp(seconds: float) -> str:
    return format_timestamp(seconds)[:8] if math.isfinite(seconds) else "--:--:--"


def summarize(
    source: Transcript | Sequence[Word] | str,
    *,
    n_sentences: int = 3,
    n_key_phrases: int = 5,
    method: str = "textrank",
    damping: float = 0.85,
    summarizer: Any = None,
) -> Summary:
    """Pick the most central sentences of a transcript and its key phrases, offline.

    Parameters
    ----------
    source : Transcript, sequence of Word, or str
        What to summarize; see :func:`split_sentences`.
    n_sentences : int, default=3
        Sentences to keep (all of them when the text is shorter); at most 1,000.
    n_key_phrases : int, default=5
        Key phrases to return (0 for none); at most 1,000.
    method : {"textrank", "centroid"}, default="textrank"
        ``"textrank"`` runs PageRank on the TF-IDF cosine-similarity graph of the sentences;
        ``"centroid"`` scores each sentence by cosine similarity to the whole text's TF-IDF mean.
    damping : float, default=0.85
        PageRank damping factor in (0, 1) (TextRank only).
    summarizer : None, callable or str, default=None
        Adds a written summary (``Summary.abstract``) from a language model you run: a callable
        ``f(transcript_text) -> str``, or the URL of an OpenAI-compatible server on this machine
        (``"http://127.0.0.1:8080"``; only localhost, 127.0.0.1 or ::1), asked with
        ``POST /v1/chat/completions`` (see :mod:`workbench.transcribe.summarizers`). None (the
        default) needs no model.

    Returns
    -------
    Summary
        Empty (no sentences) for an empty or silent transcript. ``action_items`` lists the
        decisions, action items and dates (:func:`find_action_items`).

    Raises
    ------
    InputError
        If ``n_sentences`` is not in [1, 1000], ``n_key_phrases`` not in [0, 1000],
        ``damping`` not in (0, 1), or the text has more than 5,000 sentences.
    InputTypeError
        If ``source`` or a number has an unsupported type.
    UnknownNameError
        If ``method`` is unknown.
    SummarizerError
        If the ``summarizer`` server cannot be reached or answers badly.
    """
    hook = resolve_summarizer(summarizer)
    check_positive(n_sentences, name="n_sentences", integer=True, high=MAX_SENTENCES)
    check_positive(
        n_key_phrases, name="n_key_phrases", integer=True, strict=False, high=MAX_SENTENCES
    )
    check_choice(method, METHODS, kind="summary method")
    check_positive(damping, name="damping", high=1.0, high_open=True)
    sentences = split_sentences(source)
    if len(sentences) > MAX_CANDIDATES:
        raise InputError(
            f"The text has {len(sentences)} sentences; summarize at most {MAX_CANDIDATES} at "
            "once (split a long recording into parts, e.g. per hour)."
        )
    if not sentences:
        return Summary([], [], [], 0, method)
    scores = _score(sentences, method, min(float(damping), 0.99))
    # Stable ordering: ties go to the earlier sentence.
    order = sorted(range(len(sentences)), key=lambda i: (-round(scores[i], 12), i))
    chosen = sorted(order[:n_sentences])
    abstract = None
    if hook is not None:
        abstract = run_summarizer(hook, " ".join(s.text for s in sentences)) or None
    return Summary(
        sentences=[sentences[i] for i in chosen],
        scores=[float(scores[i]) for i in chosen],
        key_phrases=key_phrases([s.text for s in sentences], n_key_phrases),
        n_candidates=len(sentences),
        method=method,
        action_items=items_from_sentences(sentences),
        abstract=abstract,
    )


def _tfidf(texts: list[str]) -> np.ndarray | None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b", sublinear_tf=True
    )
    try:
        return vec.fit_transform(texts).toarray()
    except ValueError:  # only stop words: no vocabulary
        return None


def _score(sentences: list[Sentence], method: str, damping: float) -> np.ndarray:
    n = len(sentences)
    X = _tfidf([s.text for s in sentences])
    if X is None or n == 1:
        return np.full(n, 1.0 / n)
    if method == "centroid":
        centroid = X.mean(axis=0)
        norm = np.linalg.norm(centroid)
        return X @ centroid / norm if norm > 0 else np.full(n, 1.0 / n)
    sim = X @ X.T  # rows are L2-normalized, so this is cosine similarity
    np.fill_diagonal(sim, 0.0)
    row = sim.sum(axis=1, keepdims=True)
    # A sentence sharing no word with the others jumps uniformly (PageRank's dangling rule).
    trans = np.where(row > 0, sim / np.where(row > 0, row, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(200):
        new = (1 - damping) / n + damping * trans.T @ rank
        if np.abs(new - rank).sum() < 1e-10:
            rank = new
            break
        rank = new
    return rank


def key_phrases(texts: Sequence[str] | str, n: int = 5) -> list[KeyPhrase]:
    """Extract key phrases: the most frequent one- to three-word runs of content words.

    Candidates are the n-grams (n <= 3) inside runs of non-stop-words that punctuation does not
    break (as in RAKE). A candidate scores ``count * sqrt(n_words)``, so a repeated two-word
    phrase beats its single words; a phrase whose words all belong to a better one is dropped.

    Parameters
    ----------
    texts : sequence of str, or str
        Sentences or paragraphs.
    n : int, default=5
        Number of phrases to return (0 to 1,000).

    Returns
    -------
    list of KeyPhrase
        Best first; ties go to the phrase heard first.

    Raises
    ------
    InputTypeError
        If ``texts`` is not a str or an iterable of str, or ``n`` not an integer.
    InputError
        If ``n`` is out of range.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    texts = check_text_list(texts, name="texts")
    check_positive(n, name="n", integer=True, strict=False, high=MAX_SENTENCES)
    counts: Counter[tuple[str, ...]] = Counter()
    first_seen: dict[tuple[str, ...], int] = {}
    for text in texts:
        for chunk in re.split(r"[.,;:!?()\"\n]+", text.lower()):
            runs: list[list[str]] = [[]]
            for tok in _TOKEN.findall(chunk):
                if tok in ENGLISH_STOP_WORDS:
                    runs.append([])
                else:
                    runs[-1].append(tok)
            for run in runs:
                for size in (1, 2, 3):
                    for i in range(len(run) - size + 1):
                        gram = tuple(run[i : i + size])
                        counts[gram] += 1
                        first_seen.setdefault(gram, len(first_seen))
    scored = sorted(counts, key=lambda g: (-counts[g] * len(g), first_seen[g]))
    out: list[KeyPhrase] = []
    kept: list[set[str]] = []
    for gram in scored:
        if len(out) >= n:
            break
        if any(set(gram) <= words or words <= set(gram) for words in kept):
            continue
        kept.append(set(gram))
        out.append(KeyPhrase(" ".join(gram), float(counts[gram] * len(gram))))
    return out
