"""LiveSession: chunks in (any rate, any order), confirmed text and a session folder out.

Most tests use :class:`tests.transcribe.live_stub.StubDecoder` (one numbered word per loud half
second) so that the expected words and times are known exactly; one test runs the real model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.transcribe.live_stub import StubDecoder, tone
from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.transcribe import (
    SAMPLE_RATE,
    AudioChunk,
    LiveSession,
    Transcript,
    load_audio,
    read_session_audio,
    word_error_rate,
)

ROOT = Path(__file__).resolve().parents[2]
HALF = SAMPLE_RATE // 2


def _words(n_half_seconds: int) -> str:
    return " ".join(f"w{k}" + ("." if k % 4 == 3 else "") for k in range(n_half_seconds))


def _session(tmp_path, **kw) -> tuple[LiveSession, StubDecoder]:
    stub = StubDecoder()
    return LiveSession(stub, folder=tmp_path / "s", **kw), stub


def _chunks(audio: np.ndarray, size: int = HALF) -> list[np.ndarray]:
    return [audio[i : i + size] for i in range(0, audio.size, size)]


def test_in_order_chunks_are_confirmed_recorded_and_exported(tmp_path):
    live, _ = _session(tmp_path)
    for seq, chunk in enumerate(_chunks(tone(6))):
        live.feed(chunk, seq=seq)
    transcript = live.stop()
    assert transcript.text == _words(12)
    assert live.gaps_ == []
    assert sorted(p.name for p in live.folder_.iterdir()) == [
        "audio.wav",
        "session.json",
        "transcript.json",
        "transcript.jsonl",
        "transcript.srt",
        "transcript.txt",
        "transcript.vtt",
    ]
    assert set(live.files_) == {"srt", "vtt", "json", "txt"}
    assert "w11." in (live.folder_ / "transcript.srt").read_text()
    assert (live.folder_ / "transcript.vtt").read_text().startswith("WEBVTT")
    assert Transcript.from_json(live.folder_ / "transcript.json").text == transcript.text
    restored = Transcript.load(live.folder_)
    assert restored.text == transcript.text
    assert [w.start for w in restored.words] == [w.start for w in transcript.words]
    assert restored.settings["complete"] is True
    audio, rate = read_session_audio(live.folder_)
    assert rate == SAMPLE_RATE and audio.size == 6 * SAMPLE_RATE
    assert np.allclose(audio, tone(6), atol=1e-4)
    assert (os.stat(live.folder_).st_mode & 0o777) == 0o700
    assert not live.running


def test_another_sample_rate_is_resampled(tmp_path):
    live, _ = _session(tmp_path)
    for seq, chunk in enumerate(_chunks(tone(4, rate=44_100), 22_050)):
        live.feed(chunk, seq=seq, sample_rate=44_100)
    transcript = live.stop()
    assert live.stats()["audio_s"] == pytest.approx(4.0, abs=1e-3)
    assert transcript.text == _words(8)
    assert read_session_audio(live.folder_)[0].size == 4 * SAMPLE_RATE


def test_a_missing_chunk_becomes_silence_and_is_reported(tmp_path):
    live, _ = _session(tmp_path, reorder_chunks=2)
    chunks = _chunks(tone(6))
    for seq, chunk in enumerate(chunks):
        if seq != 3:
            live.feed(chunk, seq=seq)
    transcript = live.stop()
    assert live.gaps_ == [{"kind": "lost", "at": 1.5, "seconds": 0.5, "seq": [3, 3]}]
    # The lost half second is silent: its word is missing, the later ones keep their times.
    expected = _words(12).replace(" w3.", "")
    assert transcript.text == expected.replace("w2", "w2", 1)
    assert transcript.words[3].start == pytest.approx(2.0)
    audio, _ = read_session_audio(live.folder_)
    assert audio.size == 6 * SAMPLE_RATE
    assert np.abs(audio[3 * HALF : 4 * HALF]).max() == 0
    restored = Transcript.load(live.folder_)
    assert restored.settings["gaps"] == [
        {"type": "gap", "kind": "lost", "at": 1.5, "seconds": 0.5, "seq": [3, 3]}
    ]


def test_chunks_out_of_order_within_the_window_are_put_back_in_order(tmp_path):
    live, _ = _session(tmp_path, reorder_chunks=3)
    chunks = _chunks(tone(4))
    for seq in [1, 0, 3, 2, 5, 4, 7, 6]:
        live.feed(chunks[seq], seq=seq)
    transcript = live.stop()
    assert live.gaps_ == []
    assert transcript.text == _words(8)
    assert np.allclose(read_session_audio(live.folder_)[0], tone(4), atol=1e-4)


def test_a_late_chunk_after_its_gap_was_filled_is_dropped_and_reported(tmp_path):
    live, _ = _session(tmp_path, reorder_chunks=1)
    chunks = _chunks(tone(4))
    for seq in [0, 2, 3, 1, 4, 5, 6, 7]:
        live.feed(chunks[seq], seq=seq)
    live.stop()
    assert [g["kind"] for g in live.gaps_] == ["lost", "late"]
    assert live.gaps_[1]["seq"] == 1
    assert read_session_audio(live.folder_)[0].size == 4 * SAMPLE_RATE
    assert live.stats()["gaps"] == 2


def test_missing_chunks_before_held_ones_are_filled_at_stop(tmp_path):
    live, _ = _session(tmp_path, reorder_chunks=4)
    chunks = _chunks(tone(2))
    live.feed(chunks[0], seq=0)
    live.feed(chunks[3], seq=3)
    assert live.held_chunks == 1
    live.stop()
    assert live.gaps_ == [{"kind": "lost", "at": 0.5, "seconds": 1.0, "seq": [1, 2]}]
    assert read_session_audio(live.folder_)[0].size == 4 * HALF


def test_feed_chunk_takes_the_widgets_chunks(tmp_path):
    live, _ = _session(tmp_path)
    for seq, chunk in enumerate(_chunks(tone(2))):
        live.feed_chunk(AudioChunk(seq, chunk, SAMPLE_RATE, 0.0, 0.2))
    assert live.stop().text == _words(4)
    assert live.level_ == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"samples": [0.1, 0.2]}, InputTypeError),
        ({"samples": np.array([0.1, np.nan], dtype=np.float32)}, InputError),
        ({"samples": np.zeros(11 * SAMPLE_RATE, dtype=np.float32)}, InputError),
        ({"samples": np.zeros(10, dtype=np.float32), "seq": -1}, InputError),
        ({"samples": np.zeros(10, dtype=np.float32), "seq": 2**40}, InputError),
        ({"samples": np.zeros(10, dtype=np.float32), "seq": "3"}, InputTypeError),
        ({"samples": np.zeros(10, dtype=np.float32), "seq": 1.5}, InputTypeError),
        ({"samples": np.zeros(10, dtype=np.float32), "sample_rate": 10}, InputError),
        ({"samples": np.array(["a"])}, InputTypeError),
    ],
)
def test_bad_chunks_raise_workbench_errors(tmp_path, kwargs, error):
    live, _ = _session(tmp_path)
    samples = kwargs.pop("samples")
    with pytest.raises(error) as info:
        live.feed(samples, **kwargs)
    assert isinstance(info.value, WorkbenchError)
    live.stop()


def test_bad_session_arguments_and_use_after_stop(tmp_path):
    stub = StubDecoder()
    with pytest.raises(InputError, match="summary_every_s"):
        LiveSession(stub, folder=tmp_path / "a", summary_every_s=0)
    with pytest.raises(InputTypeError, match="on_update"):
        LiveSession(stub, folder=tmp_path / "b", on_update=3)
    with pytest.raises(InputTypeError):
        LiveSession("tiny.en", folder=tmp_path / "c")
    live, _ = _session(tmp_path)
    with pytest.raises(InputTypeError, match="AudioChunk"):
        live.feed_chunk(np.zeros(10, dtype=np.float32))
    live.stop()
    live.stop()  # idempotent
    with pytest.raises(InputError, match="stopped"):
        live.feed(np.zeros(10, dtype=np.float32))


def test_rolling_summary_about_every_20_seconds(tmp_path):
    seen = []
    live, _ = _session(tmp_path, summary_every_s=20.0, on_update=lambda s: seen.append(s.summary_))
    speech = np.concatenate([tone(8), np.zeros(2 * SAMPLE_RATE, dtype=np.float32)])
    for seq, chunk in enumerate(_chunks(np.tile(speech, 5))):
        live.feed(chunk, seq=seq)
    live.stop()
    assert seen[0] is None  # no summary before 20 s of audio
    summaries = [s for s in seen if s is not None]
    assert summaries and live.summary_ is not None
    assert all(sent.text.startswith("w") for sent in live.summary_.sentences)


def test_memory_stays_bounded_in_a_long_stream(tmp_path):
    """Half an hour of 'speech' (10 s on, 2 s off): every buffer stays at its bound."""
    live, stub = _session(tmp_path, summary_window_s=60.0)
    speech = np.concatenate([tone(10), np.zeros(2 * SAMPLE_RATE, dtype=np.float32)])
    chunks = _chunks(speech)
    peaks: dict[str, int] = {}
    seq = 0
    for _ in range(150):  # 150 x 12 s = 30 minutes
        for chunk in chunks:
            live.feed(chunk, seq=seq)
            seq += 1
        for key, value in live.buffer_sizes().items():
            peaks[key] = max(peaks.get(key, 0), value)
        while live.queued_s > 30:  # let the worker catch up, as real time would
            threading.Event().wait(0.01)
    live.stop()
    assert live.stats()["audio_s"] == pytest.approx(1800.0)
    # The streaming buffer is trimmed: one Whisper window (30 s) plus one pushed piece (5 s).
    assert stub.max_samples <= 35 * SAMPLE_RATE
    assert peaks["stream_updates"] <= 1  # dropped once read
    assert peaks["held_chunks"] == 0
    assert peaks["queued_samples"] <= 42 * SAMPLE_RATE
    # Arrival times (one per 0.5-s chunk) of the queued audio, the streaming buffer and the
    # 30 s before the last confirmed word, plus a few at the edges: not the session's length.
    assert peaks["arrival_marks"] <= 2 * (42 + 35 + 30) + 4
    assert peaks["summary_words"] <= 2 * 60 + 20  # the summary's 60-s window
    assert live.recorder_.samples_written_ == 1800 * SAMPLE_RATE  # the audio went to disk
    assert (live.folder_ / "audio.wav").stat().st_size == 44 + 2 * 1800 * SAMPLE_RATE
    assert len(live.stream_.confirmed_words_) == 150 * 20  # and nothing was lost


CRASH_SCRIPT = """
import sys, time
from tests.transcribe.live_stub import StubDecoder, tone
from workbench.transcribe import LiveSession
live = LiveSession(StubDecoder(), folder=sys.argv[1])
audio = tone(8)
for seq in range(16):  # chunks a little apart, so the worker makes several passes
    live.feed(audio[seq * 8000:(seq + 1) * 8000], seq=seq)
    time.sleep(0.05)
deadline = time.monotonic() + 120
while live.recorder_.words_written_ < 10 and time.monotonic() < deadline:
    time.sleep(0.01)
print("ready", live.recorder_.words_written_, flush=True)
time.sleep(600)
"""


def test_a_killed_process_leaves_a_folder_that_transcript_load_restores(tmp_path):
    folder = tmp_path / "crash"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        ready, n_words = proc.stdout.readline().split()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert ready == "ready" and int(n_words) >= 10
    restored = Transcript.load(folder)
    # Every word confirmed before the kill is there, in order, with its time.
    assert len(restored.words) >= int(n_words)
    assert restored.text.startswith(_words(10))
    assert [w.start for w in restored.words] == [k / 2 for k in range(len(restored.words))]
    assert restored.settings["complete"] is False
    audio, _ = read_session_audio(folder)
    # Flushed every second: at most the last second of the 8 s may be missing.
    assert audio.size >= 7 * SAMPLE_RATE
    assert np.allclose(audio, tone(8)[: audio.size], atol=1e-4)


def test_real_model_live_session_transcribes_the_weather_clip(transcriber, clips, tmp_path):
    path, text = clips["weather"]
    audio = load_audio(path)
    live = LiveSession(transcriber, folder=tmp_path / "w")
    for seq, chunk in enumerate(_chunks(audio)):
        live.feed(chunk, seq=seq)
    transcript = live.stop()
    assert live.error_ == ""
    assert word_error_rate(text, transcript.text) <= 0.35
    assert Transcript.load(live.folder_).text == transcript.text
