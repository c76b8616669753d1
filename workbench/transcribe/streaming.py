"""Streaming transcription with a local-agreement policy (as in whisper_streaming).

Audio arrives in chunks. After each chunk (once at least ``min_chunk_s`` of new audio is there)
the whole unconfirmed buffer is decoded again with word timestamps; the longest common prefix of
this decoding and the previous one is *confirmed* (two successive passes agree on it), the rest is
*tentative* and may still change. After each pass the buffer is cut at the end of the last
confirmed sentence (or, past ``buffer_trim_s``, of the last confirmed word) so each pass stays
short, and the confirmed text before the buffer is given to
Whisper as the prompt. By default a pass encodes only the buffered audio plus 2 s, not Whisper's
padded 30-s window (:mod:`workbench.transcribe.window`): a quarter of the work for a pass, which
is what brings the confirmed-text delay under 3 s on two cores.

Delay is measured on a simulated clock that assumes the chunks arrive in real time: a pass starts
when its last chunk has arrived and the previous pass has finished, and takes the wall time its
decoding really took. The delay of a confirmed word is the clock at confirmation minus the time
the word ended in the audio.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.results import Result
from workbench.core.validation import check_choice, check_positive
from workbench.transcribe.audio import SAMPLE_RATE, load_audio
from workbench.transcribe.summary import Summary, group_sentences, summarize
from workbench.transcribe.transcript import Segment, Transcript, Word
from workbench.transcribe.window import FRAMES_PER_SECOND

if TYPE_CHECKING:
    from workbench.transcribe.transcriber import Transcriber

__all__ = ["StreamStats", "StreamUpdate", "StreamingSession", "iter_chunks"]

_NORM = re.compile(r"[^a-z0-9']+")
_MAX_BUFFER_S = 28.0  # Whisper sees 30 s windows; never let the buffer outgrow one
_TOKENS_PER_S = 10
_ELLIPSIS = re.compile(r"\.{2,}|…")
_PUNCTUATION = re.compile(r"[\s.,;:!?…\-\"'()\[\]]*")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


def _norm(word: Word) -> str:
    # Compared case- and punctuation-blind; a word that is only punctuation ("%") is compared
    # as written.
    return _NORM.sub("", word.text.lower()) or word.text.strip()


def _join(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


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


class StreamingSession:
    """Push audio chunks in, get confirmed and tentative text out (local agreement).

    Parameters
    ----------
    transcriber : Transcriber
        Supplies the model and decoding settings (its ``word_timestamps`` is forced on).
    sample_rate : int, optional
        Rate of the chunks (default 16,000; other rates are resampled chunk by chunk).
    min_chunk_s : float, default=1.0
        Decode only once this much new audio has arrived since the last pass.
    buffer_trim_s : float, default=10.0
        The buffer is always cut after the last confirmed sentence; when no sentence has ended
        and the buffer is longer than this, it is cut after the last confirmed word.
    summary_sentences : int, default=3
        Sentences in the running summary; 0 turns it off.
    prompt_chars : int, default=200
        Characters of confirmed text before the buffer passed to Whisper as the prompt.
    encoder_window : {"short", "full"}, default="short"
        ``"short"`` encodes only the buffered audio plus ``window_margin_s`` (about 4x less
        encoder work for a 5-s buffer; see :mod:`workbench.transcribe.window`) and decodes one
        window per pass; ``"full"`` pads every pass to Whisper's 30-s window as offline
        transcription does.
    window_margin_s : float, default=2.0
        Padding kept after the buffer with ``encoder_window="short"``.

    Attributes
    ----------
    confirmed_words_ : list of Word
        Every confirmed word with absolute timestamps.
    updates_ : list of StreamUpdate
        Every update returned so far.
    """

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        sample_rate: int | None = None,
        min_chunk_s: float = 1.0,
        buffer_trim_s: float = 10.0,
        summary_sentences: int = 3,
        prompt_chars: int = 200,
        encoder_window: str = "short",
        window_margin_s: float = 2.0,
    ) -> None:
        from workbench.transcribe.transcriber import Transcriber

        if not isinstance(transcriber, Transcriber):
            raise InputTypeError(
                f"transcriber must be a Transcriber, got {type(transcriber).__name__}."
            )
        check_positive(min_chunk_s, name="min_chunk_s")
        check_positive(buffer_trim_s, name="buffer_trim_s")
        if buffer_trim_s > _MAX_BUFFER_S - 2:
            raise InputError(
                f"buffer_trim_s={buffer_trim_s} is too long: Whisper decodes at most 30 s at once; "
                f"use at most {_MAX_BUFFER_S - 2:g}."
            )
        if min_chunk_s >= buffer_trim_s:
            raise InputError("min_chunk_s must be shorter than buffer_trim_s.")
        check_positive(summary_sentences, name="summary_sentences", integer=True, strict=False)
        check_positive(prompt_chars, name="prompt_chars", integer=True, strict=False)
        check_choice(encoder_window, ("short", "full"), kind="encoder_window")
        check_positive(window_margin_s, name="window_margin_s", strict=False)
        self.transcriber = transcriber.load()
        self.sample_rate = sample_rate
        self.min_chunk_s = float(min_chunk_s)
        self.buffer_trim_s = float(buffer_trim_s)
        self.summary_sentences = summary_sentences
        self.prompt_chars = prompt_chars
        self.encoder_window = encoder_window
        self.window_margin_s = float(window_margin_s)
        self._window: dict[str, list[int]] = {"frames": []}
        self.confirmed_words_: list[Word] = []
        self.updates_: list[StreamUpdate] = []
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0.0  # stream time of the buffer's first sample
        self._received = 0.0
        self._last_pass_at = 0.0
        self._prev: list[Word] = []  # tentative words of the previous pass
        self._clock = 0.0
        self._summary: Summary | None = None
        self._finished = False
        self._agreed = 0

    @property
    def confirmed_text(self) -> str:
        """All confirmed text so far."""
        return _join(self.confirmed_words_)

    @property
    def tentative_text(self) -> str:
        """The current tentative text."""
        return _join(self._prev)

    def push(self, chunk: Any) -> StreamUpdate | None:
        """Add a chunk of audio; decode when enough new audio has arrived.

        A pass runs once ``min_chunk_s`` of new audio is buffered and the previous pass is over
        on the simulated real-time clock (when decoding is slower than speech, chunks pile up
        and the next pass takes them all, as in a live stream).

        Parameters
        ----------
        chunk : numpy.ndarray
            1-D samples at the session's sample rate. Empty chunks are ignored.

        Returns
        -------
        StreamUpdate or None
            None when the chunk was only buffered.

        Raises
        ------
        InputError
            If the session is finished or the chunk is invalid (see :func:`load_audio`).
        InputTypeError
            If the chunk is not a numpy array.
        """
        if self._finished:
            raise InputError("This stream is finished; start a new StreamingSession.")
        if not isinstance(chunk, np.ndarray):
            raise InputTypeError(
                f"Stream chunks must be numpy arrays of samples, got {type(chunk).__name__}."
            )
        if chunk.size == 0:
            return None
        samples = load_audio(chunk, sample_rate=self.sample_rate)
        self._buffer = np.concatenate([self._buffer, samples])
        self._received += samples.size / SAMPLE_RATE
        if self._received - self._last_pass_at < self.min_chunk_s:
            return None
        if self._received < self._clock:
            # The previous pass is still running on the simulated real-time clock: this audio
            # waits for the next pass, as it would in a live stream.
            return None
        return self._process(final=False)

    def finish(self) -> StreamUpdate:
        """Close the stream: decode what is left and confirm every remaining word.

        Returns
        -------
        StreamUpdate
            With ``final=True``.
        """
        if self._finished:
            raise InputError("This stream is already finished.")
        update = self._process(final=True)
        self._finished = True
        return update

    def _prompt(self) -> str | None:
        if not self.prompt_chars:
            return None
        before = [w for w in self.confirmed_words_ if w.end <= self._offset + 1e-3]
        # An ellipsis in the prompt makes Whisper answer with more of them.
        text = _ELLIPSIS.sub("", _join(before))[-self.prompt_chars :].strip()
        return text or None

    def _process(self, *, final: bool) -> StreamUpdate:
        self._last_pass_at = self._received
        compute = 0.0
        words: list[Word] = []
        if self._buffer.size >= SAMPLE_RATE // 10:
            start = time.perf_counter()
            buffered = self._buffer.size / SAMPLE_RATE
            segments = self.transcriber._segments(
                self._buffer,
                show_progress=False,
                offset=self._offset,
                short_window_margin_s=(
                    self.window_margin_s if self.encoder_window == "short" else None
                ),
                # The last pass decodes every window: nothing comes after it.
                one_window=not final,
                window_stats=self._window,
                initial_prompt=self._prompt(),
                word_timestamps=True,
                # Speech runs at 2-4 tokens a second; a pass that writes far more is looping.
                max_new_tokens=round(_TOKENS_PER_S * buffered) + 10,
            )
            # Whisper's own rule for hallucinated text on silence. A lone punctuation mark is
            # no word (Whisper attaches real punctuation to its word), and lone ellipses,
            # once Whisper starts writing them, are all it writes.
            words = [
                w
                for s in segments
                if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)
                for w in s.words
                if not _PUNCTUATION.fullmatch(w.text)
            ]
            # Words Whisper writes past the audio it heard (a phrase repeated at the end of
            # the buffer) are aligned with zero length at the very end: the pass ends there.
            end = self._offset + buffered - 0.5
            cut = next(
                (i for i, w in enumerate(words) if w.end - w.start < 0.01 and w.start >= end),
                None,
            )
            words = words[:cut]
            compute = time.perf_counter() - start
        words = self._drop_confirmed(words)
        if final:
            n_agree = len(words)
        else:
            n_agree = 0
            for a, b in zip(words, self._prev, strict=False):
                if _norm(a) != _norm(b):
                    break
                n_agree += 1
        new = words[:n_agree]
        self._prev = words[n_agree:]
        self._clock = max(self._clock, self._received) + compute
        if not final:
            self._agreed += len(new)
        self.confirmed_words_.extend(new)
        self._trim()
        if new and self.summary_sentences:
            self._summary = summarize(self.confirmed_words_, n_sentences=self.summary_sentences)
        update = StreamUpdate(
            audio_end=self._received,
            confirmed=self.confirmed_text,
            tentative=self.tentative_text,
            new_words=new,
            compute_s=compute,
            emitted_at=self._clock,
            delays=[self._clock - w.end for w in new],
            final=final,
            running_summary=self._summary,
        )
        self.updates_.append(update)
        return update

    def _drop_confirmed(self, words: list[Word]) -> list[Word]:
        if not self.confirmed_words_:
            return words
        last_end = self.confirmed_words_[-1].end
        words = [w for w in words if w.start > last_end - 0.1]
        # A word confirmed before may be decoded again across the cut: drop the repeated n-gram.
        if words and abs(words[0].start - last_end) < 1.0:
            tail = self.confirmed_words_
            for n in range(min(5, len(tail), len(words)), 0, -1):
                if [_norm(w) for w in tail[-n:]] == [_norm(w) for w in words[:n]]:
                    return words[n:]
        return words

    def _trim(self) -> None:
        # Cut at the end of the last confirmed sentence: the next pass decodes only the sentence
        # being spoken (short, fast) and gets the earlier sentences as its prompt.
        cut = self._offset
        for w in reversed(self.confirmed_words_):
            if w.end <= self._offset:
                break
            if _SENTENCE_END.search(w.text.strip()):
                cut = w.end
                break
        buffered = self._buffer.size / SAMPLE_RATE
        if cut <= self._offset and buffered > self.buffer_trim_s and self.confirmed_words_:
            cut = self.confirmed_words_[-1].end
        if cut <= self._offset and buffered > _MAX_BUFFER_S:
            # Nothing agreed for too long: confirm the tentative words rather than overflow.
            self.confirmed_words_.extend(self._prev)
            self._prev = []
            last = self.confirmed_words_[-1].end if self.confirmed_words_ else self._offset
            cut = max(last, self._offset + buffered - self.buffer_trim_s)
        if cut > self._offset:
            n = min(self._buffer.size, round((cut - self._offset) * SAMPLE_RATE))
            self._buffer = self._buffer[n:]
            self._offset += n / SAMPLE_RATE

    def stats(self) -> StreamStats:
        """Latency and speed of the stream so far.

        Returns
        -------
        StreamStats
        """
        passes = [u.compute_s for u in self.updates_ if u.compute_s > 0]
        delays = np.array([d for u in self.updates_ for d in u.delays], dtype=float)
        nan = float("nan")
        n_words = len(self.confirmed_words_)
        frames = self._window["frames"]
        return StreamStats(
            audio_s=self._received,
            n_passes=len(passes),
            compute_s=float(sum(passes)),
            pass_mean_s=float(np.mean(passes)) if passes else nan,
            pass_max_s=float(np.max(passes)) if passes else nan,
            n_words=n_words,
            delay_median_s=float(np.median(delays)) if delays.size else nan,
            delay_p90_s=float(np.percentile(delays, 90)) if delays.size else nan,
            delay_max_s=float(delays.max()) if delays.size else nan,
            agreed_share=self._agreed / n_words if n_words else nan,
            encoder_window_s=(
                float(np.mean(frames)) / FRAMES_PER_SECOND if frames else 30.0 if passes else nan
            ),
        )

    def transcript(self) -> Transcript:
        """The confirmed words as a :class:`Transcript`, one segment per sentence."""
        segments = [
            Segment(
                id=i,
                start=g[0].start,
                end=g[-1].end,
                text=_join(g),
                avg_logprob=float("nan"),
                no_speech_prob=float("nan"),
                words=tuple(g),
            )
            for i, g in enumerate(group_sentences(self.confirmed_words_))
        ]
        t = self.transcriber
        return Transcript(
            segments=segments,
            duration=self._received,
            language=t.language,
            model=str(t.model),
            settings={"streaming": True, "min_chunk_s": self.min_chunk_s},
        )


def iter_chunks(
    audio: np.ndarray, chunk_s: float = 1.0, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Cut samples into consecutive chunks of ``chunk_s`` seconds (to play a file as a stream).

    Parameters
    ----------
    audio : numpy.ndarray of shape (n_samples,)
    chunk_s : float, default=1.0
    sample_rate : int, default=16000

    Yields
    ------
    numpy.ndarray
    """
    check_positive(chunk_s, name="chunk_s")
    step = max(1, round(chunk_s * sample_rate))
    for i in range(0, len(audio), step):
        yield audio[i : i + step]
