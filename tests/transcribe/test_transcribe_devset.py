"""The development set the defaults are chosen on: broad, long enough, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.errors import InputTypeError, UnknownNameError
from workbench.transcribe import SAMPLE_RATE, DevClip, dev_set
from workbench.transcribe.devset import DEV_PASSAGES, NOISE_SNR_DB, add_noise


@pytest.fixture(scope="module")
def full_set():
    return dev_set()


def test_the_set_is_at_least_ten_minutes_of_varied_voices(full_set):
    assert len(full_set) == 16 and all(isinstance(c, DevClip) for c in full_set)
    assert sum(c.duration for c in full_set) >= 600
    families = {c.voice.split("+")[0] for c in full_set}
    assert families == {"en-us", "en-gb", "en-gb-x-rp"}
    variants = {c.voice.split("+")[1] for c in full_set}
    assert {v[0] for v in variants} == {"f", "m"} and len(variants) >= 4
    assert all(130 <= c.words_per_minute <= 180 for c in full_set)
    assert sum(c.snr_db == NOISE_SNR_DB for c in full_set) == 8
    # Every passage twice, by two different voices.
    for name in DEV_PASSAGES:
        pair = [c for c in full_set if c.name.startswith(f"{name}-")]
        assert len(pair) == 2 and pair[0].voice != pair[1].voice
        assert pair[0].text == pair[1].text == " ".join(DEV_PASSAGES[name])


def test_gaps_are_silent_and_noise_is_at_20_db(full_set):
    for c in full_set:
        assert len(c.gaps) == 2
        for start, length in c.gaps:
            assert 1.5 <= length <= 5.0
            gap = c.audio[round(start * SAMPLE_RATE) : round((start + length) * SAMPLE_RATE)]
            if c.snr_db is None:
                assert np.all(gap[16:-16] == 0)  # (the start is rounded to 1 ms)
            else:
                # Noise only: its power is 20 dB under the speech's (measured on voiced
                # samples; this rougher estimate includes the short pauses between words).
                speech = c.audio[: round(c.gaps[0][0] * SAMPLE_RATE)]
                snr = 10 * np.log10(np.mean(speech**2) / np.mean(gap**2))
                assert 15 <= snr <= 23


def test_the_same_seed_gives_the_same_audio_and_a_subset_matches(full_set):
    sub = dev_set(0, names=["hiring"])
    assert [c.name for c in sub] == ["hiring-1", "hiring-2"]
    for c in sub:
        same = next(f for f in full_set if f.name == c.name)
        np.testing.assert_array_equal(c.audio, same.audio)
    other = dev_set(1, names="hiring")
    assert not np.array_equal(other[1].audio[:1000], sub[1].audio[:1000])  # other noise


def test_bad_names_and_silent_noise_base():
    with pytest.raises(UnknownNameError, match="dev-set passage"):
        dev_set(names=["hirring"])
    with pytest.raises(InputTypeError):
        dev_set(names=3)
    with pytest.raises(InputTypeError):
        dev_set("0")
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(100, np.float32), 20.0, np.random.default_rng(0))
