"""The vibration demo: physics of the generator, numpy features, C features, raw window -> class."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.naive_bayes import GaussianNB

from workbench.core.errors import InputError, InputTypeError
from workbench.edge import (
    export,
    feature_names,
    features_c_source,
    make_vibration_windows,
    verify_features,
    verify_pipeline,
    vibration_features,
)
from workbench.edge.vibration import CLASS_NAMES


def test_generator_is_seeded_balanced_and_shaped():
    a = make_vibration_windows(5, random_state=3)
    b = make_vibration_windows(5, random_state=3)
    np.testing.assert_array_equal(a.windows, b.windows)
    assert a.windows.shape == (20, 1024)
    assert np.bincount(a.y).tolist() == [5, 5, 5, 5]
    assert ((a.rpm >= 1200) & (a.rpm <= 1800)).all()
    assert "n_windows=20" in repr(a)
    c = make_vibration_windows(5, random_state=4)
    assert not np.array_equal(a.windows, c.windows)


def test_fault_signatures_follow_the_physics(vibration):
    data = vibration[0]
    F = vibration_features(data.windows)
    names = feature_names()
    med = {c: np.median(F[data.y == i], axis=0) for i, c in enumerate(CLASS_NAMES)}
    col = {n: i for i, n in enumerate(names)}
    # imbalance: strong 1x (20-30 Hz, first band)
    assert med["imbalance"][col["band_0_35Hz"]] > 3 * med["normal"][col["band_0_35Hz"]]
    # misalignment: strong 2x (40-60 Hz)
    assert med["misalignment"][col["band_35_75Hz"]] > 3 * med["normal"][col["band_35_75Hz"]]
    # bearing fault: impulsive (kurtosis above Gaussian's 3) with energy at the resonance
    assert med["bearing_fault"][col["kurtosis"]] > med["normal"][col["kurtosis"]]
    assert (
        med["bearing_fault"][col["band_1000_2048Hz"]] > 3 * med["normal"][col["band_1000_2048Hz"]]
    )
    # Gaussian-like normal windows: kurtosis near 3, crest factor near 3-4
    assert 2.0 < med["normal"][col["kurtosis"]] < 4.0


def test_band_energies_add_up_to_the_mean_square(vibration):
    F = vibration_features(vibration[0].windows[:20])
    np.testing.assert_allclose(F[:, 4:].sum(axis=1), F[:, 0] ** 2, rtol=1e-9)


def test_quantized_features_are_int16_integers(vibration):
    Q = vibration_features(vibration[0].windows[:20], quantize=True)
    assert np.array_equal(Q, np.round(Q)) and Q.min() >= -32768 and Q.max() <= 32767


def test_c_features_match_numpy(vibration):
    check = verify_features(vibration[0].windows[:80])
    assert check.passed
    assert check.table["max_rel_error"].max() < 1e-4
    assert check.table["quantized_match_%"].min() >= 98.0
    assert check.summary()["windows"] == 80
    assert len(check.to_frame()) == len(feature_names())


def test_raw_window_to_class_in_c_matches_sklearn(vibration):
    _data, Xtr, ytr, Xte, yte, Wte = vibration
    rf = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0).fit(Xtr, ytr)
    art = export(rf, Xte, yte)
    assert art.dtype == "int16" and art.parity.match_rate == 100.0
    rep = verify_pipeline(art, rf, Wte, yte)
    assert rep.model_match_on_c_features == 100.0
    assert rep.end_to_end_match >= 98.0, rep.explanation
    assert rep.features.passed
    assert {r["target"] for r in rep.sizes} >= {rep.sizes[0]["target"]}
    assert all(r["flash_bytes"] > art.flash_bytes for r in rep.sizes)  # FFT + features on top
    assert rep.to_dict()["accuracy_c"] is not None


def test_pipeline_with_float_features(vibration):
    data, *_ = vibration
    F = vibration_features(data.windows)
    nb = GaussianNB().fit(F[:160], data.y[:160])
    art = export(nb, F[160:], targets=["host"])
    rep = verify_pipeline(art, nb, data.windows[160:], targets=["host"])
    assert not rep.quantize
    assert rep.end_to_end_match >= 98.0


def test_c_source_has_the_interface():
    src = features_c_source(n_samples=256)
    assert "#define VIB_N_SAMPLES 256" in src and "vib_quantize" in src and "eml_fft" in src


def test_bad_input_to_the_demo(vibration):
    with pytest.raises(InputError, match=r"n_per_class must lie in \[1, 5000\]"):
        make_vibration_windows(0)
    with pytest.raises(InputError, match="power of two"):
        make_vibration_windows(2, n_samples=1000)
    with pytest.raises(InputError, match="at least 4096"):
        make_vibration_windows(2, fs=1000.0)
    with pytest.raises(InputError, match="2-dimensional"):
        vibration_features(np.zeros(1024))
    with pytest.raises(InputError, match="power-of-two"):
        vibration_features(np.zeros((2, 100)))
    with pytest.raises(InputError, match="must increase"):
        vibration_features(np.zeros((2, 1024)), band_edges=(0, 100, 50))
    with pytest.raises(InputError, match="within"):
        features_c_source(band_edges=(0, 100, 5000))
    with pytest.raises(InputError, match="holds no FFT bin"):
        vibration_features(np.zeros((2, 64)), band_edges=(0, 1, 2, 2048))
    with pytest.raises(InputError, match="NaN"):
        verify_features(np.full((2, 1024), np.nan))


def test_bad_input_to_verify_pipeline(vibration, wine_split):
    _data, Xtr, ytr, Xte, _, Wte = vibration
    with pytest.raises(InputTypeError, match="EdgeArtifact"):
        verify_pipeline("header.h", None, Wte)
    Xw, _, yw, _ = wine_split
    nb = GaussianNB().fit(Xw, yw)
    art = export(nb, Xw, targets=["host"])
    with pytest.raises(InputError, match="takes 13 features"):
        verify_pipeline(art, nb, Wte)
    rf = RandomForestClassifier(n_estimators=2, random_state=0).fit(Xtr, ytr)
    art2 = export(rf, Xte, targets=["host"])
    with pytest.raises(InputError, match="different numbers of rows"):
        verify_pipeline(art2, rf, Wte, y=[0, 1])


def test_missing_compiler_for_the_feature_code(vibration):
    from workbench.core.errors import DependencyError

    with pytest.raises(DependencyError, match="apt-get install gcc"):
        verify_features(vibration[0].windows[:2], cc="/nonexistent/cc")


def test_more_bad_numbers():
    with pytest.raises(InputError, match=r"fs must lie in \[4096, inf\)"):
        make_vibration_windows(2, fs=-1.0)
    with pytest.raises(InputError, match=r"fs must lie in \(0, inf\)"):
        vibration_features(np.zeros((2, 1024)), fs=0.0)
    with pytest.raises(InputError, match="power of two"):
        features_c_source(n_samples=1000)
    with pytest.raises(InputError, match=r"rtol must lie in \(0, inf\)"):
        verify_features(np.zeros((2, 1024)), rtol=0.0)
