"""SessionRecorder: a session folder that is readable at every moment, also after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ResourceNotFoundError,
)
from workbench.transcribe import SAMPLE_RATE, SessionRecorder, Transcript, Word, read_session_audio
from workbench.transcribe.recorder import new_session_folder, read_session

ROOT = Path(__file__).resolve().parents[2]


def _words() -> list[Word]:
    return [
        Word(0.0, 0.4, " Hello", 0.9),
        Word(0.5, 0.9, " there.", 0.8),
        Word(1.2, 1.5, " Next", float("nan")),
        Word(1.6, 2.0, " one", 0.7),
    ]


def test_audio_and_words_are_readable_while_recording(tmp_path):
    rec = SessionRecorder(tmp_path / "s", flush_s=0.5)
    audio = np.linspace(-0.5, 0.5, SAMPLE_RATE, dtype=np.float32)
    rec.write_audio(audio)
    rec.write_words(_words())
    # Not closed: the header already matches what was flushed, the words are on disk.
    with wave.open(str(tmp_path / "s" / "audio.wav")) as fh:
        assert (fh.getframerate(), fh.getnchannels(), fh.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        assert fh.getnframes() == SAMPLE_RATE
    samples, rate = read_session_audio(tmp_path / "s")
    assert rate == SAMPLE_RATE and np.allclose(samples, audio, atol=1e-4)
    t = Transcript.load(tmp_path / "s")
    assert [s.text for s in t.segments] == ["Hello there.", "Next one"]
    assert [w.text for w in t.words] == [w.text for w in _words()]
    assert t.words[1].probability == pytest.approx(0.8)
    assert np.isnan(t.words[2].probability)
    assert t.duration == pytest.approx(2.0)  # the last word ends after the 1 s of audio
    assert t.settings["complete"] is False
    rec.close(note="done")
    rec.close()  # idempotent
    assert rec.closed
    assert Transcript.load(tmp_path / "s").settings["complete"] is True
    last = json.loads((tmp_path / "s" / "transcript.jsonl").read_text().splitlines()[-1])
    assert last == {"duration": 1.0, "note": "done", "type": "stop"}


def test_the_header_is_fixed_on_each_flush(tmp_path):
    rec = SessionRecorder(tmp_path / "s", flush_s=1.0)
    rec.write_audio(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))
    with wave.open(str(tmp_path / "s" / "audio.wav")) as fh:
        assert fh.getnframes() == 0  # half a second: not yet flushed
    rec.write_audio(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))
    with wave.open(str(tmp_path / "s" / "audio.wav")) as fh:
        assert fh.getnframes() == SAMPLE_RATE
    rec.write_audio(np.full(100, 2.0, dtype=np.float32))  # clipped
    rec.flush()
    samples, _ = read_session_audio(tmp_path / "s")
    assert samples.size == SAMPLE_RATE + 100 and samples[-1] == pytest.approx(1.0, abs=1e-4)


def test_a_torn_last_line_is_skipped_and_a_damaged_one_refused(tmp_path):
    rec = SessionRecorder(tmp_path / "s")
    rec.write_words(_words()[:2])
    log = tmp_path / "s" / "transcript.jsonl"
    with open(log, "a") as fh:
        fh.write('{"type": "word", "start": 1.2, "en')  # the kill came mid-line
    assert Transcript.load(tmp_path / "s").text == "Hello there."
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], "garbage", lines[1]]) + "\n")
    with pytest.raises(InputError, match="Line 2"):
        Transcript.load(tmp_path / "s")


def test_folders_are_private_and_never_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rec = SessionRecorder()
    assert rec.folder_.parent == tmp_path / "live_sessions"
    assert (os.stat(rec.folder_).st_mode & 0o777) == 0o700
    assert (os.stat(rec.folder_.parent).st_mode & 0o777) == 0o700
    assert new_session_folder() != rec.folder_  # a second session gets its own folder
    with pytest.raises(InputError, match="already holds a session"):
        SessionRecorder(rec.folder_)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    with pytest.raises(IntegrityError, match="open to other users"):
        SessionRecorder(shared)
    with pytest.raises(IntegrityError):
        new_session_folder(shared)


@pytest.mark.parametrize(
    ("folder", "error"),
    [(b"/tmp/x", InputTypeError), (3, InputTypeError)],
)
def test_bad_folders(folder, error):
    with pytest.raises(error):
        SessionRecorder(folder)


def test_bad_recorder_input(tmp_path):
    with pytest.raises(InputError, match="flush_s"):
        SessionRecorder(tmp_path / "a", flush_s=0)
    with pytest.raises(InputTypeError, match="flush_s"):
        SessionRecorder(tmp_path / "b", flush_s="1")
    with pytest.raises(InputError, match="sample_rate"):
        SessionRecorder(tmp_path / "c", sample_rate=5)
    rec = SessionRecorder(tmp_path / "d")
    with pytest.raises(InputError):
        rec.write_audio(np.array([0.1, np.nan]))
    with pytest.raises(InputError):
        rec.write_audio(np.zeros((2, 2)))
    rec.close()
    with pytest.raises(InputError, match="closed"):
        rec.write_audio(np.zeros(3))
    with pytest.raises(InputError, match="closed"):
        rec.write_words(_words())


def test_loading_what_is_not_a_session(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="not a folder"):
        Transcript.load(tmp_path / "missing")
    with pytest.raises(ResourceNotFoundError, match=r"transcript\.jsonl"):
        Transcript.load(tmp_path)
    with pytest.raises(InputTypeError):
        read_session(b"x")
    with pytest.raises(ResourceNotFoundError):
        read_session_audio(tmp_path)


KILL_SCRIPT = """
import sys, time
import numpy as np
from workbench.transcribe import SessionRecorder, Word
rec = SessionRecorder(sys.argv[1])
for i in range(30):  # 3 s of audio in 0.1 s pieces, a word every 0.5 s
    rec.write_audio(np.full(1600, 0.25, dtype=np.float32))
    if i % 5 == 4:
        rec.write_words([Word(i / 10 - 0.4, i / 10, f" w{i // 5}.", 0.9)])
print("ready", flush=True)
time.sleep(600)
"""


def test_sigkill_loses_at_most_the_unflushed_second(tmp_path):
    folder = tmp_path / "k"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    t = Transcript.load(folder)
    assert t.text == "w0. w1. w2. w3. w4. w5."
    assert t.settings["complete"] is False
    samples, _ = read_session_audio(folder)
    assert samples.size >= 2 * SAMPLE_RATE  # flushed every second
    assert np.allclose(samples, 0.25, atol=1e-4)
    with wave.open(str(folder / "audio.wav")) as fh:  # a valid WAV up to the last flush
        assert fh.getnframes() in (2 * SAMPLE_RATE, 3 * SAMPLE_RATE)
