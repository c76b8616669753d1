"""Membership-inference attack scores computed from model outputs (higher = more likely a member).

Every function here works on arrays that the audit collects once: the target model's probability
of the true class for each record, and the same quantity from reference ("shadow") models together
with whether each reference model trained on the record. No model is trained here.

Attacks
-------
``loss``
    Global threshold on the target's loss (Yeom et al. 2018). The same ranking as a threshold on
    the confidence in the true class.
``calibrated``
    Per-example threshold (Watson et al. 2022): the target's loss compared with the mean loss of
    reference models that did not train on the record, so hard records are not mistaken for
    members.
``lira_offline`` / ``lira_online``
    Likelihood-ratio attack (Carlini et al. 2022) on the logit-scaled confidence
    ``log(p / (1 - p))``: Gaussians fitted per record to the reference models that did not
    (offline) or did and did not (online) train on it.
``rmia``
    Relative membership inference (Zarifzadeh et al. 2024): the target's likelihood ratio
    ``p(x | target) / p(x)`` against the same ratio for population records ``z``.
``label_only``
    For models that only return labels: how often the record stays correctly classified under
    small Gaussian perturbations (Choquette-Choo et al. 2021).
"""

from __future__ import annotations

import numpy as np

from workbench.core.errors import InputError

__all__ = [
    "ATTACKS",
    "NEEDS_PROBA",
    "NEEDS_REFERENCES",
    "calibrated_scores",
    "clip_epsilon",
    "lira_offline_scores",
    "lira_online_scores",
    "logit_confidence",
    "loss_scores",
    "rmia_scores",
]

ATTACKS: tuple[str, ...] = (
    "loss",
    "calibrated",
    "lira_offline",
    "lira_online",
    "rmia",
    "label_only",
)
"""Names accepted by ``audit(attacks=...)``, in the order reports list them."""

NEEDS_PROBA: frozenset[str] = frozenset(ATTACKS) - {"label_only"}
"""Attacks that need ``predict_proba``."""

NEEDS_REFERENCES: frozenset[str] = frozenset({"calibrated", "lira_offline", "lira_online", "rmia"})
"""Attacks that need reference (shadow) models."""

_EPS_FLOOR = 1e-15


def clip_epsilon(p_reference: np.ndarray) -> float:
    """Clipping level for probabilities, chosen from reference-model outputs only.

    Probabilities of exactly 0 or 1 (a fully grown random forest gives many) have an infinite
    logit. They are clipped to ``[eps, 1 - eps]`` with ``eps`` half the smallest distance to 0 or 1
    seen strictly inside (0, 1) among the *reference* outputs: saturated values land just beyond
    the most extreme finite one. Looking at the target's outputs to choose ``eps`` would let the
    evaluation peek at the answer.

    Parameters
    ----------
    p_reference : numpy.ndarray
        Probabilities of the true class from reference models (any shape).

    Returns
    -------
    float
        ``eps`` in ``[1e-15, 0.25]``.
    """
    p = np.asarray(p_reference, dtype=float).ravel()
    inside = p[(p > 0.0) & (p < 1.0)]
    if inside.size == 0:
        return 1e-6
    gap = float(np.min(np.minimum(inside, 1.0 - inside)))
    return float(np.clip(gap / 2.0, _EPS_FLOOR, 0.25))


def logit_confidence(p: np.ndarray, eps: float) -> np.ndarray:
    """``log(p / (1 - p))`` of probabilities clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities of the true class (any shape).
    eps : float
        Clipping level (see :func:`clip_epsilon`).

    Returns
    -------
    numpy.ndarray
        Same shape as ``p``, finite.
    """
    q = np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)
    return np.log(q) - np.log1p(-q)


def loss_scores(p_target: np.ndarray, eps: float) -> np.ndarray:
    """Negative cross-entropy loss of the target on each record's true class.

    Parameters
    ----------
    p_target : numpy.ndarray of shape (n_records,)
        Target's probability of the true class.
    eps : float
        Clipping level, so that a probability of 0 has a finite loss.

    Returns
    -------
    numpy.ndarray of shape (n_records,)
    """
    return np.log(np.clip(p_target, eps, 1.0))


def _masked_mean_var(
    values: np.ndarray, mask: np.ndarray, fixed_variance: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-record mean and variance of ``values`` over reference rows where ``mask`` holds."""
    count = mask.sum(axis=0)
    if np.any(count == 0):
        raise InputError(
            "Some records have no reference model on one side (trained on / not trained on); "
            "use more shadow models (n_shadows >= 4)."
        )
    mean = np.where(mask, values, 0.0).sum(axis=0) / count
    dev2 = np.where(mask, (values - mean) ** 2, 0.0)
    pooled = float(dev2.sum() / max(int(mask.sum()) - mask.shape[1], 1))
    pooled = max(pooled, 1e-12)
    if fixed_variance:
        return mean, np.full(mean.shape, pooled)
    per = dev2.sum(axis=0) / np.maximum(count - 1, 1)
    # A record seen by fewer than two models has no usable variance of its own.
    var = np.where(count >= 2, np.maximum(per, 1e-12), pooled)
    return mean, var


def calibrated_scores(
    p_target: np.ndarray, p_ref: np.ndarray, in_ref: np.ndarray, eps: float
) -> np.ndarray:
    """Per-example calibrated loss: mean OUT-reference loss minus the target's loss.

    Parameters
    ----------
    p_target : numpy.ndarray of shape (n_records,)
        Target's probability of the true class.
    p_ref : numpy.ndarray of shape (n_refs, n_records)
        Reference models' probability of the true class.
    in_ref : numpy.ndarray of bool, shape (n_refs, n_records)
        Whether each reference model trained on each record.
    eps : float
        Clipping level (see :func:`clip_epsilon`).

    Returns
    -------
    numpy.ndarray of shape (n_records,)
    """
    loss_ref = -np.log(np.clip(p_ref, eps, 1.0))
    mean_out, _ = _masked_mean_var(loss_ref, ~in_ref, True)
    return mean_out + loss_scores(p_target, eps)


def lira_offline_scores(
    p_target: np.ndarray,
    p_ref: np.ndarray,
    in_ref: np.ndarray,
    eps: float,
    *,
    fixed_variance: bool = True,
) -> np.ndarray:
    """Offline LiRA: one-sided test against the OUT Gaussian of the logit-scaled confidence.

    The score is the z-value ``(phi - mu_out) / sigma_out``; the one-sided p-value is a monotone
    function of it, and the z-value does not saturate at 1.0 for extreme records (which would
    create ties exactly where low-FPR statistics are read).

    Parameters
    ----------
    p_target, p_ref, in_ref, eps
        See :func:`calibrated_scores`.
    fixed_variance : bool, default=True
        Use one variance pooled over records (recommended below ~64 reference models).

    Returns
    -------
    numpy.ndarray of shape (n_records,)
    """
    phi_t = logit_confidence(p_target, eps)
    phi_ref = logit_confidence(p_ref, eps)
    mu_out, var_out = _masked_mean_var(phi_ref, ~in_ref, fixed_variance)
    return (phi_t - mu_out) / np.sqrt(var_out)


def lira_online_scores(
    p_target: np.ndarray,
    p_ref: np.ndarray,
    in_ref: np.ndarray,
    eps: float,
    *,
    fixed_variance: bool = True,
) -> np.ndarray:
    """Online LiRA: log-likelihood ratio of the IN and OUT Gaussians at the target's logit.

    Parameters
    ----------
    p_target, p_ref, in_ref, eps
        See :func:`calibrated_scores`.
    fixed_variance : bool, default=True
        Use one variance per side pooled over records.

    Returns
    -------
    numpy.ndarray of shape (n_records,)
    """
    phi_t = logit_confidence(p_target, eps)
    phi_ref = logit_confidence(p_ref, eps)
    mu_in, var_in = _masked_mean_var(phi_ref, in_ref, fixed_variance)
    mu_out, var_out = _masked_mean_var(phi_ref, ~in_ref, fixed_variance)
    log_in = -0.5 * ((phi_t - mu_in) ** 2 / var_in + np.log(var_in))
    log_out = -0.5 * ((phi_t - mu_out) ** 2 / var_out + np.log(var_out))
    return log_in - log_out


def rmia_scores(
    p_target: np.ndarray,
    p_ref: np.ndarray,
    eps: float,
    *,
    population: np.ndarray | None = None,
    gamma: float = 1.0,
) -> np.ndarray:
    """RMIA score: share of population records ``z`` with ``LR(x) / LR(z) >= gamma``.

    ``LR(x) = p(x | target) / p(x)`` where ``p(x)`` averages the reference models (online: they
    trained on random halves of the population, so the mean covers IN and OUT). The share is a
    step function with ties at its top; ties are broken by ``LR(x)`` itself, added with a weight
    far smaller than one step so it never reorders two different shares.

    Parameters
    ----------
    p_target : numpy.ndarray of shape (n_records,)
    p_ref : numpy.ndarray of shape (n_refs, n_records)
    eps : float
        Clipping level.
    population : numpy.ndarray of int, optional
        Indices of the records used as ``z``; all records by default.
    gamma : float, default=1.0
        Likelihood-ratio margin.

    Returns
    -------
    numpy.ndarray of shape (n_records,)
    """
    log_lr = np.log(np.clip(p_target, eps, 1.0)) - np.log(np.clip(np.mean(p_ref, axis=0), eps, 1.0))
    z = log_lr if population is None else log_lr[population]
    z_sorted = np.sort(z)
    share = np.searchsorted(z_sorted, log_lr - np.log(gamma), side="right") / z_sorted.size
    tie_break = 0.5 + np.arctan(log_lr) / np.pi  # in (0, 1), monotone in LR(x)
    return share + tie_break / (4.0 * z_sorted.size)
