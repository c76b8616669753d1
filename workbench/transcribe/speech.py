"""Synthetic speech with espeak-ng and the bundled demo clip.

espeak-ng (a Debian package, not a Python one) turns text into speech, so test and benchmark audio
comes with its exact source text and word error rates can be measured. Tests use WAV files made
once with :func:`synthesize` and committed; ``benchmarks/transcribe_make_fixtures.py`` remakes them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from workbench.core.errors import DependencyError, InputError, InputTypeError
from workbench.core.params import check_text
from workbench.core.paths import check_write_path
from workbench.core.validation import check_positive
from workbench.transcribe.audio import SAMPLE_RATE, resample, write_wav

__all__ = ["DATA_DIR", "demo_clip", "demo_text", "synthesize"]

DATA_DIR = Path(__file__).with_name("data")
"""Folder of the tool's package data (the demo clip and its text)."""

MAX_CHARS = 20_000
"""Longest text :func:`synthesize` speaks at once (about 25 minutes of speech)."""
_VOICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-]*")


def demo_clip() -> Path:
    """Path of the bundled demo recording (16 kHz mono WAV, espeak-ng speech, about 25 s).

    Returns
    -------
    pathlib.Path
    """
    return DATA_DIR / "demo.wav"


def demo_text() -> str:
    """The text spoken in :func:`demo_clip` (the reference for word error rate)."""
    return (DATA_DIR / "demo.txt").read_text(encoding="utf-8").strip()


def synthesize(
    text: str,
    path: str | os.PathLike[str] | None = None,
    *,
    voice: str = "en-us",
    words_per_minute: int = 150,
    gap_ms: int = 10,
) -> np.ndarray:
    """Speak ``text`` with espeak-ng and return 16 kHz mono float32 samples.

    Parameters
    ----------
    text : str
        What to say (at most 20,000 characters).
    path : str or path-like, optional
        Also write the audio there as 16-bit WAV (a ``.wav`` file in an existing folder).
    voice : str, default="en-us"
        espeak-ng voice (``espeak-ng --voices=en`` lists them).
    words_per_minute : int, default=150
        Speaking rate (at most 1,000).
    gap_ms : int, default=10
        Extra pause between words, in units of 10 ms (espeak-ng ``-g``; at most 1,000).

    Returns
    -------
    numpy.ndarray of shape (n_samples,)

    Raises
    ------
    DependencyError
        If the ``espeak-ng`` program is not installed.
    InputError
        If ``text`` is empty or too long, a number is out of range, ``voice`` is not a voice
        name, ``path`` cannot be written, or espeak-ng fails.
    InputTypeError
        If ``text`` or ``voice`` is not a str, or a number has the wrong type.
    """
    if not isinstance(text, str):
        raise InputTypeError(f"text must be a str, got {type(text).__name__}.")
    if not text.strip():
        raise InputError("text is empty; give something to say.")
    if len(text) > MAX_CHARS:
        raise InputError(
            f"text has {len(text):,} characters; synthesize at most {MAX_CHARS:,} at once "
            "(split it into paragraphs)."
        )
    check_text(voice, name="voice")
    if not _VOICE.fullmatch(voice):
        raise InputError(
            f"voice {voice!r} is not an espeak-ng voice name such as 'en-us' or 'en+f3'; "
            "`espeak-ng --voices=en` lists them."
        )
    check_positive(words_per_minute, name="words_per_minute", integer=True, high=1000)
    check_positive(gap_ms, name="gap_ms", integer=True, strict=False, high=1000)
    if path is not None:
        check_write_path(path, suffixes=[".wav"])
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise DependencyError(
            "espeak-ng is not installed; install the Debian package: apt-get install espeak-ng."
        )
    try:
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(words_per_minute), "-g", str(gap_ms), "--stdout"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            "espeak-ng took more than 120 s; synthesize a shorter text at a time."
        ) from None
    if proc.returncode != 0 or not proc.stdout:
        raise InputError(
            f"espeak-ng failed ({proc.stderr.decode(errors='replace').strip()}); check the voice "
            f"name {voice!r} with `espeak-ng --voices=en`."
        )
    samples, rate = _read_wav_bytes(proc.stdout)
    audio = resample(samples, rate, SAMPLE_RATE)
    if path is not None:
        write_wav(path, audio)
    return audio


def _read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    # espeak-ng streams its WAV with placeholder chunk sizes, so the wave module cannot be
    # trusted with the length: read the fmt fields and take everything after the data tag.
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE" or b"data" not in data[:200]:
        raise InputError("espeak-ng did not produce WAV audio.")
    rate = int.from_bytes(data[24:28], "little")
    bits = int.from_bytes(data[34:36], "little")
    if bits != 16:
        raise InputError(f"espeak-ng produced {bits}-bit audio; expected 16-bit.")
    start = data.index(b"data") + 8
    body = data[start : start + (len(data) - start) // 2 * 2]
    return np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0, rate
