"""Bad input to every public name of the transcription tool: a WorkbenchError that says what to fix.

Each case escaped before the boundary checks: a raw OSError/TypeError/IndexError from the
standard library, numpy, scipy or faster-whisper, a hang (a quadratic Python loop, a chunk size
that makes millions of chunks), NaN in a result, or a wrong value silently accepted. Most cases
need no model: the checks run before it is loaded.
"""

from __future__ import annotations

import json
import random
import wave

import matplotlib
import numpy as np
import pytest

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ResourceNotFoundError,
    UnknownNameError,
)
from workbench.transcribe import (
    SAMPLE_RATE,
    Segment,
    StreamingSession,
    Transcriber,
    Transcript,
    Word,
    iter_chunks,
    key_phrases,
    load_audio,
    normalize_text,
    resample,
    summarize,
    synthesize,
    word_error_rate,
    write_wav,
)

matplotlib.use("Agg")

TONE = (0.1 * np.sin(np.arange(SAMPLE_RATE) / 10)).astype(np.float32)


class _Fake(Transcriber):
    """A Transcriber that needs no model: each pass returns no words and records its options."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[dict] = []

    def load(self) -> _Fake:
        return self

    def decode(self, samples, *, show_progress, offset, **options):
        self.options.append(options)
        return iter(())


def _transcript() -> Transcript:
    words = (Word(0.0, 0.5, " Hello", 0.9), Word(0.5, 1.0, " there.", 0.8))
    return Transcript([Segment(0, 0.0, 1.0, "Hello there.", -0.2, 0.01, words)], 1.0)


# ----------------------------------------------------------------------------------- audio
def test_load_audio_checks_the_rate_of_files_too():
    from workbench.transcribe import demo_clip

    with pytest.raises(InputTypeError, match="sample_rate must be an integer"):
        load_audio(demo_clip(), sample_rate="x")


def test_load_audio_refuses_float64_beyond_float32():
    with pytest.raises(InputError, match="float32 range"):
        load_audio(np.full(100, 1e308))


@pytest.mark.parametrize(
    ("samples", "exc", "text"),
    [
        (None, InputTypeError, "samples is None"),
        ("x", InputTypeError, "samples must be numeric"),
        (0.5, InputError, "1-dimensional"),
        (np.zeros((100, 2)), InputError, "1-dimensional"),
        (np.full(100, np.nan), InputError, "NaN"),
        (np.full(100, 1e308), InputError, "overflow float32"),
        (np.zeros(100, complex), InputTypeError, "float"),
        (np.array([], dtype=np.float32), InputError, "0 rows"),
    ],
)
def test_resample_refuses(samples, exc, text):
    with pytest.raises(exc, match=text):
        resample(samples, 8000, 16000)


@pytest.mark.parametrize(
    ("where", "exc", "text"),
    [
        (lambda d: None, InputTypeError, "path must be a file path"),
        (lambda d: d, InputError, "is a folder"),
        (lambda d: d / "missing" / "a.wav", ResourceNotFoundError, "does not exist"),
        (lambda d: d / "a.txt", InputError, "expected"),
    ],
)
def test_write_wav_refuses_bad_paths(tmp_path, where, exc, text):
    with pytest.raises(exc, match=text):
        write_wav(where(tmp_path), TONE)


def test_write_wav_failure_leaves_the_old_file(tmp_path, monkeypatch):
    path = write_wav(tmp_path / "a.wav", TONE)
    before = path.read_bytes()

    def broken(self, data):
        raise OSError("disk full")

    monkeypatch.setattr(wave.Wave_write, "writeframes", broken)
    with pytest.raises(OSError, match="disk full"):
        write_wav(path, TONE[:100])
    assert path.read_bytes() == before


# ------------------------------------------------------------------- words and transcripts
@pytest.mark.parametrize(
    ("make", "exc", "text"),
    [
        (lambda: Word("x", 1.0, "a"), InputTypeError, "Word.start must be a number"),
        (lambda: Word(float("nan"), 1.0, "a"), InputError, "Word.start must be a time"),
        (lambda: Word(0.0, 1.0, None), InputTypeError, "Word.text must be a str"),
        (lambda: Segment(0, 1e308, 2.0, "a", 0.0, 0.0), InputError, "Segment.start"),
        (lambda: Segment(0, 0.0, 1.0, "a", 0.0, 0.0, 5), InputTypeError, "Segment.words"),
        (lambda: Segment(0.5, 0.0, 1.0, "a", 0.0, 0.0), InputTypeError, "Segment.id"),
        (lambda: Transcript(None, 1.0), InputTypeError, "list of Segment"),
        (lambda: Transcript([], -1.0), InputError, "Transcript.duration"),
        (lambda: Transcript([], 1.0, settings="x"), InputTypeError, "settings must be a dict"),
    ],
)
def test_transcript_parts_refuse(make, exc, text):
    with pytest.raises(exc, match=text):
        make()


@pytest.mark.parametrize(
    ("where", "fmt", "exc", "text"),
    [
        (lambda d: d, None, InputError, "is a folder"),
        (lambda d: d / "missing" / "t.srt", None, ResourceNotFoundError, "does not exist"),
        (lambda d: d / "t.srt", 5, InputTypeError, "format must be one of"),
    ],
)
def test_export_refuses(tmp_path, where, fmt, exc, text):
    with pytest.raises(exc, match=text):
        _transcript().export(where(tmp_path), fmt)


def test_from_json_refuses(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputTypeError, match="JSON text or a file path"):
        Transcript.from_json(None)
    with pytest.raises(InputError, match="not UTF-8"):
        Transcript.from_json(bad)
    nan = json.dumps({"segments": [], "duration": float("nan")})
    with pytest.raises(InputError, match=r"Transcript\.duration"):
        Transcript.from_json(nan)


def test_transcript_plot_refuses_a_non_axes():
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        _transcript().plot(ax="x")


# ------------------------------------------------------------------------ text and metrics
def test_word_error_rate_refuses_tables_too_large():
    with pytest.raises(InputError, match="score the text in parts"):
        word_error_rate("a " * 20_000, "b " * 10_000)


def test_word_error_rate_matches_the_textbook_recursion():
    def textbook(ref: str, hyp: str) -> float:
        r, h = normalize_text(ref), normalize_text(hyp)
        prev = list(range(len(h) + 1))
        for i, rw in enumerate(r, start=1):
            cur = [i]
            for j, hw in enumerate(h, start=1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw)))
            prev = cur
        return prev[-1] / len(r)

    rng = random.Random(0)
    for _ in range(300):
        ref = " ".join(rng.choice("abcd") for _ in range(rng.randint(1, 9)))
        hyp = " ".join(rng.choice("abcd") for _ in range(rng.randint(0, 9)))
        assert word_error_rate(ref, hyp) == textbook(ref, hyp)


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: key_phrases([1, 2]), InputTypeError, "only strings"),
        (lambda: key_phrases(None), InputTypeError, "str or a list of str"),
        (lambda: key_phrases(b"bytes"), InputTypeError, "decode bytes"),
        (lambda: key_phrases(["a b"], 10**20), InputError, "n must lie in"),
        (lambda: key_phrases(["a b"], 1001), InputError, "n must lie in"),
        (lambda: summarize("A b.", damping=2.5), InputError, r"damping must lie in \(0, 1\)"),
        (lambda: summarize("A b.", n_sentences=1001), InputError, "n_sentences must lie in"),
        (lambda: summarize("A b.", n_key_phrases=10**20), InputError, "n_key_phrases"),
        (lambda: summarize("A b. " * 5001), InputError, "at most 5000"),
    ],
)
def test_summary_functions_refuse(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


# ------------------------------------------------------------------------------ streaming
@pytest.mark.parametrize(
    ("args", "exc", "text"),
    [
        (("abcdef",), InputTypeError, "numpy array of samples"),
        ((None,), InputTypeError, "numpy array of samples"),
        ((np.zeros((10, 2)),), InputError, "1-D"),
        ((np.full(10, np.nan),), InputError, "NaN"),
        ((TONE, 1e308), InputError, "chunk_s must lie in"),
        ((TONE, 1e-9), InputError, "shorter than 0.01"),
        ((TONE, 1.0, None), InputTypeError, "sample_rate must be an integer"),
    ],
)
def test_iter_chunks_refuses_when_called(args, exc, text):
    with pytest.raises(exc, match=text):
        iter_chunks(*args)  # not consumed: the check runs at the call


@pytest.mark.parametrize("chunks", [None, "abc", TONE, 5])
def test_stream_refuses_what_is_not_chunks_when_called(chunks):
    with pytest.raises(InputTypeError, match="chunks"):
        _Fake().stream(chunks)


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"sample_rate": "x"}, InputTypeError, "sample_rate must be an integer"),
        ({"summary_sentences": 10**20}, InputError, "summary_sentences must lie in"),
        ({"prompt_chars": 10**7}, InputError, "prompt_chars must lie in"),
        ({"window_margin_s": 1e308}, InputError, "window_margin_s must lie in"),
        ({"min_chunk_s": 10**20}, InputError, "min_chunk_s must lie in"),
    ],
)
def test_streaming_session_refuses(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        StreamingSession(_Fake(), **kwargs)


def test_push_refuses_a_chunk_longer_than_a_window():
    session = StreamingSession(_Fake())
    with pytest.raises(InputError, match="more than one Whisper window"):
        session.push(np.zeros(60 * SAMPLE_RATE, np.float32))


def test_long_buffers_never_ask_whisper_for_more_tokens_than_it_allows():
    # Decoding slower than speech lets chunks pile up; faster-whisper raised a raw ValueError
    # once prompt + max_new_tokens passed 448.
    fake = _Fake()
    session = StreamingSession(fake, min_chunk_s=1.0)
    session.push(np.zeros(25 * SAMPLE_RATE, np.float32))
    assert fake.options[-1]["max_new_tokens"] <= 220


# ---------------------------------------------------------------------------- transcriber
@pytest.mark.parametrize(
    ("params", "exc", "text"),
    [
        ({"cpu_threads": 10**20}, InputError, "cpu_threads must lie in"),
        ({"beam_size": 33}, InputError, "beam_size must lie in"),
        ({"vad_min_silence_ms": 10**7}, InputError, "vad_min_silence_ms must lie in"),
        ({"temperature": 1.5}, InputError, "temperature must lie in"),
        ({"temperature": (0.0,) * 21}, InputError, "at most 20"),
        ({"vad_filter": "x"}, InputTypeError, "vad_filter must be True or False"),
        ({"word_timestamps": None}, InputTypeError, "word_timestamps must be True or False"),
    ],
)
def test_transcriber_parameters_refused_before_loading(params, exc, text):
    with pytest.raises(exc, match=text):
        Transcriber(**params).load()


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda t: list(t.iter_segments(TONE, offset="x")), InputTypeError, "offset"),
        (lambda t: list(t.iter_segments(TONE, offset=1e308)), InputError, "offset must lie"),
        (lambda t: list(t.iter_segments(TONE, bogus=1)), UnknownNameError, "decode option"),
        (lambda t: t.transcribe(TONE, show_progress="x"), InputTypeError, "show_progress"),
        (lambda t: t.transcribe_many(None), InputTypeError, "list of recordings"),
        (lambda t: t.transcribe_many("abc"), InputTypeError, "list of recordings"),
        (lambda t: t.transcribe_many([TONE], show_progress=2), InputTypeError, "show_progress"),
    ],
)
def test_transcriber_calls_refuse_before_decoding(call, exc, text):
    with pytest.raises(exc, match=text):
        call(_Fake())


def test_decode_option_values_faster_whisper_refuses(transcriber):
    with pytest.raises(InputError, match="refused the decode options"):
        list(transcriber.iter_segments(TONE, beam_size="x", show_progress=False))


# --------------------------------------------------------------------------------- speech
@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"voice": None}, InputTypeError, "voice must be a string"),
        ({"voice": "--help"}, InputError, "not an espeak-ng voice name"),
        ({"words_per_minute": 10**20}, InputError, "words_per_minute must lie in"),
        ({"gap_ms": 10**7}, InputError, "gap_ms must lie in"),
        ({"path": "speech.txt"}, InputError, "expected"),
        ({"text": "a " * 10_001}, InputError, "at most 20,000"),
    ],
)
def test_synthesize_refuses(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        synthesize(**{"text": "hi", **kwargs})


def test_synthesize_refuses_a_folder_before_speaking(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        synthesize("hi", tmp_path)
