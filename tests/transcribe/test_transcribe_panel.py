"""The panel, driven like a user would: set widget values, click buttons, read what it shows."""

from __future__ import annotations

import base64
import datetime
import re

import numpy as np
import pytest

from workbench.core.errors import InputError
from workbench.transcribe import Transcript, load_audio, word_error_rate
from workbench.transcribe.panel import TranscribePanel


def _download(panel, name):
    m = re.search(
        rf"download='{re.escape(name)}' href='data:text/plain;charset=utf-8;base64,"
        r"([A-Za-z0-9+/=]+)'",
        panel.downloads.value,
    )
    assert m, panel.downloads.value
    return base64.b64decode(m.group(1)).decode("utf-8")


def _upload(panel, data: bytes, name="clip.wav"):
    panel.upload.value = (
        {
            "name": name,
            "type": "audio/wav",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        },
    )


@pytest.fixture
def panel(transcriber):  # the session fixture has the model loaded
    return TranscribePanel()


def test_panel_builds_without_arguments_and_loads_nothing():
    p = TranscribePanel()
    assert repr(p) == "TranscribePanel(title='Local transcription')"
    assert p.result is None and p.last_error is None
    assert "workbench-main" in p.transcribe_button._dom_classes


def test_uploaded_file_is_transcribed_with_summary_and_subtitles(panel, clips):
    path, text = clips["weather"]
    _upload(panel, path.read_bytes())
    assert panel.source.value == "Uploaded file"
    panel.n_sentences.value = 1
    panel.transcribe_button.click()
    assert panel.last_error is None, panel.last_error
    assert isinstance(panel.result, Transcript)
    assert word_error_rate(text, panel.result.text) <= 0.2
    assert "windy" in panel.transcript_html.value
    assert "[   0.0–" in panel.transcript_html.value
    assert len(panel.summary.sentences) == 1 and "Key phrases" in panel.summary_html.value
    assert _download(panel, "transcript.srt") == panel.result.to_srt()
    assert _download(panel, "transcript.vtt").startswith("WEBVTT")
    assert panel.progress.bar.value == 1.0
    assert "Done in" in panel.status.value


def test_stream_button_shows_confirmed_text_and_delay(panel, clips):
    path, text = clips["weather"]
    _upload(panel, path.read_bytes())
    panel.chunk_s.value = 2.0
    panel.stream_button.click()
    assert panel.last_error is None, panel.last_error
    assert word_error_rate(text, panel.result.text) <= 0.25
    assert panel.stream_stats.n_words >= 12
    assert "Confirmed-text delay: median" in panel.transcript_html.value
    assert panel.progress.label.value == "Chunks 5/5"
    assert _download(panel, "transcript.srt").startswith("1\n00:00:0")


def test_chunks_pushed_by_another_widget(panel, clips):
    audio = load_audio(clips["library"][0])
    with pytest.raises(InputError, match="call start_live"):
        panel.push_chunk(audio[:16000])
    panel.chunk_s.value = 3.0
    panel.start_live()
    updates = [panel.push_chunk(audio[i : i + 48000]) for i in range(0, audio.size, 48000)]
    assert any(u is not None and u.confirmed for u in updates)
    final = panel.stop_live()
    assert final.final and "library" in panel.result.text.lower()
    assert panel.stop_live() is None


def test_missing_upload_shows_error(panel):
    panel.source.value = "Uploaded file"
    panel.transcribe_button.click()
    assert "No file uploaded" in panel.last_error
    assert "No file uploaded" in panel.status.value
    assert panel.result is None


def test_corrupt_upload_shows_error_not_traceback(panel):
    _upload(panel, b"this is not audio" * 100, name="notes.wav")
    panel.transcribe_button.click()
    assert panel.last_error.startswith("Could not decode the uploaded bytes")
    panel.stream_button.click()
    assert panel.last_error.startswith("Could not decode the uploaded bytes")


def test_silent_upload_says_no_speech(panel, tmp_path):
    from workbench.transcribe import write_wav

    p = write_wav(tmp_path / "silence.wav", np.zeros(32000, np.float32))
    _upload(panel, p.read_bytes())
    panel.transcribe_button.click()
    assert panel.last_error is None
    assert panel.result.segments == [] and "No speech found" in panel.transcript_html.value
    assert panel.summary_html.value == ""
