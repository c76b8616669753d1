"""Fuzz cases of ``workbench.transcribe``: one valid call per public name."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from tests.fuzz.harness import Case
from workbench import transcribe as tr

CONSTANTS = {"transcribe.COMPUTE_TYPES", "transcribe.SAMPLE_RATE"}


@functools.cache
def _transcriber():
    return tr.Transcriber().load()


@functools.cache
def _clip() -> np.ndarray:
    # The first 4 s of the demo clip: short enough to decode in about a second.
    return tr.load_audio(tr.demo_clip())[: 4 * tr.SAMPLE_RATE]


@functools.cache
def _transcript():
    return _transcriber().transcribe(_clip(), show_progress=False)


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="wb-fuzz-"))


def _stream(**kw):
    return [u.confirmed for u in _transcriber().stream(**kw)]


def _session_push(chunk):
    s = tr.StreamingSession(_transcriber())
    s.push(chunk)
    return s.finish().confirmed


def _live_feed(**kw):
    live = tr.LiveSession(_transcriber(), folder=_tmp() / "live")
    try:
        live.feed(**kw)
    finally:
        live.stop()
    return live.stats()["audio_s"], live.confirmed_text


def _live_new(**kw):
    live = tr.LiveSession(_transcriber(), folder=_tmp() / "live", **kw)
    live.stop()
    return live.stats()


def _record(**kw):
    rec = tr.SessionRecorder(_tmp() / "rec", **kw)
    rec.write_audio(_clip()[:1600])
    rec.close()
    return rec.samples_written_


@functools.cache
def _session_folder() -> str:
    live = tr.LiveSession(_transcriber(), folder=_tmp() / "live")
    for seq, i in enumerate(range(0, 4 * tr.SAMPLE_RATE, 8000)):
        live.feed(_clip()[i : i + 8000], seq=seq)
    live.stop()
    return str(live.folder_)


def _chunk_message():
    content = {"type": "chunk", "seq": 0, "rate": 16000, "t": 1.7e12, "level": 0.1}
    return {"content": content, "buffers": [_clip()[:8000].astype("<f4").tobytes()]}


CASES = [
    Case("transcribe.Transcriber", lambda **kw: tr.Transcriber(**kw).load().get_params(),
         lambda: {"model": "default", "compute_type": "int8", "cpu_threads": 1, "beam_size": 1,
                  "language": "en"}, ("transcribe.Transcriber",)),
    Case("transcribe.Transcriber.transcribe",
         lambda **kw: _transcriber().transcribe(**kw).to_dict(),
         lambda: {"audio": _clip(), "sample_rate": None, "show_progress": False},
         ("transcribe.Transcriber", "transcribe.Transcript", "transcribe.Segment",
          "transcribe.Word"), max_examples=20, nan_ok=("probability",)),
    Case("transcribe.Transcriber.stream", _stream,
         lambda: {"chunks": list(tr.iter_chunks(_clip(), 1.0)), "min_chunk_s": 1.0,
                  "encoder_window": "short"},
         ("transcribe.StreamUpdate", "transcribe.StreamStats"), max_examples=15),
    Case("transcribe.StreamingSession", lambda **kw: tr.StreamingSession(**kw).stats().to_dict(),
         lambda: {"transcriber": _transcriber(), "min_chunk_s": 1.0, "buffer_trim_s": 10.0,
                  "summary_sentences": 3}, ("transcribe.StreamingSession",),
         nan_ok=("_s", "share")),
    Case("transcribe.StreamingSession.push", _session_push, lambda: {"chunk": _clip()[:16000]},
         ("transcribe.StreamingSession",), max_examples=15),
    Case("transcribe.Transcript.export", lambda **kw: str(_transcript().export(**kw)),
         lambda: {"path": str(_tmp() / "t.srt"), "format": None}, ("transcribe.Transcript",)),
    Case("transcribe.Transcript.from_dict", lambda data: tr.Transcript.from_dict(data).to_dict(),
         lambda: {"data": _transcript().to_dict()}, ("transcribe.Transcript",),
         nan_ok=("probability",)),
    Case("transcribe.Transcript.from_json", lambda **kw: tr.Transcript.from_json(**kw).to_dict(),
         lambda: {"text_or_path": _transcript().to_json()}, ("transcribe.Transcript",),
         nan_ok=("probability",)),
    Case("transcribe.load_audio", tr.load_audio,
         lambda: {"audio": str(tr.demo_clip()), "sample_rate": None}, ("transcribe.load_audio",)),
    Case("transcribe.iter_chunks", tr.iter_chunks,
         lambda: {"audio": _clip(), "chunk_s": 1.0, "sample_rate": 16000},
         ("transcribe.iter_chunks",)),
    Case("transcribe.resample", tr.resample,
         lambda: {"samples": _clip()[:8000], "orig_rate": 16000, "target_rate": 8000},
         ("transcribe.resample",)),
    Case("transcribe.write_wav", lambda **kw: str(tr.write_wav(**kw)),
         lambda: {"path": str(_tmp() / "a.wav"), "samples": _clip()[:1600],
                  "sample_rate": 16000}, ("transcribe.write_wav",)),
    Case("transcribe.synthesize", tr.synthesize,
         lambda: {"text": "hello there", "path": None, "voice": "en-us",
                  "words_per_minute": 150, "gap_ms": 10}, ("transcribe.synthesize",),
         max_examples=15),
    Case("transcribe.key_phrases", tr.key_phrases,
         lambda: {"texts": ["the weather is fine today", "rain later"], "n": 3},
         ("transcribe.key_phrases", "transcribe.KeyPhrase")),
    Case("transcribe.summarize", lambda **kw: tr.summarize(**kw).to_dict(),
         lambda: {"source": tr.demo_text(), "n_sentences": 2, "n_key_phrases": 3,
                  "method": "textrank", "damping": 0.85},
         ("transcribe.summarize", "transcribe.Summary", "transcribe.demo_text"),
         nan_ok=("['start']", "['end']")),
    # Sentences of plain text have no timestamps: start and end are NaN by design.
    Case("transcribe.split_sentences", tr.split_sentences, lambda: {"source": tr.demo_text()},
         ("transcribe.split_sentences", "transcribe.Sentence"), nan_ok=(".start", ".end")),
    Case("transcribe.normalize_text", tr.normalize_text, lambda: {"text": "Hello, World!"},
         ("transcribe.normalize_text",)),
    Case("transcribe.word_error_rate", tr.word_error_rate,
         lambda: {"reference": "a b c", "hypothesis": "a b d"}, ("transcribe.word_error_rate",)),
    Case("transcribe.resolve_model", tr.resolve_model, lambda: {"model": "default"},
         ("transcribe.resolve_model", "transcribe.default_model_path", "transcribe.demo_clip")),
    # Issue 17 (accuracy, summary): action items, the summarizer hook, the dev set.
    Case("transcribe.find_action_items",
         lambda **kw: [a.to_dict() for a in tr.find_action_items(**kw)],
         lambda: {"source": "We decided to go. Anna will send it by Friday."},
         ("transcribe.find_action_items", "transcribe.ActionItem")),
    Case("transcribe.ChatEndpoint", lambda **kw: tr.ChatEndpoint(**kw).url,
         lambda: {"url": "http://127.0.0.1:8080", "model": "local", "max_tokens": 400,
                  "timeout_s": 60.0}, ("transcribe.ChatEndpoint", "transcribe.SummarizerError")),
    Case("transcribe.dev_set", lambda **kw: [round(c.duration, 1) for c in tr.dev_set(**kw)],
         lambda: {"random_state": 0, "names": ["hiring"]}, ("transcribe.dev_set",
                                                            "transcribe.DevClip"),
         max_examples=5),
    Case("transcribe.LiveSession", _live_new,
         lambda: {"min_chunk_s": 1.0, "summary_every_s": 20.0, "summary_sentences": 3,
                  "summary_window_s": 600.0, "reorder_chunks": 4},
         ("transcribe.LiveSession",), max_examples=15,
         nan_ok=("delay_median_s']", "delay_p90_s']")),
    Case("transcribe.LiveSession.feed", _live_feed,
         lambda: {"samples": _clip()[:8000], "seq": 0, "sample_rate": 16000},
         ("transcribe.LiveSession",), max_examples=15),
    Case("transcribe.MicrophoneWidget", lambda **kw: tr.MicrophoneWidget(**kw).chunk_s,
         lambda: {"chunk_s": 0.5, "on_chunk": None}, ("transcribe.MicrophoneWidget",)),
    Case("transcribe.parse_chunk", lambda **kw: tr.parse_chunk(**kw).samples, _chunk_message,
         ("transcribe.parse_chunk", "transcribe.AudioChunk", "transcribe.ChunkError")),
    # The folder is not corrupted: a plain word would make a folder in the working directory.
    Case("transcribe.SessionRecorder", _record, lambda: {"sample_rate": 16000, "flush_s": 1.0},
         ("transcribe.SessionRecorder",)),
    Case("transcribe.read_session_audio", lambda **kw: tr.read_session_audio(**kw)[0],
         lambda: {"folder": _session_folder()}, ("transcribe.read_session_audio",)),
    Case("transcribe.Transcript.load", lambda **kw: tr.Transcript.load(**kw).to_dict(),
         lambda: {"folder": _session_folder()}, ("transcribe.Transcript",),
         nan_ok=("probability", "avg_logprob", "no_speech_prob")),
]
