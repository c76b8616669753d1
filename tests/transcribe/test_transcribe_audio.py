"""Audio decoding and validation: files, bytes, arrays, resampling, and every kind of bad input."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from workbench.core.errors import InputError, InputTypeError, ResourceNotFoundError
from workbench.transcribe import SAMPLE_RATE, load_audio, resample, write_wav


def _tone(seconds=1.0, rate=SAMPLE_RATE, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_wav_file_bytes_and_file_object_decode_alike(clips):
    path, _ = clips["weather"]
    from_path = load_audio(path)
    from_str = load_audio(str(path))
    from_bytes = load_audio(path.read_bytes())
    with open(path, "rb") as fh:
        from_fh = load_audio(fh)
    assert from_path.dtype == np.float32 and from_path.ndim == 1
    assert from_path.size > 8 * SAMPLE_RATE
    np.testing.assert_array_equal(from_path, from_str)
    np.testing.assert_array_equal(from_path, from_bytes)
    np.testing.assert_array_equal(from_path, from_fh)
    assert -1.0 <= from_path.min() and from_path.max() <= 1.0


def test_write_wav_round_trip(tmp_path):
    tone = _tone(0.5)
    p = write_wav(tmp_path / "tone.wav", tone)
    with wave.open(str(p)) as fh:
        assert (fh.getframerate(), fh.getnchannels(), fh.getsampwidth()) == (16000, 1, 2)
    back = load_audio(p)
    assert back.size == tone.size
    assert np.abs(back - tone).max() < 1e-3


def test_other_file_rate_is_resampled_by_decoder(tmp_path):
    tone = _tone(1.0, rate=8000)
    p = write_wav(tmp_path / "tone8k.wav", tone, sample_rate=8000)
    assert abs(load_audio(p).size - SAMPLE_RATE) < 200


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_arrays_at_other_rates_are_resampled(rate):
    out = load_audio(_tone(2.0, rate=rate), sample_rate=rate)
    assert out.dtype == np.float32
    assert abs(out.size - 2 * SAMPLE_RATE) <= 1
    # The 440 Hz tone survives: its spectral peak stays at 440 Hz.
    spectrum = np.abs(np.fft.rfft(out))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / out.size
    assert abs(peak_hz - 440) < 2


def test_int16_and_uint8_arrays_are_scaled():
    pcm = (_tone(0.2) * 32767).astype(np.int16)
    out = load_audio(pcm)
    assert out.dtype == np.float32 and 0.49 < out.max() <= 0.5001
    u8 = np.full(100, 128, dtype=np.uint8)
    assert np.abs(load_audio(u8)).max() < 0.01


def test_column_vector_is_accepted():
    assert load_audio(_tone(0.1).reshape(-1, 1)).ndim == 1


def test_resample_identity_and_length():
    x = _tone(1.0)
    np.testing.assert_array_equal(resample(x, 16000, 16000), x)
    assert resample(x, 16000, 8000).size == 8000


def test_missing_file_raises_resource_not_found(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")


def test_folder_is_rejected(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        load_audio(tmp_path)


def test_corrupt_file_raises_input_error(tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="Could not decode"):
        load_audio(bad)


def test_text_file_is_unsupported(tmp_path):
    txt = tmp_path / "notes.mp3"
    txt.write_text("this is not audio at all\n" * 20)
    with pytest.raises(InputError, match="corrupt or not a sound format"):
        load_audio(txt)


def test_empty_bytes_rejected():
    with pytest.raises(InputError, match="bytes are empty"):
        load_audio(b"")


def test_garbage_bytes_rejected():
    with pytest.raises(InputError, match="Could not decode the uploaded bytes"):
        load_audio(b"\x00\x01" * 500)


def test_wav_without_samples_rejected(tmp_path):
    p = tmp_path / "empty.wav"
    with wave.open(str(p), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(16000)
    with pytest.raises(InputError, match=r"(holds no audio|Could not decode)"):
        load_audio(p)


@pytest.mark.parametrize(
    ("value", "match"),
    [([0.1, 0.2], "Python list"), (42, "Unsupported audio input"), (None, "Unsupported")],
)
def test_wrong_types(value, match):
    with pytest.raises(InputTypeError, match=match):
        load_audio(value)


def test_non_numeric_array():
    with pytest.raises(InputTypeError, match="float or integer PCM"):
        load_audio(np.array(["a", "b"]))
    with pytest.raises(InputTypeError, match="float or integer PCM"):
        load_audio(np.ones(10, dtype=complex))


def test_stereo_array_needs_mixdown():
    with pytest.raises(InputError, match=r"mix channels down.*mean\(axis=1\)"):
        load_audio(np.zeros((1000, 2), dtype=np.float32))


def test_empty_array():
    with pytest.raises(InputError, match="audio is empty"):
        load_audio(np.zeros(0, dtype=np.float32))


def test_nan_samples():
    x = _tone(0.1)
    x[5] = np.nan
    with pytest.raises(InputError, match="NaN or infinite"):
        load_audio(x)


def test_unscaled_int16_as_float():
    with pytest.raises(InputError, match="divided by 32768"):
        load_audio(_tone(0.1) * 32767)


@pytest.mark.parametrize(
    ("rate", "exc", "match"),
    [
        (16000.0, InputTypeError, "integer number of Hz"),
        (True, InputTypeError, "integer number of Hz"),
        (100, InputError, "out of range"),
        (10_000_000, InputError, "out of range"),
    ],
)
def test_bad_sample_rate(rate, exc, match):
    with pytest.raises(exc, match=match):
        load_audio(_tone(0.1), sample_rate=rate)


def test_bytesio_input():
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(16000)
        fh.writeframes((_tone(0.3) * 32767).astype("<i2").tobytes())
    buf.seek(0)
    assert load_audio(buf).size == int(0.3 * SAMPLE_RATE)
