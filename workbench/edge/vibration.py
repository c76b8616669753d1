"""Vibration demo: accelerometer windows of a rotating machine, their features in numpy and in C.

The generator follows the textbook signatures of rotating-machinery faults (ISO 20816 context,
Randall, *Vibration-based Condition Monitoring*, 2011):

* **normal** – a small residual unbalance at the shaft frequency 1x, a weaker 2x, broadband noise
  (sensor and process) and a small DC bias of the accelerometer.
* **imbalance** – the 1x component grows (centrifugal force ``m e omega^2``, so its acceleration
  grows with the square of the speed); the spectrum stays clean and sinusoidal.
* **misalignment** – a strong 2x (and some 3x) component: the coupling forces the shaft twice
  per revolution.
* **bearing_fault** – an outer-race defect: every rolling element that passes the defect hits it,
  at the ball-pass frequency ``BPFO = (Nb / 2) f_r (1 - d/D cos phi)`` (9 balls, ``d/D = 0.25``).
  Each hit rings a structural resonance (1.2-1.8 kHz, 3-8 % damping), giving an impulsive,
  high-kurtosis signal whose energy sits in the high band.

The features (RMS, peak, crest factor, kurtosis and FFT band energies) are computed by
:func:`vibration_features` in numpy and by the C function that :func:`features_c_source`
generates (emlearn's ``eml_fft.h`` FFT), so a raw window becomes a class entirely in C.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from workbench.core.errors import InputError
from workbench.core.params import check_flag, check_random_state, check_size
from workbench.edge.checks import (
    check_band_edges,
    check_fs,
    check_n_samples,
    check_windows,
)

__all__ = [
    "BAND_EDGES_HZ",
    "CLASS_NAMES",
    "VibrationData",
    "feature_names",
    "features_c_source",
    "make_vibration_windows",
    "vibration_features",
]

#: Class labels of the demo, in label order.
CLASS_NAMES = ("normal", "imbalance", "misalignment", "bearing_fault")
#: Default FFT band edges in Hz (last band ends at Nyquist).
BAND_EDGES_HZ = (0.0, 35.0, 75.0, 150.0, 400.0, 1000.0, 2048.0)
#: Fixed integer scales of the quantized features: mg, mg, 1/100, 1/100, then 1/10 dB per band.
_SCALES_TIME = (1000.0, 1000.0, 100.0, 100.0)
_DB_SCALE = 10.0
_EPS = 1e-12
#: Most windows per class of the demo, and most samples in all its windows together (256 MB).
_MAX_PER_CLASS = 5000
_MAX_TOTAL_SAMPLES = 2**25


@dataclasses.dataclass(frozen=True)
class VibrationData:
    """Accelerometer windows with their class.

    Attributes
    ----------
    windows : numpy.ndarray of shape (n_windows, n_samples)
        Acceleration in g.
    y : numpy.ndarray of int
        Class index into :attr:`class_names`.
    rpm : numpy.ndarray
        Shaft speed of each window in revolutions per minute.
    fs : float
        Sampling rate in Hz.
    class_names : tuple of str
    """

    windows: np.ndarray
    y: np.ndarray
    rpm: np.ndarray
    fs: float
    class_names: tuple[str, ...] = CLASS_NAMES

    def __repr__(self) -> str:
        n, m = self.windows.shape
        k = len(self.class_names)
        return f"VibrationData(n_windows={n}, n_samples={m}, fs={self.fs:g}, classes={k})"


def make_vibration_windows(
    n_per_class: int = 100,
    *,
    fs: float = 4096.0,
    n_samples: int = 1024,
    random_state: int | None = None,
) -> VibrationData:
    """Generate labelled accelerometer windows of a machine running at 1200-1800 rpm.

    Parameters
    ----------
    n_per_class : int, default=100
        Windows per class (four classes: :data:`CLASS_NAMES`), at most 5000.
    fs : float, default=4096.0
        Sampling rate in Hz (at least 4096, so the bearing resonance is below Nyquist).
    n_samples : int, default=1024
        Samples per window; a power of two in [64, 32768] (the C feature code uses a radix-2
        FFT with int16 bin indices).
    random_state : int, optional
        Seed: None or an integer in [0, 2**32 - 1].

    Returns
    -------
    VibrationData
        Windows shuffled, labels in :attr:`VibrationData.y`.

    Raises
    ------
    InputTypeError
        If an argument has the wrong type (e.g. a float or text seed).
    InputError
        If a number is out of range, or all windows together would exceed 2**25 samples.
    """
    n_per_class = check_size(
        n_per_class,
        name="n_per_class",
        high=_MAX_PER_CLASS,
        hint="The demo makes four classes of this many windows; a few hundred are plenty.",
    )
    fs = check_fs(
        fs, low=4096.0, hint="fs must be at least 4096 Hz: bearing resonances reach 1.8 kHz."
    )
    n_samples = check_n_samples(n_samples)
    if 4 * n_per_class * n_samples > _MAX_TOTAL_SAMPLES:
        raise InputError(
            f"4 classes x {n_per_class} windows x {n_samples} samples would need "
            f"{4 * n_per_class * n_samples * 8 / 2**20:.0f} MB (limit "
            f"{_MAX_TOTAL_SAMPLES * 8 / 2**20:.0f} MB); ask for fewer or shorter windows."
        )
    random_state = check_random_state(random_state)
    rng = np.random.default_rng(random_state)
    n = 4 * n_per_class
    y = np.repeat(np.arange(4), n_per_class)
    t = np.arange(n_samples) / fs
    windows = np.empty((n, n_samples))
    rpm = np.empty(n)
    for i, label in enumerate(y):
        fr = rng.uniform(20.0, 30.0)
        rpm[i] = 60.0 * fr
        speed = (fr / 25.0) ** 2
        a1 = rng.uniform(0.01, 0.03) * speed
        a2 = rng.uniform(0.1, 0.3) * a1
        a3 = 0.0
        if label == 1:
            a1 *= rng.uniform(1.5, 6.0)
        elif label == 2:
            a2 = rng.uniform(0.3, 1.5) * rng.uniform(0.02, 0.04) * speed
            a3 = rng.uniform(0.2, 0.5) * a2
        ph = rng.uniform(0, 2 * np.pi, size=3)
        x = (
            a1 * np.sin(2 * np.pi * fr * t + ph[0])
            + a2 * np.sin(2 * np.pi * 2 * fr * t + ph[1])
            + a3 * np.sin(2 * np.pi * 3 * fr * t + ph[2])
        )
        if label == 3:
            bpfo = 9 / 2 * fr * (1 - 0.25)
            fn = rng.uniform(1200.0, 1800.0)
            zeta = rng.uniform(0.03, 0.08)
            amp = rng.uniform(0.02, 0.4)
            hit = rng.uniform(0, 1 / bpfo)
            while hit < t[-1]:
                dt = t - hit
                ring = np.exp(-zeta * 2 * np.pi * fn * dt) * np.sin(2 * np.pi * fn * dt)
                x += amp * rng.uniform(0.7, 1.0) * np.where(dt >= 0, ring, 0.0)
                hit += (1 / bpfo) * (1 + rng.normal(0, 0.01))
        x += rng.normal(0, rng.uniform(0.01, 0.04), size=n_samples)
        x += rng.uniform(-0.02, 0.02)
        windows[i] = x
    order = rng.permutation(n)
    return VibrationData(windows=windows[order], y=y[order], rpm=rpm[order], fs=float(fs))


def _band_bins(fs: float, n_samples: int, band_edges: Sequence[float]) -> list[tuple[int, int]]:
    freqs = np.arange(n_samples // 2 + 1) * fs / n_samples
    bins = []
    for j, (lo, hi) in enumerate(itertools.pairwise(band_edges)):
        last = j == len(band_edges) - 2
        idx = np.flatnonzero((freqs >= lo) & ((freqs <= hi) if last else (freqs < hi)))
        if idx.size == 0:
            raise InputError(
                f"Band {lo:g}-{hi:g} Hz holds no FFT bin; widen it or use more samples."
            )
        bins.append((int(idx[0]), int(idx[-1]) + 1))
    return bins


def feature_names(band_edges: Sequence[float] = BAND_EDGES_HZ) -> list[str]:
    """Names of the features :func:`vibration_features` returns, in column order.

    Parameters
    ----------
    band_edges : sequence of float, default=BAND_EDGES_HZ
        Increasing band edges in Hz.

    Returns
    -------
    list of str
    """
    band_edges = check_band_edges(band_edges)
    bands = [f"band_{a:g}_{b:g}Hz" for a, b in itertools.pairwise(band_edges)]
    return ["rms", "peak", "crest_factor", "kurtosis", *bands]


def vibration_features(
    windows: np.ndarray,
    *,
    fs: float = 4096.0,
    band_edges: Sequence[float] = BAND_EDGES_HZ,
    quantize: bool = False,
) -> np.ndarray:
    """Condition-monitoring features of each window (numpy reference of the C code).

    Per window, after removing the mean: RMS, peak ``max|x|``, crest factor ``peak / RMS``,
    kurtosis ``E[x^4] / E[x^2]^2`` (3 for Gaussian noise, large for impulses) and the energy
    (mean-square share, Parseval-scaled) of the one-sided FFT spectrum in each band.

    Parameters
    ----------
    windows : array-like of shape (n_windows, n_samples)
        Acceleration in g; ``n_samples`` a power of two.
    fs : float, default=4096.0
        Sampling rate in Hz.
    band_edges : sequence of float, default=BAND_EDGES_HZ
        Band edges in Hz.
    quantize : bool, default=False
        Return the int16-ready integers instead: RMS and peak in mg, crest and kurtosis x100,
        band energies in tenths of a dB (``10 log10(E)``). These are what an int16 tree uses.

    Returns
    -------
    numpy.ndarray of shape (n_windows, 4 + n_bands)

    Raises
    ------
    InputError
        If ``windows`` is not 2-d, holds NaN, infinities or values that overflow float32, or
        its length is not a power of two in [64, 32768]; or ``fs``/``band_edges`` are invalid.
    """
    W = check_windows(windows)
    n = W.shape[1]
    fs = check_fs(fs)
    edges = check_band_edges(band_edges, fs)
    quantize = check_flag(quantize, name="quantize")
    X = W - W.mean(axis=1, keepdims=True)
    m2 = np.mean(X**2, axis=1)
    rms = np.sqrt(m2)
    peak = np.max(np.abs(X), axis=1)
    # Crest factor and kurtosis are scale-free: compute them on the window divided by its peak,
    # so that neither x**4 nor m2**2 under- or overflows float64 at any float32-sized amplitude.
    Z = X / np.where(peak > 0, peak, 1.0)[:, None]
    z2 = np.mean(Z**2, axis=1)
    live = (peak > 0) & (z2 > 0)
    safe = np.where(live, z2, 1.0)
    crest = np.where(live, 1.0 / np.sqrt(safe), 0.0)
    kurt = np.where(live, np.mean(Z**4, axis=1) / safe**2, 0.0)
    spec = np.abs(np.fft.rfft(X, axis=1)) ** 2
    weight = np.full(spec.shape[1], 2.0)
    weight[0] = 1.0
    weight[-1] = 1.0
    spec = spec * weight / n**2
    bands = [spec[:, a:b].sum(axis=1) for a, b in _band_bins(fs, n, edges)]
    F = np.column_stack([rms, peak, crest, kurt, *bands])
    if quantize:
        return _quantize(F)
    return F


def _quantize(F: np.ndarray) -> np.ndarray:
    Q = np.empty_like(F)
    for j, s in enumerate(_SCALES_TIME):
        Q[:, j] = np.floor(F[:, j] * s + 0.5)
    Q[:, 4:] = np.floor(_DB_SCALE * 10.0 * np.log10(F[:, 4:] + _EPS) + 0.5)
    return np.clip(Q, -32768, 32767)


def features_c_source(
    *, fs: float = 4096.0, n_samples: int = 1024, band_edges: Sequence[float] = BAND_EDGES_HZ
) -> str:
    """C header computing :func:`vibration_features` on the device.

    It defines ``VIB_N_SAMPLES``, ``VIB_N_FEATURES``, ``vib_features(const float *window,
    float *features)`` (float features) and ``vib_quantize(const float *features, float *q)``
    (the integers of ``quantize=True``). The FFT is emlearn's ``eml_fft.h``; its sine/cosine
    table is filled on the first call (static RAM of ``n_samples`` floats, plus two work buffers
    of ``n_samples`` floats).

    Parameters
    ----------
    fs : float, default=4096.0
    n_samples : int, default=1024
        A power of two in [64, 32768].
    band_edges : sequence of float, default=BAND_EDGES_HZ

    Returns
    -------
    str
    """
    fs = check_fs(fs)
    n_samples = check_n_samples(n_samples)
    edges = check_band_edges(band_edges, fs)
    bins = _band_bins(fs, n_samples, edges)
    nb = len(bins)
    starts = ", ".join(str(a) for a, _ in bins)
    stops = ", ".join(str(b) for _, b in bins)
    scales = ", ".join(f"{s:.1f}f" for s in _SCALES_TIME)
    n = n_samples
    return f"""/* Vibration features (generated by workbench.edge): fs={fs:g} Hz, {n} samples. */
#ifndef VIB_FEATURES_H
#define VIB_FEATURES_H
#include <math.h>
#include <stdint.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <eml_fft.h>

#define VIB_N_SAMPLES {n}
#define VIB_N_BANDS {nb}
#define VIB_N_FEATURES {4 + nb}

static const int16_t vib_band_start[{nb}] = {{ {starts} }};
static const int16_t vib_band_stop[{nb}] = {{ {stops} }};
static const float vib_time_scale[4] = {{ {scales} }};
static float vib_sin[{n // 2}], vib_cos[{n // 2}];
static float vib_re[{n}], vib_im[{n}];
static int vib_ready = 0;

static void vib_features(const float *x, float *out) {{
    EmlFFT fft = {{ {n // 2}, vib_sin, vib_cos }};
    if (!vib_ready) {{ eml_fft_fill(fft, {n}); vib_ready = 1; }}
    float mean = 0.0f;
    for (int i = 0; i < {n}; i++) mean += x[i];
    mean /= {n}.0f;
    float s2 = 0.0f, s4 = 0.0f, peak = 0.0f;
    for (int i = 0; i < {n}; i++) {{
        const float d = x[i] - mean;
        const float d2 = d * d;
        s2 += d2;
        s4 += d2 * d2;
        if (fabsf(d) > peak) peak = fabsf(d);
        vib_re[i] = d;
        vib_im[i] = 0.0f;
    }}
    const float m2 = s2 / {n}.0f;
    out[0] = sqrtf(m2);
    out[1] = peak;
    out[2] = m2 > 0.0f ? peak / out[0] : 0.0f;
    out[3] = m2 > 0.0f ? (s4 / {n}.0f) / (m2 * m2) : 0.0f;
    eml_fft_forward(fft, vib_re, vib_im, {n});
    for (int b = 0; b < {nb}; b++) {{
        float e = 0.0f;
        for (int k = vib_band_start[b]; k < vib_band_stop[b]; k++) {{
            const float p = vib_re[k] * vib_re[k] + vib_im[k] * vib_im[k];
            e += (k == 0 || k == {n // 2}) ? p : 2.0f * p;
        }}
        out[4 + b] = e / ((float){n} * (float){n});
    }}
}}

static void vib_quantize(const float *f, float *q) {{
    for (int j = 0; j < 4; j++) q[j] = floorf(f[j] * vib_time_scale[j] + 0.5f);
    for (int j = 4; j < VIB_N_FEATURES; j++)
        q[j] = floorf({_DB_SCALE:.1f}f * 10.0f * log10f(f[j] + {_EPS:g}f) + 0.5f);
    for (int j = 0; j < VIB_N_FEATURES; j++) {{
        if (q[j] < -32768.0f) q[j] = -32768.0f;
        if (q[j] > 32767.0f) q[j] = 32767.0f;
    }}
}}
#endif /* VIB_FEATURES_H */
"""
