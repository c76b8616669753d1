"""The transcript result: segments with word timestamps; exports to SRT, WebVTT, JSON, text."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_ax
from workbench.core.paths import atomic_write, check_write_path
from workbench.core.results import Result
from workbench.core.validation import check_choice

__all__ = ["EXPORT_FORMATS", "MAX_SECONDS", "Segment", "Transcript", "Word", "format_timestamp"]

EXPORT_FORMATS = ("srt", "vtt", "json", "txt")
"""Formats :meth:`Transcript.export` writes."""


MAX_SECONDS = 1e9
"""Largest timestamp or duration accepted (about 31 years of audio)."""


def _real(obj: Any, field: str, *, seconds: bool = True) -> float:
    # seconds=False: a score, where NaN means "not measured".
    value = getattr(obj, field)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(
            f"{type(obj).__name__}.{field} must be a number of seconds or a score, got "
            f"{value!r} ({type(value).__name__})."
        )
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        value = math.inf
    if not seconds and math.isinf(value):
        raise InputError(f"{type(obj).__name__}.{field} must be finite or NaN, got {value!r}.")
    if seconds and not (math.isfinite(value) and 0 <= value <= MAX_SECONDS):
        raise InputError(
            f"{type(obj).__name__}.{field} must be a time in seconds in [0, {MAX_SECONDS:g}], "
            f"got {value!r}."
        )
    object.__setattr__(obj, field, value)
    return value


def _text(obj: Any, field: str) -> None:
    value = getattr(obj, field)
    if not isinstance(value, str):
        raise InputTypeError(
            f"{type(obj).__name__}.{field} must be a str, got {type(value).__name__}."
        )


@dataclasses.dataclass(frozen=True)
class Word:
    """One recognized word with its time span in the audio.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the audio.
    text : str
        The word as Whisper wrote it (with its leading space and punctuation).
    probability : float
        Mean token probability of the word.
    """

    start: float
    end: float
    text: str
    probability: float = float("nan")

    def __post_init__(self) -> None:
        # Checked once here, so exports, summaries and plots can trust every word.
        _real(self, "start")
        _real(self, "end")
        _text(self, "text")
        _real(self, "probability", seconds=False)


@dataclasses.dataclass(frozen=True)
class Segment:
    """One decoded segment (a phrase or sentence) of a transcript.

    Attributes
    ----------
    id : int
        Position in the transcript, from 0.
    start, end : float
        Seconds from the start of the audio.
    text : str
        Text of the segment, stripped.
    avg_logprob : float
        Mean log probability of its tokens (closer to 0 is more confident).
    no_speech_prob : float
        Whisper's probability that the window holds no speech.
    words : tuple of Word
        Word timestamps (empty when they were not requested).
    """

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, numbers.Integral):
            raise InputTypeError(f"Segment.id must be an integer, got {self.id!r}.")
        object.__setattr__(self, "id", int(self.id))
        _real(self, "start")
        _real(self, "end")
        _text(self, "text")
        _real(self, "avg_logprob", seconds=False)
        _real(self, "no_speech_prob", seconds=False)
        if not isinstance(self.words, tuple | list) or not all(
            isinstance(w, Word) for w in self.words
        ):
            raise InputTypeError("Segment.words must be a tuple of Word objects.")
        object.__setattr__(self, "words", tuple(self.words))


def format_timestamp(seconds: float, *, separator: str = ",") -> str:
    """Format seconds as ``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT, ``separator="."``)."""
    millis = max(0, round(float(seconds) * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


@dataclasses.dataclass(repr=False)
class Transcript(Result):
    """Segments and words of one transcribed recording.

    Attributes
    ----------
    segments : list of Segment
    duration : float
        Length of the audio in seconds.
    language : str
        Language code used for decoding.
    model : str
        Model folder or name that produced it.
    settings : dict
        Decoding settings (beam size, VAD, compute type...).
    """

    segments: list[Segment]
    duration: float
    language: str = "en"
    model: str = ""
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.segments, list | tuple) or not all(
            isinstance(s, Segment) for s in self.segments
        ):
            raise InputTypeError("Transcript.segments must be a list of Segment objects.")
        self.segments = list(self.segments)
        _real(self, "duration")
        _text(self, "language")
        _text(self, "model")
        if not isinstance(self.settings, dict):
            raise InputTypeError(
                f"Transcript.settings must be a dict, got {type(self.settings).__name__}."
            )

    @property
    def text(self) -> str:
        """The whole transcript as one string."""
        return " ".join(s.text for s in self.segments if s.text).strip()

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in order."""
        return [w for s in self.segments for w in s.words]

    @property
    def title(self) -> str:
        return "Transcript"

    def summary(self) -> dict[str, Any]:
        return {
            "segments": len(self.segments),
            "words": len(self.text.split()),
            "duration_s": round(self.duration, 2),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per segment: id, start, end, text, avg_logprob, no_speech_prob, n_words."""
        cols = ["id", "start", "end", "text", "avg_logprob", "no_speech_prob", "n_words"]
        rows = [
            {
                "id": s.id,
                "start": round(s.start, 2),
                "end": round(s.end, 2),
                "text": s.text,
                "avg_logprob": s.avg_logprob,
                "no_speech_prob": s.no_speech_prob,
                "n_words": len(s.words),
            }
            for s in self.segments
        ]
        return pd.DataFrame(rows, columns=cols)

    def words_frame(self) -> pd.DataFrame:
        """One row per word: segment, start, end, word, probability."""
        rows = [
            {
                "segment": s.id,
                "start": w.start,
                "end": w.end,
                "word": w.text.strip(),
                "probability": w.probability,
            }
            for s in self.segments
            for w in s.words
        ]
        return pd.DataFrame(rows, columns=["segment", "start", "end", "word", "probability"])

    def plot(self, ax: Any = None) -> Any:
        """Word confidence over time, with segments shaded.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(9, 2.6))
        for i, s in enumerate(self.segments):
            ax.axvspan(s.start, s.end, color="C0" if i % 2 == 0 else "C1", alpha=0.12, lw=0)
        words = self.words
        if words:
            mids = [(w.start + w.end) / 2 for w in words]
            ax.plot(mids, [w.probability for w in words], "o", ms=3, color="C2")
            for w, x in zip(words, mids, strict=True):
                if w.probability < 0.5:
                    ax.annotate(w.text.strip(), (x, w.probability), fontsize=7, rotation=45)
        ax.set_xlim(0, max(self.duration, 1e-3))
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("word probability")
        ax.set_title(f"{len(self.segments)} segments, {len(words)} words (shaded: segments)")
        return ax

    def to_srt(self) -> str:
        """SubRip subtitles, one cue per segment."""
        blocks = [
            f"{i}\n{format_timestamp(s.start)} --> {format_timestamp(s.end)}\n{s.text}\n"
            for i, s in enumerate(self.segments, start=1)
        ]
        return "\n".join(blocks)

    def to_vtt(self) -> str:
        """WebVTT subtitles, one cue per segment."""
        cues = [
            f"{format_timestamp(s.start, separator='.')} --> "
            f"{format_timestamp(s.end, separator='.')}\n{s.text}\n"
            for s in self.segments
        ]
        return "WEBVTT\n\n" + "\n".join(cues)

    def to_text(self) -> str:
        """Plain text, one segment per line."""
        return "\n".join(s.text for s in self.segments) + ("\n" if self.segments else "")

    def export(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the transcript to ``path`` as SRT, WebVTT, JSON or plain text.

        Parameters
        ----------
        path : str or path-like
            Target file in an existing folder (replaced atomically: a failed write leaves an
            existing file as it was).
        format : {"srt", "vtt", "json", "txt"}, optional
            Defaults to the file suffix.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        InputTypeError
            If ``path`` is not a path or ``format`` not a string.
        InputError
            If ``path`` is a folder or its folder is not writable.
        ResourceNotFoundError
            If the folder of ``path`` does not exist.
        UnknownNameError
            If the format (or suffix) is not one of :data:`EXPORT_FORMATS`.
        """
        p = check_write_path(path)
        if format is not None and not isinstance(format, str):
            raise InputTypeError(
                f"format must be one of {list(EXPORT_FORMATS)} or None, got {format!r}."
            )
        fmt = (format or p.suffix.lstrip(".")).lower()
        check_choice(fmt, EXPORT_FORMATS, kind="export format")
        writers = {
            "srt": self.to_srt,
            "vtt": self.to_vtt,
            "json": self.to_json,
            "txt": self.to_text,
        }
        return atomic_write(p, writers[fmt]())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """Rebuild a transcript from :meth:`to_dict` output (e.g. a JSON export).

        Raises
        ------
        InputError
            If required keys are missing.
        """
        if not isinstance(data, dict):
            raise InputTypeError(f"Expected a dict from Transcript.to_dict(), got {type(data)}.")
        try:
            segments = [
                Segment(
                    id=int(s["id"]),
                    start=float(s["start"]),
                    end=float(s["end"]),
                    text=str(s["text"]),
                    avg_logprob=_num(s["avg_logprob"]),
                    no_speech_prob=_num(s["no_speech_prob"]),
                    words=tuple(
                        Word(
                            float(w["start"]),
                            float(w["end"]),
                            str(w["text"]),
                            _num(w.get("probability")),
                        )
                        for w in s.get("words", [])
                    ),
                )
                for s in data["segments"]
            ]
            return cls(
                segments=segments,
                duration=float(data["duration"]),
                language=str(data.get("language", "en")),
                model=str(data.get("model", "")),
                settings=dict(data.get("settings", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"Not a transcript dictionary ({type(exc).__name__}: {exc}); pass the output of "
                "Transcript.to_dict() or a JSON export."
            ) from None

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> Transcript:
        """Read a transcript written by :meth:`to_json` or ``export(..., "json")``.

        Parameters
        ----------
        text_or_path : str or path-like
            JSON text (starting with ``{``) or the path of a JSON file.

        Returns
        -------
        Transcript

        Raises
        ------
        InputTypeError
            If the argument is neither text nor a path.
        ResourceNotFoundError
            If the file does not exist.
        InputError
            If the file is not UTF-8 JSON or not a transcript.
        """
        if not isinstance(text_or_path, str | os.PathLike):
            raise InputTypeError(
                f"Pass transcript JSON text or a file path, got {type(text_or_path).__name__}."
            )
        if isinstance(text_or_path, os.PathLike) or not text_or_path.lstrip().startswith("{"):
            from workbench.core.validation import check_file

            path = check_file(text_or_path)
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise InputError(
                    f"{path.name!r} is not UTF-8 text; pass a JSON file written by "
                    "Transcript.export(..., 'json')."
                ) from None
        else:
            text = text_or_path
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"Transcript JSON is invalid: {exc}.") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Transcript:
        """Restore what a live session confirmed from its folder (also after a crash).

        Delegates to :func:`workbench.transcribe.recorder.read_session`.

        Parameters
        ----------
        folder : str or path-like
            A folder a live session (:class:`~workbench.transcribe.live.LiveSession`) wrote.

        Returns
        -------
        Transcript
            One segment per confirmed sentence; ``settings["gaps"]`` lists filled gaps and
            ``settings["complete"]`` says whether the session was stopped cleanly.

        Raises
        ------
        ResourceNotFoundError
            If ``folder`` is not a session folder.
        InputError
            If its log is damaged before the last line.
        """
        from workbench.transcribe.recorder import read_session

        return cls.from_dict(read_session(folder))


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)
