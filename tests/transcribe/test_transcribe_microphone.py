"""MicrophoneWidget and chunk messages, kernel side (the browser side: tests/browser)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.transcribe import (
    SAMPLE_RATE,
    AudioChunk,
    ChunkError,
    MicrophoneWidget,
    parse_chunk,
)

JS = Path(__file__).resolve().parents[2] / "workbench" / "transcribe" / "data" / "microphone.js"


def _msg(**kw):
    return {"type": "chunk", "seq": 0, "rate": SAMPLE_RATE, "t": 1.7e12, "level": 0.1, **kw}


def _buf(n=8000, value=0.25):
    return np.full(n, value, dtype="<f4").tobytes()


def test_parse_a_valid_chunk():
    chunk = parse_chunk(_msg(seq=7), [memoryview(_buf())])
    assert isinstance(chunk, AudioChunk)
    assert (chunk.seq, chunk.sample_rate, chunk.samples.size) == (7, SAMPLE_RATE, 8000)
    assert chunk.samples.dtype == np.float32 and np.all(chunk.samples == 0.25)
    assert chunk.duration == pytest.approx(0.5)
    assert chunk.sent_at_ms == 1.7e12 and chunk.level == pytest.approx(0.1)
    # Optional fields may be missing; another rate is kept as sent (LiveSession resamples).
    bare = parse_chunk({"type": "chunk", "seq": 1, "rate": 48000}, [bytearray(_buf(24000))])
    assert np.isnan(bare.sent_at_ms) and np.isnan(bare.level) and bare.sample_rate == 48000


@pytest.mark.parametrize(
    ("content", "buffers", "match"),
    [
        ([1, 2], [_buf()], "must be a dict"),
        (_msg(type="start"), [_buf()], "Not a chunk"),
        (_msg(seq=-1), [_buf()], "seq"),
        (_msg(seq=True), [_buf()], "seq"),
        (_msg(seq=1.5), [_buf()], "seq"),
        (_msg(seq=None), [_buf()], "seq"),
        (_msg(rate=10), [_buf()], "rate"),
        (_msg(rate="16000"), [_buf()], "rate"),
        (_msg(t="now"), [_buf()], "'t'"),
        (_msg(level=float("nan")), [_buf()], "'level'"),
        (_msg(), [], "exactly one"),
        (_msg(), [_buf(), _buf()], "exactly one"),
        (_msg(), "abc", "exactly one"),
        (_msg(), [3], "bytes-like"),
        (_msg(), [b""], "multiple of 4"),
        (_msg(), [b"\x00\x00\x80"], "multiple of 4"),
        (_msg(), [_buf(11 * SAMPLE_RATE)], "at most"),
        (_msg(), [_buf(value=np.nan)], "NaN"),
        (_msg(), [_buf(value=np.inf)], "NaN"),
        (_msg(), [_buf(value=3.0)], r"\[-1, 1\]"),
    ],
)
def test_bad_chunk_payloads_raise_chunk_error(content, buffers, match):
    with pytest.raises(ChunkError, match=match) as info:
        parse_chunk(content, buffers)
    assert isinstance(info.value, WorkbenchError) and isinstance(info.value, InputError)


def test_the_widget_hands_valid_chunks_on_and_counts_bad_ones():
    got, events = [], []
    mic = MicrophoneWidget(chunk_s=1.0, on_chunk=got.append)
    mic.on_event(events.append)
    assert mic.chunk_s == 1.0 and mic.sample_rate == SAMPLE_RATE
    mic.receive({"type": "start", "rate": SAMPLE_RATE, "capture_rate": 48000, "t": 0})
    assert mic.receive(_msg(seq=0), [_buf()]) is got[0]
    # A bad chunk never raises in the comm handler: it is counted and shown.
    assert mic.receive(_msg(seq=1), [b"\x00"]) is None
    assert mic.receive({"type": "unknown"}) is None
    assert mic.receive("junk") is None
    mic.receive({"type": "stop", "seq": 2, "t": 0})
    assert [e["type"] for e in events] == ["start", "stop"]
    assert mic.n_chunks_ == 1 and len(mic.bad_chunks_) == 1
    assert "multiple of 4" in mic.status


def test_the_widget_syncs_its_state_and_sends_confirmations():
    mic = MicrophoneWidget()
    state = mic.get_state()
    assert {"recording", "error", "status", "chunk_s", "sample_rate", "_esm"} <= set(state)
    assert "AudioWorkletNode" in state["_esm"] and "getUserMedia" in state["_esm"]
    sent = []
    mic.send = lambda content, buffers=None: sent.append(content)
    mic.confirm([1.23456, 2.0], live=False)
    assert sent == [{"type": "confirmed", "ends": [1.235, 2.0], "live": False}]
    # The browser reports a failure through the synced error.
    mic.error = "Microphone permission was denied."
    assert mic.get_state()["error"] == "Microphone permission was denied."


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"chunk_s": 0.1}, InputError),
        ({"chunk_s": 5}, InputError),
        ({"chunk_s": "1"}, InputTypeError),
        ({"chunk_s": float("nan")}, InputError),
        ({"on_chunk": 3}, InputTypeError),
    ],
)
def test_bad_widget_arguments(kwargs, error):
    with pytest.raises(error):
        MicrophoneWidget(**kwargs)


def test_bad_callbacks():
    mic = MicrophoneWidget()
    with pytest.raises(InputTypeError):
        mic.on_chunk(None)
    with pytest.raises(InputTypeError):
        mic.on_event("f")


NODE_CHECK = """
import { Downsampler } from "%s";
const out = {};
for (const inRate of [48000, 44100, 16000, 8000]) {
  const d = new Downsampler(inRate, 16000);
  const n = inRate * 2;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(2 * Math.PI * 1000 * i / inRate)
                                   + Math.sin(2 * Math.PI * 11000 * i / inRate);
  const parts = [];
  for (let i = 0; i < n; i += 128) parts.push(...d.process(x.subarray(i, i + 128)));
  parts.push(...d.process(new Float32Array(0), true));
  out[inRate] = parts;
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the widget's JS")
def test_the_browser_downsampler_keeps_speech_and_removes_aliases(tmp_path):
    """The worklet's 16-kHz down-sampler, run in node on 1 kHz + 11 kHz tones (2 s).

    11 kHz is above 16 kHz's Nyquist limit: it must be filtered out (else it aliases to 5 kHz),
    while 1 kHz must pass unchanged; the output has exactly 2 s of samples.
    """
    module = tmp_path / "mic.mjs"
    module.write_text(JS.read_text())
    script = tmp_path / "check.mjs"
    script.write_text(NODE_CHECK % module.as_posix())
    result = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, check=True, timeout=120
    )
    out = json.loads(result.stdout)
    k = np.arange(2 * SAMPLE_RATE)
    ideal = np.sin(2 * np.pi * 1000 * k / SAMPLE_RATE)
    for rate in ("48000", "44100"):
        y = np.array(out[rate])
        assert y.size == 2 * SAMPLE_RATE
        err = y[500:-500] - ideal[500:-500]
        assert np.sqrt(np.mean(err**2)) < 0.01, rate  # 11 kHz suppressed, 1 kHz intact
    # At 16 kHz in, samples pass through; at 8 kHz in, there is no 11 kHz (it aliased at the
    # source) and the 1 kHz tone is interpolated.
    y16 = np.array(out["16000"])
    assert y16.size == 2 * SAMPLE_RATE
    assert np.allclose(y16, ideal + np.sin(2 * np.pi * 11000 * k / SAMPLE_RATE), atol=1e-5)
    assert np.array(out["8000"]).size == 2 * SAMPLE_RATE


def test_the_panel_runs_a_microphone_session_from_the_widgets_messages(clips, tmp_path):
    """Start, chunks and Stop as the browser sends them; the panel shows and saves the text."""
    import time

    from workbench.transcribe import Transcript, load_audio, word_error_rate
    from workbench.transcribe.panel import TranscribePanel

    path, text = clips["weather"]
    audio = load_audio(path)
    panel = TranscribePanel()
    assert panel.mic_box.layout.display == "none"
    panel.source.value = "Microphone"
    assert panel.mic_box.layout.display == "flex"
    panel.folder.value = str(tmp_path / "session")
    confirmations = []
    panel.microphone.send = lambda content, buffers=None: confirmations.append(content)
    panel.microphone.receive({"type": "start", "rate": SAMPLE_RATE, "t": 0})
    assert panel.live_session is not None and panel.live_session.running
    chunks = [audio[i : i + 8000] for i in range(0, audio.size, 8000)]
    for seq, chunk in enumerate(chunks):
        panel.microphone.receive(_msg(seq=seq), [chunk.astype("<f4").tobytes()])
    panel.microphone.receive({"type": "stop", "seq": len(chunks), "t": 0})
    deadline = time.monotonic() + 300
    while "workbench-session-folder" not in panel.downloads.value:
        assert time.monotonic() < deadline, panel.status.value
        time.sleep(0.1)
    assert panel.last_error is None
    assert word_error_rate(text, panel.result.text) <= 0.35
    assert "workbench-confirmed" in panel.transcript_html.value
    assert "transcript.srt" in panel.downloads.value
    assert str(tmp_path / "session") in panel.downloads.value
    assert Transcript.load(tmp_path / "session").text == panel.result.text
    ends = [e for c in confirmations for e in c["ends"]]
    assert len(ends) == len(panel.result.words)  # every confirmed word reported to the browser
    # Transcribe and Play as stream do not take the microphone: a clear message instead.
    panel.transcribe()
    assert "press Start" in panel.last_error


def test_the_panel_shows_the_browsers_microphone_error():
    from workbench.transcribe.panel import TranscribePanel

    panel = TranscribePanel()
    panel.microphone.error = "No microphone was found. Connect one, then press Start again."
    assert panel.last_error.startswith("No microphone was found")
    assert "No microphone was found" in panel.status.value
