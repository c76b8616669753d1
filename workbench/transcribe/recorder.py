"""Nothing lost: a live session's folder, written as it goes and readable after a crash.

A :class:`SessionRecorder` keeps three files in one folder:

``audio.wav``
    16-bit mono PCM, appended as chunks arrive. The RIFF and data sizes in the header are fixed
    (and the file fsync'd) on every :meth:`~SessionRecorder.flush`; :func:`read_session_audio`
    trusts the file's length, not the header, so audio written after the last flush still counts.
``transcript.jsonl``
    One JSON object per line, append-only and fsync'd per write: ``{"type": "word", ...}`` for
    each confirmed word, ``{"type": "gap", ...}`` for silence filled in for lost chunks,
    ``{"type": "stop", ...}`` when the session was closed cleanly. A torn last line (the kernel
    died while writing it) is ignored.
``session.json``
    What the folder is (format version, sample rate, start time), written once at the start.

:func:`read_session` turns the folder back into the dictionary :meth:`Transcript.from_dict`
reads; ``Transcript.load(folder)`` is that in one call. This module imports no other part of the
tool except :mod:`~workbench.transcribe.audio`, so the transcript module can delegate to it.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ResourceNotFoundError
from workbench.core.paths import atomic_write, private_dir
from workbench.core.validation import check_array
from workbench.transcribe.audio import SAMPLE_RATE, check_rate

__all__ = ["SessionRecorder", "new_session_folder", "read_session", "read_session_audio"]

AUDIO_FILE, LOG_FILE, META_FILE = "audio.wav", "transcript.jsonl", "session.json"
_FORMAT = "workbench-live-session/1"
_HEADER = 44
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


def new_session_folder(parent: str | os.PathLike[str] | None = None) -> Path:
    """Make a fresh private folder (mode 0700) for a live session.

    Parameters
    ----------
    parent : str or path-like, optional
        Where to make it; default ``./live_sessions`` under the working folder. The parent is
        made private too (or checked to be: owned by you, closed to others).

    Returns
    -------
    pathlib.Path
        ``<parent>/session-YYYYmmdd-HHMMSS[-n]``, new and empty.

    Raises
    ------
    IntegrityError
        If ``parent`` exists but belongs to someone else or is open to other users.
    """
    base = private_dir(Path.cwd() / "live_sessions" if parent is None else parent)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = base / (f"session-{stamp}" + (f"-{n}" if n else ""))
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return private_dir(folder)
    raise InputError(f"{str(base)!r} already holds 1000 sessions made this second; clean it up.")


def _wav_header(n_bytes: int, rate: int) -> bytes:
    return b"".join(
        [
            b"RIFF",
            (36 + n_bytes).to_bytes(4, "little"),
            b"WAVEfmt ",
            (16).to_bytes(4, "little"),
            (1).to_bytes(2, "little"),  # PCM
            (1).to_bytes(2, "little"),  # mono
            rate.to_bytes(4, "little"),
            (rate * 2).to_bytes(4, "little"),
            (2).to_bytes(2, "little"),
            (16).to_bytes(2, "little"),
            b"data",
            n_bytes.to_bytes(4, "little"),
        ]
    )


class SessionRecorder:
    """Write a live session's audio and confirmed words to a folder as they come.

    Parameters
    ----------
    folder : str or path-like, optional
        An empty (or new) folder for this session; it is made private (0700). Default: a fresh
        folder from :func:`new_session_folder`.
    sample_rate : int, default=16000
        Rate of the audio given to :meth:`write_audio`.
    flush_s : float, default=1.0
        Fix the WAV header and fsync the audio after this many seconds of new audio.

    Attributes
    ----------
    folder_ : pathlib.Path
    samples_written_ : int
        Audio samples appended so far.
    words_written_ : int
        Confirmed words logged so far.

    Raises
    ------
    InputError
        If ``folder`` already holds a session (``session.json``) or is a file.
    IntegrityError
        If ``folder`` exists but belongs to someone else or is open to other users.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        sample_rate: int = SAMPLE_RATE,
        flush_s: float = 1.0,
    ) -> None:
        rate = check_rate(sample_rate)
        if isinstance(flush_s, bool) or not isinstance(flush_s, int | float):
            raise InputTypeError(f"flush_s must be a number of seconds, got {flush_s!r}.")
        if not (math.isfinite(flush_s) and 0 < flush_s <= 3600):
            raise InputError(f"flush_s must lie in (0, 3600] seconds, got {flush_s!r}.")
        if folder is None:
            path = new_session_folder()
        else:
            if isinstance(folder, bytes) or not isinstance(folder, str | os.PathLike):
                raise InputTypeError(
                    "folder must be a folder path (str or pathlib.Path), got "
                    f"{type(folder).__name__}."
                )
            if Path(folder).exists() and (Path(folder) / META_FILE).exists():
                raise InputError(
                    f"{os.fspath(folder)!r} already holds a session; load it with "
                    "Transcript.load(folder) or record into a new folder."
                )
            path = private_dir(folder)
        self.folder_ = path
        self.sample_rate = rate
        self.flush_s = float(flush_s)
        self.samples_written_ = 0
        self.words_written_ = 0
        self._unflushed = 0
        self._closed = False
        meta = {"format": _FORMAT, "sample_rate": rate, "started": time.time()}
        atomic_write(path / META_FILE, json.dumps(meta))
        self._audio = open(path / AUDIO_FILE, "wb")
        self._audio.write(_wav_header(0, rate))
        self._log = open(path / LOG_FILE, "a", encoding="utf-8")
        self.flush()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise InputError("This recorder is closed; start a new session to record more.")

    def write_audio(self, samples: Any) -> int:
        """Append mono float samples in [-1, 1] (clipped) to ``audio.wav``.

        Parameters
        ----------
        samples : numpy.ndarray of shape (n_samples,)

        Returns
        -------
        int
            Samples written so far.
        """
        self._check_open()
        data = check_array(samples, name="samples", ndim=1, min_samples=0, float32=True)
        pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
        self._audio.write(pcm.tobytes())
        self.samples_written_ += pcm.size
        self._unflushed += pcm.size
        if self._unflushed >= self.flush_s * self.sample_rate:
            self.flush()
        return self.samples_written_

    def write_words(self, words: Iterable[Any]) -> int:
        """Log confirmed words (objects with ``start``, ``end``, ``text``, ``probability``).

        Each word is one JSON line; the file is flushed and fsync'd before this returns.

        Returns
        -------
        int
            Words logged so far.
        """
        self._check_open()
        lines = []
        for w in words:
            prob = float(getattr(w, "probability", float("nan")))
            lines.append(
                json.dumps(
                    {
                        "type": "word",
                        "start": round(float(w.start), 3),
                        "end": round(float(w.end), 3),
                        "text": str(w.text),
                        "probability": None if math.isnan(prob) else round(prob, 4),
                    }
                )
            )
        if lines:
            self._append(lines)
            self.words_written_ += len(lines)
        return self.words_written_

    def write_event(self, event: str, /, **fields: Any) -> None:
        """Log a JSON event line such as ``gap`` (fields: JSON numbers, text, lists)."""
        self._check_open()
        self._append([json.dumps({**fields, "type": str(event)}, allow_nan=False)])

    def _append(self, lines: list[str]) -> None:
        self._log.write("".join(line + "\n" for line in lines))
        self._log.flush()
        os.fsync(self._log.fileno())

    def flush(self) -> None:
        """Fix the WAV header to the samples written and fsync the audio."""
        if self._closed:
            return
        self._audio.flush()
        pos = self._audio.tell()
        self._audio.seek(0)
        self._audio.write(_wav_header(self.samples_written_ * 2, self.sample_rate))
        self._audio.seek(pos)
        self._audio.flush()
        os.fsync(self._audio.fileno())
        self._unflushed = 0

    def close(self, **fields: Any) -> None:
        """Flush everything and log a ``stop`` event (with ``fields``); idempotent."""
        if self._closed:
            return
        self.flush()
        self.write_event(
            "stop", duration=round(self.samples_written_ / self.sample_rate, 3), **fields
        )
        self._audio.close()
        self._log.close()
        self._closed = True


def _folder(folder: Any) -> Path:
    if isinstance(folder, bytes) or not isinstance(folder, str | os.PathLike):
        raise InputTypeError(
            f"Pass a session folder (str or pathlib.Path), got {type(folder).__name__}."
        )
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ResourceNotFoundError(
            f"{str(path)!r} is not a folder; pass the folder a live session recorded into."
        )
    if not (path / LOG_FILE).is_file():
        raise ResourceNotFoundError(
            f"{str(path)!r} holds no {LOG_FILE}; it is not a live session folder."
        )
    return path


def _rate(path: Path) -> int:
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return check_rate(meta["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError):
        return SAMPLE_RATE


def read_session_audio(folder: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """The audio a session recorded, up to the last byte on disk (header sizes ignored).

    Returns
    -------
    samples : numpy.ndarray of dtype float32
    sample_rate : int
    """
    path = _folder(folder)
    wav = path / AUDIO_FILE
    if not wav.is_file():
        return np.zeros(0, dtype=np.float32), _rate(path)
    data = wav.read_bytes()[_HEADER:]
    pcm = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return pcm.astype(np.float32) / 32768.0, _rate(path)


def _segment(i: int, words: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": i,
        "start": words[0]["start"],
        "end": words[-1]["end"],
        "text": "".join(w["text"] for w in words).strip(),
        "avg_logprob": None,
        "no_speech_prob": None,
        "words": words,
    }


def read_session(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a session folder as a :meth:`Transcript.to_dict` dictionary.

    Confirmed words are grouped into one segment per sentence; a torn last line is skipped.
    The duration is the audio on disk (or the last word's end when that is later).

    Parameters
    ----------
    folder : str or path-like
        A folder a :class:`SessionRecorder` wrote (also after the kernel died).

    Returns
    -------
    dict
        With ``segments``, ``duration``, ``language``, ``model`` and ``settings`` (which holds
        ``gaps``: the silence filled in for lost chunks, and ``complete``: whether it was
        stopped cleanly).

    Raises
    ------
    InputTypeError
        If ``folder`` is not a path.
    ResourceNotFoundError
        If it is not a session folder.
    InputError
        If a line other than the last is not valid JSON (the log was edited or damaged).
    """
    path = _folder(folder)
    raw = (path / LOG_FILE).read_bytes().decode("utf-8", errors="replace").split("\n")
    words: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    complete = False
    for n, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item["type"]
            if kind == "word":
                words.append(
                    {
                        "start": float(item["start"]),
                        "end": float(item["end"]),
                        "text": str(item["text"]),
                        "probability": item.get("probability"),
                    }
                )
            elif kind == "gap":
                gaps.append(item)
            elif kind == "stop":
                complete = True
        except (ValueError, KeyError, TypeError):
            if n >= len(raw) - 1:  # the torn last line of a killed process
                continue
            raise InputError(
                f"Line {n} of {str(path / LOG_FILE)!r} is not a session record; the log was "
                "edited or damaged. Remove that line to read the rest."
            ) from None
    groups: list[list[dict[str, Any]]] = [[]]
    for w in words:
        groups[-1].append(w)
        if _SENTENCE_END.search(w["text"].strip()):
            groups.append([])
    segments = [_segment(i, g) for i, g in enumerate(x for x in groups if x)]
    wav = path / AUDIO_FILE
    audio_bytes = max(0, wav.stat().st_size - _HEADER) if wav.is_file() else 0
    duration = max(audio_bytes / 2 / _rate(path), words[-1]["end"] if words else 0.0)
    return {
        "segments": segments,
        "duration": duration,
        "language": "en",
        "model": "",
        "settings": {"live": True, "folder": str(path), "gaps": gaps, "complete": complete},
    }
