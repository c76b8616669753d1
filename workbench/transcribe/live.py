"""The kernel side of live transcription: chunks in, confirmed text and a session folder out.

:class:`LiveSession` receives chunks (from
:class:`~workbench.transcribe.microphone.MicrophoneWidget` or any other source) in the caller's
thread and only queues them; a worker thread writes them to the session folder
(:class:`~workbench.transcribe.recorder.SessionRecorder`), feeds a
:class:`~workbench.transcribe.streaming.StreamingSession`, logs each confirmed word to disk and
makes a rolling summary about every 20 s. So the comm handler never waits for Whisper.

Chunks carry sequence numbers. A chunk that arrives early waits (up to ``reorder_chunks``) for
the ones before it; a chunk that never comes is replaced by silence of the same length, and a
chunk that comes after its place was filled is dropped; both are reported in :attr:`gaps_` and in
the folder's log. Another sample rate is resampled to 16 kHz.

Memory stays bounded however long the session runs: the audio goes to disk, the streaming
buffer is trimmed by the streaming session itself (at most one Whisper window), the per-pass
updates are dropped once read, delays are kept as a running histogram and the summary looks only
at the last ``summary_window_s`` seconds of confirmed words.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_number
from workbench.transcribe.audio import SAMPLE_RATE, load_audio
from workbench.transcribe.decoder import WhisperDecoder
from workbench.transcribe.mic_chunks import AudioChunk
from workbench.transcribe.recorder import SessionRecorder
from workbench.transcribe.streaming import StreamingSession
from workbench.transcribe.summary import Summary, summarize
from workbench.transcribe.transcript import EXPORT_FORMATS, Transcript, Word

__all__ = ["LiveSession"]

_STOP = object()
_MAX_SEQ_JUMP = 1200  # chunks; beyond this a sequence number is a mistake, not a gap
# A backlog is pushed in pieces this long: the streaming session trims its buffer after each
# pass, so it never holds much more than one Whisper window (it refuses pushes of 30 s).
_MAX_PUSH_S = 5.0
_DELAY_BINS = np.arange(0.0, 60.05, 0.05)  # delay histogram: 50 ms bins up to a minute


class LiveSession:
    """Live transcription of a stream of chunks, written to a session folder as it goes.

    Parameters
    ----------
    transcriber : Transcriber, optional
        The model (default ``Transcriber()``: tiny.en int8).
    folder : str or path-like, optional
        Where to record (made private, 0700); default a fresh folder under
        ``./live_sessions`` (see :func:`~workbench.transcribe.recorder.new_session_folder`).
    min_chunk_s : float, optional
        New audio needed before a decoding pass; default the streaming session's (0.5 s,
        see :class:`StreamingSession`).
    summary_every_s : float, default=20.0
        Stream seconds between rolling summaries.
    summary_sentences : int, default=3
    summary_window_s : float, default=600.0
        The rolling summary covers the confirmed words of this many last seconds.
    reorder_chunks : int, default=4
        Early chunks held while waiting for a missing one; past that the missing one is lost.
    on_update : callable, optional
        ``on_update(session)`` after each pass that changed the text, and after the rolling
        summary; called in the worker thread.

    Attributes
    ----------
    folder_ : pathlib.Path
    gaps_ : list of dict
        ``{"kind": "lost" | "late", "at": stream s, "seconds": s, "seq": ...}``.
    summary_ : Summary or None
        The latest rolling summary.
    files_ : dict
        Export paths (``srt``, ``vtt``, ``json``, ``txt``) once stopped.
    transcript_ : Transcript or None
        The final transcript once stopped.
    error_ : str
        The first error the worker met (the session then only records audio).
    """

    def __init__(
        self,
        transcriber: WhisperDecoder | None = None,
        *,
        folder: str | os.PathLike[str] | None = None,
        min_chunk_s: float | None = None,
        summary_every_s: float = 20.0,
        summary_sentences: int = 3,
        summary_window_s: float = 600.0,
        reorder_chunks: int = 4,
        on_update: Callable[[LiveSession], Any] | None = None,
    ) -> None:
        if transcriber is None:
            from workbench.transcribe.transcriber import Transcriber

            transcriber = Transcriber()
        self.summary_every_s = check_number(
            summary_every_s, name="summary_every_s", low=1.0, high=3600.0
        )
        self.summary_window_s = check_number(
            summary_window_s, name="summary_window_s", low=10.0, high=7200.0
        )
        self.summary_sentences = int(
            check_number(summary_sentences, name="summary_sentences", low=1, high=20, integer=True)
        )
        self.reorder_chunks = int(
            check_number(reorder_chunks, name="reorder_chunks", low=0, high=100, integer=True)
        )
        if on_update is not None and not callable(on_update):
            raise InputTypeError(f"on_update must be callable, got {type(on_update).__name__}.")
        passes = {} if min_chunk_s is None else {"min_chunk_s": min_chunk_s}
        self.stream_ = StreamingSession(transcriber, summary_sentences=0, **passes)
        self.recorder_ = SessionRecorder(folder)
        self.folder_: Path = self.recorder_.folder_
        self.on_update = on_update
        self.gaps_: list[dict[str, Any]] = []
        self.summary_: Summary | None = None
        self.files_: dict[str, Path] = {}
        self.transcript_: Transcript | None = None
        self.error_ = ""
        self.level_ = float("nan")
        self.last_confirmed_ends_: list[float] = []
        self.last_confirmed_live_ = True
        self.n_passes_ = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._queued = 0  # samples in the queue
        self._held: dict[int, np.ndarray] = {}
        self._next_seq = 0
        self._fed = 0  # 16-kHz samples accepted (audio + filled silence)
        self._arrivals: deque[tuple[int, float]] = deque()  # (samples fed, monotonic time)
        self._delays = np.zeros(_DELAY_BINS.size + 1, dtype=np.int64)
        self._n_delays = 0
        self._recent: deque[Word] = deque()
        self._last_summary_at = 0.0
        self._decoded_s = 0.0
        self._stopped = False
        self._worker = threading.Thread(target=self._run, name="workbench-live", daemon=True)
        self._worker.start()

    # -- input (caller's thread) ---------------------------------------------------------------
    def feed_chunk(self, chunk: AudioChunk) -> None:
        """Queue a chunk from :class:`MicrophoneWidget` (its ``on_chunk`` callback)."""
        if not isinstance(chunk, AudioChunk):
            raise InputTypeError(f"Expected an AudioChunk, got {type(chunk).__name__}.")
        self.level_ = chunk.level
        self.feed(chunk.samples, seq=chunk.seq, sample_rate=chunk.sample_rate)

    def feed(self, samples: Any, *, seq: int | None = None, sample_rate: int | None = None) -> None:
        """Queue audio; returns at once (decoding happens in the worker thread).

        Parameters
        ----------
        samples : numpy.ndarray of shape (n_samples,)
            Mono float audio.
        seq : int, optional
            Sequence number of the chunk, counted from 0; without it chunks are taken in the
            order they come. Missing numbers become silence, late ones are dropped; both
            reported.
        sample_rate : int, optional
            Rate of ``samples`` (default 16,000); other rates are resampled.

        Raises
        ------
        InputError
            If the session is stopped, the audio is invalid or longer than 10 s, or ``seq`` is
            negative or more than 1,200 chunks ahead of the next expected one.
        InputTypeError
            If the samples are not numeric or ``seq`` is not an integer.
        """
        if self._stopped:
            raise InputError("This live session is stopped; start a new LiveSession.")
        if not isinstance(samples, np.ndarray):
            raise InputTypeError(f"samples must be a numpy array, got {type(samples).__name__}.")
        audio = load_audio(samples, sample_rate=sample_rate)
        if audio.size > 10 * SAMPLE_RATE:
            raise InputError(
                f"A chunk of {audio.size / SAMPLE_RATE:.1f} s is too long for live input; "
                "feed 0.5-2 s chunks (use Transcriber.transcribe for whole recordings)."
            )
        if seq is not None:
            seq = int(check_number(seq, name="seq", low=0, high=2**53, integer=True))
        with self._lock:
            if seq is None:
                self._accept(audio)
                return
            if seq - self._next_seq > _MAX_SEQ_JUMP:
                raise InputError(
                    f"Chunk {seq} comes {seq - self._next_seq} chunks after the expected "
                    f"{self._next_seq}; sequence numbers count chunks from 0 (start a new "
                    "LiveSession for a new recording)."
                )
            if seq < self._next_seq:
                self._report("late", self._fed, audio.size, seq=seq)
                return
            self._held[seq] = audio
            while self._held:
                if self._next_seq in self._held:
                    self._accept(self._held.pop(self._next_seq))
                    self._next_seq += 1
                elif len(self._held) > self.reorder_chunks:
                    self._fill_missing()
                else:
                    break

    def _fill_missing(self) -> None:
        # The missing chunks up to the first held one are lost: silence of the held chunks'
        # length stands in for each.
        first = min(self._held)
        size = self._held[first].size
        lost = first - self._next_seq
        self._report("lost", self._fed, lost * size, seq=[self._next_seq, first - 1])
        for _ in range(lost):
            self._accept(np.zeros(size, dtype=np.float32))
        self._next_seq = first

    def _report(self, kind: str, at: int, n: int, **extra: Any) -> None:
        gap = {
            "kind": kind,
            "at": round(at / SAMPLE_RATE, 3),
            "seconds": round(n / SAMPLE_RATE, 3),
            **extra,
        }
        self.gaps_.append(gap)
        self._queue.put(("gap", gap))

    def _accept(self, audio: np.ndarray) -> None:
        self._fed += audio.size
        self._arrivals.append((self._fed, time.monotonic()))
        self._queued += audio.size
        self._queue.put(("audio", audio))

    # -- worker thread -------------------------------------------------------------------------
    def _run(self) -> None:
        done = False
        while not done:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            pieces = []
            for item in items:
                if item is _STOP:
                    done = True
                elif item[0] == "gap":
                    self._safe(lambda g=item[1]: self.recorder_.write_event("gap", **g))
                else:
                    pieces.append(item[1])
                    self._safe(lambda a=item[1]: self.recorder_.write_audio(a))
            if pieces:
                audio = np.concatenate(pieces)
                with self._lock:
                    self._queued -= audio.size
                self._decode(audio)
        self._finish()

    def _safe(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except Exception as exc:
            if not self.error_:
                self.error_ = f"{type(exc).__name__}: {exc}"
            return None

    def _decode(self, audio: np.ndarray) -> None:
        if self.error_:
            return
        step = round(_MAX_PUSH_S * SAMPLE_RATE)
        for i in range(0, audio.size, step):
            update = self._safe(lambda a=audio[i : i + step]: self.stream_.push(a))
            self.n_passes_ += update is not None
            self._decoded_s += min(step, audio.size - i) / SAMPLE_RATE
            self.stream_.updates_.clear()  # each holds the whole confirmed text: drop once read
            if update is not None:
                self._confirmed(update.new_words, live=True)
        if self._decoded_s - self._last_summary_at >= self.summary_every_s:
            self._last_summary_at = self._decoded_s
            self._summarize()

    def _confirmed(self, words: list[Word], *, live: bool) -> None:
        if not words:
            if self.on_update is not None:
                self._safe(lambda: self.on_update(self))
            return
        self._safe(lambda: self.recorder_.write_words(words))
        now = time.monotonic()
        with self._lock:
            for w in words:
                when = self._arrival(w.end)
                if live and when is not None:
                    self._delays[np.searchsorted(_DELAY_BINS, now - when)] += 1
                    self._n_delays += 1
            horizon = words[-1].end - 30.0
            while len(self._arrivals) > 1 and self._arrivals[1][0] < horizon * SAMPLE_RATE:
                self._arrivals.popleft()
        self._recent.extend(words)
        while self._recent and self._recent[0].end < words[-1].end - self.summary_window_s:
            self._recent.popleft()
        self.last_confirmed_ends_ = [w.end for w in words]
        self.last_confirmed_live_ = live
        if self.on_update is not None:
            self._safe(lambda: self.on_update(self))

    def _arrival(self, end_s: float) -> float | None:
        target = end_s * SAMPLE_RATE
        for fed, t in self._arrivals:
            if fed >= target:
                return t
        return None

    def _summarize(self) -> None:
        words = list(self._recent)
        if words:
            summary = self._safe(lambda: summarize(words, n_sentences=self.summary_sentences))
            if summary is not None:
                self.summary_ = summary
            if self.on_update is not None:
                self._safe(lambda: self.on_update(self))

    def _finish(self) -> None:
        update = self._safe(self.stream_.finish)
        if update is not None:
            self._confirmed(update.new_words, live=False)
        self.stream_.updates_.clear()
        self._summarize()
        transcript = self._safe(self.stream_.transcript)
        self._safe(lambda: self.recorder_.close(error=self.error_, gaps=len(self.gaps_)))
        if transcript is not None:
            transcript.settings.update(
                {"live": True, "folder": str(self.folder_), "gaps": list(self.gaps_)}
            )
            self.transcript_ = transcript
            for fmt in EXPORT_FORMATS:
                path = self._safe(lambda f=fmt: transcript.export(self.folder_ / f"transcript.{f}"))
                if path is not None:
                    self.files_[fmt] = path

    # -- results -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True until :meth:`stop` has finished."""
        return not self._stopped

    @property
    def confirmed_text(self) -> str:
        """All confirmed text so far."""
        return self.stream_.confirmed_text

    @property
    def tentative_text(self) -> str:
        """The current tentative text (may still change)."""
        return self.stream_.tentative_text

    @property
    def queued_s(self) -> float:
        """Seconds of audio waiting for the worker (memory held by the queue)."""
        return self._queued / SAMPLE_RATE

    @property
    def held_chunks(self) -> int:
        """Early chunks waiting for a missing one."""
        return len(self._held)

    def buffer_sizes(self) -> dict[str, int]:
        """What the session holds in memory now; each stays bounded in a long session.

        Returns
        -------
        dict
            ``queued_samples`` (audio waiting for the worker), ``held_chunks`` (early chunks),
            ``arrival_marks`` (chunk arrival times kept to measure delays: about the last 30 s),
            ``summary_words`` (words in the rolling summary's window) and ``stream_updates``
            (per-pass updates not yet dropped).
        """
        with self._lock:
            return {
                "queued_samples": self._queued,
                "held_chunks": len(self._held),
                "arrival_marks": len(self._arrivals),
                "summary_words": len(self._recent),
                "stream_updates": len(self.stream_.updates_),
            }

    def stats(self) -> dict[str, Any]:
        """Audio, decoding and delay figures of the session so far.

        Delays are wall-clock: the time a word was confirmed minus the time the chunk holding
        its end arrived (words confirmed only by :meth:`stop` are not counted). Medians and
        90th percentiles come from a 50-ms histogram.
        """
        counts = self._delays.copy()
        n = int(counts.sum())

        def pct(q: float) -> float:
            if not n:
                return float("nan")
            i = int(np.searchsorted(np.cumsum(counts), q * n, side="left"))
            return float(_DELAY_BINS[min(i, _DELAY_BINS.size - 1)])

        return {
            "audio_s": round(self._fed / SAMPLE_RATE, 3),
            "decoded_s": round(self._decoded_s, 3),
            "n_words": len(self.stream_.confirmed_words_),
            "n_passes": self.n_passes_,
            "delay_median_s": pct(0.5),
            "delay_p90_s": pct(0.9),
            "queued_s": round(self.queued_s, 3),
            "held_chunks": self.held_chunks,
            "gaps": len(self.gaps_),
            "samples_on_disk": self.recorder_.samples_written_,
        }

    def stop(self, timeout: float | None = None) -> Transcript | None:
        """Close the stream: decode what is queued, confirm the rest, write the exports.

        Held early chunks are flushed (the missing ones before them become silence). The
        folder then holds ``transcript.srt``, ``.vtt``, ``.json`` and ``.txt`` next to the
        audio and the word log.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the worker; None waits until it is done.

        Returns
        -------
        Transcript or None
            None if decoding failed (see :attr:`error_`; the folder still holds the audio).
        """
        if timeout is not None:
            timeout = check_number(timeout, name="timeout", low=0.0, high=86400.0)
        with self._lock:
            if not self._stopped:
                while self._held:
                    if self._next_seq in self._held:
                        self._accept(self._held.pop(self._next_seq))
                        self._next_seq += 1
                    else:
                        self._fill_missing()
                self._stopped = True
                self._queue.put(_STOP)
        self._worker.join(timeout)
        return self.transcript_

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        seconds = self._fed / SAMPLE_RATE
        return f"LiveSession({state}, {seconds:.1f} s, folder={self.folder_.name!r})"
