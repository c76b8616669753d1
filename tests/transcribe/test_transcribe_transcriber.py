"""End-to-end transcription of espeak-ng speech with known text: accuracy, timestamps, exports."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from workbench.core.errors import InputError, ResourceNotFoundError, UnknownNameError
from workbench.core.progress import observe
from workbench.transcribe import (
    SAMPLE_RATE,
    Segment,
    Transcriber,
    Transcript,
    load_audio,
    resample,
    word_error_rate,
)
from workbench.transcribe.transcript import format_timestamp

# tiny.en on espeak-ng speech: measured 0.05-0.07 on these clips; a broken pipeline scores ~1.
MAX_WER = 0.2


def test_weather_clip_is_transcribed_accurately(weather_transcript, clips):
    t = weather_transcript
    assert isinstance(t, Transcript)
    assert word_error_rate(clips["weather"][1], t.text) <= MAX_WER
    assert 8 < t.duration < 10
    assert t.settings["compute_type"] == "int8" and t.model == "model"
    for s in t.segments:
        assert isinstance(s, Segment)
        assert 0 <= s.start < s.end <= t.duration + 0.5
        assert 0.0 <= s.no_speech_prob <= 1.0 and s.avg_logprob <= 0.0
        assert s.words, "word timestamps are on by default"


def test_word_timestamps_are_ordered_and_inside_segments(weather_transcript):
    words = weather_transcript.words
    assert len(words) >= 12
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for s in weather_transcript.segments:
        for w in s.words:
            assert s.start - 0.05 <= w.start <= w.end <= s.end + 0.05
            assert 0 <= w.probability <= 1
    # "windy" ends the first sentence, about 4 s into the clip (espeak-ng at 150 wpm).
    windy = next(w for w in words if "windy" in w.text.lower())
    assert 2.5 < windy.end < 5.5


def test_library_clip_from_array_at_44k(transcriber, clips):
    path, text = clips["library"]
    samples = load_audio(path)
    at_44k = resample(samples, SAMPLE_RATE, 44100)
    t = transcriber.transcribe(at_44k, sample_rate=44100)
    assert word_error_rate(text, t.text) <= MAX_WER
    assert abs(t.duration - samples.size / SAMPLE_RATE) < 0.01


def test_silence_gives_empty_transcript(transcriber):
    t = transcriber.transcribe(np.zeros(3 * SAMPLE_RATE, dtype=np.float32))
    assert t.segments == [] and t.text == "" and t.words == []
    assert t.to_srt() == "" and t.to_text() == "" and t.to_vtt() == "WEBVTT\n\n"
    assert t.summary() == {"segments": 0, "words": 0, "duration_s": 3.0}


def test_vad_filter_keeps_speech_and_absolute_times(clips):
    path, text = clips["weather"]
    speech = load_audio(path)
    padded = np.concatenate([np.zeros(3 * SAMPLE_RATE, np.float32), speech])
    t = Transcriber(vad_filter=True).transcribe(padded)
    assert word_error_rate(text, t.text) <= MAX_WER
    assert t.segments[0].start >= 2.5  # times refer to the original audio, silence included
    assert Transcriber(vad_filter=True).transcribe(np.zeros(SAMPLE_RATE, np.float32)).segments == []


def test_iter_segments_grows_and_reports_progress(transcriber, clips):
    seen = []
    with observe(lambda done, total, desc: seen.append((done, total))):
        segments = list(transcriber.iter_segments(clips["weather"][0]))
    assert segments and all(isinstance(s, Segment) for s in segments)
    assert seen[-1][0] == seen[-1][1] == 9  # audio seconds, rounded


def test_transcribe_bad_inputs(transcriber, tmp_path):
    with pytest.raises(ResourceNotFoundError):
        transcriber.transcribe(tmp_path / "missing.wav")
    corrupt = tmp_path / "x.wav"
    corrupt.write_bytes(b"RIFF1234WAVEnonsense" * 10)
    with pytest.raises(InputError, match="Could not decode"):
        transcriber.transcribe(corrupt)
    with pytest.raises(InputError, match="out of range"):
        transcriber.transcribe(np.zeros(100, np.float32), sample_rate=50)


def test_srt_and_vtt_exports(weather_transcript, tmp_path):
    srt = weather_transcript.to_srt()
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == len(weather_transcript.segments)
    stamp = r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d"
    for i, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(i) and re.fullmatch(stamp, lines[1]) and lines[2]
    vtt = weather_transcript.to_vtt()
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert weather_transcript.export(tmp_path / "a.srt").read_text() == srt
    assert weather_transcript.export(tmp_path / "a.vtt").read_text() == vtt
    assert weather_transcript.export(tmp_path / "a.out", format="txt").read_text().strip()


def test_json_round_trip(weather_transcript, tmp_path):
    path = weather_transcript.export(tmp_path / "t.json")
    data = json.loads(path.read_text())
    assert data["segments"][0]["words"][0]["text"].strip()
    back = Transcript.from_json(path)
    assert back.text == weather_transcript.text
    assert back.words[3] == weather_transcript.words[3]
    assert Transcript.from_json(weather_transcript.to_json()).segments == back.segments


def test_export_and_import_errors(weather_transcript, tmp_path):
    with pytest.raises(UnknownNameError, match="Unknown export format 'docx'"):
        weather_transcript.export(tmp_path / "a.docx")
    with pytest.raises(InputError, match="Transcript JSON is invalid"):
        Transcript.from_json("{not json")
    with pytest.raises(InputError, match="Not a transcript dictionary"):
        Transcript.from_dict({"segments": [{"id": 0}]})
    with pytest.raises(ResourceNotFoundError):
        Transcript.from_json(tmp_path / "none.json")


def test_frames_and_repr(weather_transcript):
    df = weather_transcript.to_frame()
    assert list(df.columns) == [
        "id",
        "start",
        "end",
        "text",
        "avg_logprob",
        "no_speech_prob",
        "n_words",
    ]
    assert len(weather_transcript.words_frame()) == len(weather_transcript.words)
    assert repr(weather_transcript).startswith("Transcript(segments=")
    assert "<h4" in weather_transcript._repr_html_()


def test_plot_draws_words_and_segments(weather_transcript):
    import matplotlib.pyplot as plt

    ax = weather_transcript.plot()
    assert len(ax.lines[0].get_xdata()) == len(weather_transcript.words)
    assert len(ax.patches) == len(weather_transcript.segments)
    assert Transcript([], duration=1.0).plot(ax=plt.subplots()[1]).get_xlim() == (0, 1.0)
    plt.close("all")


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0, "00:00:00,000", "00:00:00.000"),
        (3.2567, "00:00:03,257", "00:00:03.257"),
        (3723.5, "01:02:03,500", "01:02:03.500"),
    ],
)
def test_format_timestamp(seconds, srt, vtt):
    assert format_timestamp(seconds) == srt
    assert format_timestamp(seconds, separator=".") == vtt


def test_transcribe_many_in_order_and_in_parallel(transcriber, clips):
    import joblib

    paths = [clips["weather"][0], clips["library"][0]]
    serial = transcriber.transcribe_many(paths)
    with joblib.parallel_config(backend="threading"):
        threaded = Transcriber().transcribe_many(paths, n_jobs=2)
    assert [t.text for t in serial] == [t.text for t in threaded]
    assert "weather" in serial[0].text.lower() and "library" in serial[1].text.lower()
    assert Transcriber(**transcriber.get_params()).get_params() == transcriber.get_params()


def test_transcribe_many_bad_input(transcriber):
    with pytest.raises(InputError, match="audios is empty"):
        transcriber.transcribe_many([])
    with pytest.raises(InputError, match="n_jobs must be"):
        transcriber.transcribe_many(["x.wav"], n_jobs=0)
