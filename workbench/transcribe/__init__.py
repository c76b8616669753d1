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
    Extractive, offline summary (TextRank or TF-IDF centroid) with timestamps and key phrases,
    decisions and action items (:func:`find_action_items`), and a ``summarizer=`` hook for a
    local language model (a callable or a :class:`ChatEndpoint` on localhost).
"""

from __future__ import annotations

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
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
        "StreamStats": "stream_results",
        "StreamUpdate": "stream_results",
        "StreamingSession": "streaming",
        "iter_chunks": "chunks",
        "KeyPhrase": "summary",
        "Sentence": "summary",
        "Summary": "summary",
        "key_phrases": "summary",
        "split_sentences": "summary",
        "summarize": "summary",
        "ActionItem": "actions",
        "find_action_items": "actions",
        "ChatEndpoint": "summarizers",
        "SummarizerError": "summarizers",
        "DevClip": "devset",
        "dev_set": "devset",
        "normalize_text": "metrics",
        "word_error_rate": "metrics",
        "AudioChunk": "mic_chunks",
        "ChunkError": "mic_chunks",
        "parse_chunk": "mic_chunks",
        "MicrophoneWidget": "microphone",
        "LiveSession": "live",
        "SessionRecorder": "recorder",
        "read_session_audio": "recorder",
        "demo_clip": "speech",
        "demo_text": "speech",
        "synthesize": "speech",
    },
)
