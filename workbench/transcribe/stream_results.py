"""Result objects of a stream: what one decoding pass produced, and the stream's statistics."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from workbench.core.results import Result
from workbench.transcribe.summary import Summary
from workbench.transcribe.transcript import Word

__all__ = ["StreamStats", "StreamUpdate"]


@dataclasses.dataclass(repr=False)
class StreamUpdate(Result):
    """What one decoding pass of a stream produced.

    Attributes
    ----------
    audio_end : float
        Seconds of audio received when the pass ran.
    confirmed : str
        All confirmed text so far (never changes once shown, only grows).
    tentative : str
        Text after the confirmed part that the next passes may still revise.
    new_words : list of Word
        Words confirmed by this pass, with absolute timestamps.
    compute_s : float
        Wall time of this pass's decoding.
    emitted_at : float
        Simulated stream clock (s) when this pass finished, assuming real-time arrival.
    delays : list of float
        ``emitted_at - word.end`` for each new word: how long after being spoken it was confirmed.
    final : bool
        True for the update that closes the stream.
    running_summary : Summary or None
        Running extractive summary of the confirmed text.
    """

    audio_end: float
    confirmed: str
    tentative: str
    new_words: list[Word]
    compute_s: float
    emitted_at: float
    delays: list[float]
    final: bool = False
    running_summary: Summary | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "audio_end_s": round(self.audio_end, 2),
            "new_words": len(self.new_words),
            "final": self.final,
        }

    def __repr__(self) -> str:
        return (
            f"StreamUpdate(audio_end={self.audio_end:.2f}, new_words={len(self.new_words)}, "
            f"final={self.final})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per newly confirmed word with its delay."""
        rows = [
            {"start": w.start, "end": w.end, "word": w.text.strip(), "delay_s": d}
            for w, d in zip(self.new_words, self.delays, strict=True)
        ]
        return pd.DataFrame(rows, columns=["start", "end", "word", "delay_s"])


@dataclasses.dataclass(repr=False)
class StreamStats(Result):
    """Latency and speed of a finished (or running) stream.

    Attributes
    ----------
    audio_s : float
        Audio received.
    n_passes : int
        Decoding passes run.
    compute_s : float
        Total decoding wall time.
    pass_mean_s, pass_max_s : float
        Mean and worst decoding time of one pass (per-chunk latency).
    n_words : int
        Confirmed words.
    delay_median_s, delay_p90_s, delay_max_s : float
        Confirmed-text delay (see the module docstring); NaN when no word was confirmed.
    agreed_share : float
        Share of words confirmed by agreement before the stream ended (the rest were flushed
        by the final pass).
    encoder_window_s : float
        Mean seconds of audio per encoder window: the buffer plus margin with
        ``encoder_window="short"``, Whisper's padded 30 s with ``"full"``; NaN before a pass.
    n_guarded : int
        Passes the repetition guard decoded again without the prompt.
    silence_skipped_s : float
        Seconds of silence cut off the buffer before decoding (``skip_silence``).
    """

    audio_s: float
    n_passes: int
    compute_s: float
    pass_mean_s: float
    pass_max_s: float
    n_words: int
    delay_median_s: float
    delay_p90_s: float
    delay_max_s: float
    agreed_share: float
    encoder_window_s: float
    n_guarded: int = 0
    silence_skipped_s: float = 0.0

    @property
    def title(self) -> str:
        return "Streaming statistics"

    @property
    def real_time_factor(self) -> float:
        """Audio seconds processed per second of decoding."""
        return self.audio_s / self.compute_s if self.compute_s > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        return {
            "n_words": self.n_words,
            "delay_median_s": round(self.delay_median_s, 2),
            "delay_p90_s": round(self.delay_p90_s, 2),
        }
