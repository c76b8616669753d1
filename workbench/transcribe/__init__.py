"""Local transcription: transcribe and summarize speech offline on the CPU with faster-whisper.

Import-light on purpose (the launcher imports every tool's spec): the public names below are
loaded on first use, so ``import workbench.transcribe`` pulls in neither faster-whisper nor PyAV.

Main entry points
-----------------
:class:`Transcriber`
    ``Transcriber().transcribe(path_or_array)`` → :class:`Transcript` (segments, words, SRT/VTT).
:meth:`Transcriber.stream` and :class:`StreamingSession`
    Low-delay streaming with a local-agreement policy: confirmed and tentative text.
:func:`summarize`
    Extractive, offline summary (TextRank or TF-IDF centroid) with timestamps and key phrases.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SAMPLE_RATE": "audio",
    "load_audio": "audio",
    "resample": "audio",
    "write_wav": "audio",
    "COMPUTE_TYPES": "model",
    "default_model_path": "model",
    "resolve_model": "model",
    "Segment": "transcript",
    "Transcript": "transcript",
    "Word": "transcript",
    "Transcriber": "transcriber",
    "StreamStats": "streaming",
    "StreamUpdate": "streaming",
    "StreamingSession": "streaming",
    "iter_chunks": "streaming",
    "KeyPhrase": "summary",
    "Sentence": "summary",
    "Summary": "summary",
    "key_phrases": "summary",
    "split_sentences": "summary",
    "summarize": "summary",
    "normalize_text": "metrics",
    "word_error_rate": "metrics",
    "demo_clip": "speech",
    "demo_text": "speech",
    "synthesize": "speech",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
