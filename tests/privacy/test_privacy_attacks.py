import numpy as np
import pytest

from workbench.core.errors import InputError
from workbench.privacy import attacks as atk


def test_clip_epsilon_uses_reference_values_only():
    assert atk.clip_epsilon(np.array([1.0, 0.0, 0.99, 0.5])) == pytest.approx(0.005)
    assert atk.clip_epsilon(np.array([[1.0, 0.0], [1.0, 1.0]])) == 1e-6
    assert atk.clip_epsilon(np.array([1 - 1e-17, 0.3])) == pytest.approx(0.15)
    assert atk.clip_epsilon(np.array([1e-40, 0.5])) == 1e-15


def test_logit_confidence_is_finite_at_saturation():
    phi = atk.logit_confidence(np.array([0.0, 0.5, 1.0]), 1e-3)
    assert np.all(np.isfinite(phi))
    assert phi[1] == pytest.approx(0.0)
    assert phi[2] == pytest.approx(-phi[0])


def _gaussian_refs(rng, n_refs=20, n=300, gap=2.0):
    """Reference logits: IN ~ N(mu + gap, 1), OUT ~ N(mu, 1), mu differs per record."""
    mu = rng.normal(0, 3, n)
    in_ref = rng.random((n_refs, n)) < 0.5
    in_ref[0] = True
    in_ref[1] = False  # every record has both sides
    phi = mu + gap * in_ref + rng.normal(0, 1, (n_refs, n))
    return mu, in_ref, 1 / (1 + np.exp(-phi))


@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_separates_members_from_nonmembers(fixed_variance):
    rng = np.random.default_rng(0)
    mu, in_ref, p_ref = _gaussian_refs(rng)
    member = rng.random(mu.size) < 0.5
    p_t = 1 / (1 + np.exp(-(mu + 2.0 * member + rng.normal(0, 1, mu.size))))
    eps = atk.clip_epsilon(p_ref)
    for fn in (atk.lira_online_scores, atk.lira_offline_scores):
        s = fn(p_t, p_ref, in_ref, eps, fixed_variance=fixed_variance)
        assert s[member].mean() > s[~member].mean() + 1.0
    # Per-record calibration beats a global threshold when records differ in difficulty.
    from workbench.privacy.metrics import auc

    lira = auc(member, atk.lira_online_scores(p_t, p_ref, in_ref, eps))
    assert lira > auc(member, atk.loss_scores(p_t, eps)) + 0.1
    assert auc(member, atk.calibrated_scores(p_t, p_ref, in_ref, eps)) > 0.7


def test_lira_online_is_log_likelihood_ratio():
    # One record, IN refs at 2 +- 1, OUT refs at 0 +- 1, target at 1: equal likelihoods.
    phi_in = np.array([1.0, 3.0])
    phi_out = np.array([-1.0, 1.0])
    p_ref = 1 / (1 + np.exp(-np.r_[phi_in, phi_out]))[:, None]
    in_ref = np.array([True, True, False, False])[:, None]
    p_t = np.array([1 / (1 + np.exp(-1.0))])
    s = atk.lira_online_scores(p_t, p_ref, in_ref, 1e-12, fixed_variance=False)
    assert s[0] == pytest.approx(0.0, abs=1e-9)
    s_off = atk.lira_offline_scores(p_t, p_ref, in_ref, 1e-12, fixed_variance=False)
    assert s_off[0] == pytest.approx(1.0 / np.sqrt(2.0))  # (1 - 0) / std([-1, 1], ddof=1)


def test_reference_side_missing_raises():
    p_ref = np.full((3, 4), 0.5)
    in_ref = np.zeros((3, 4), bool)
    with pytest.raises(InputError, match="n_shadows >= 4"):
        atk.lira_online_scores(np.full(4, 0.5), p_ref, in_ref, 1e-6)


def test_rmia_ranks_by_likelihood_ratio_and_breaks_ties():
    p_ref = np.tile(np.array([0.5, 0.5, 0.5, 0.9]), (4, 1))
    p_t = np.array([0.99, 0.98, 0.6, 0.95])
    s = atk.rmia_scores(p_t, p_ref, 1e-6)
    lr = p_t / p_ref.mean(axis=0)
    assert np.array_equal(np.argsort(s), np.argsort(lr))
    assert np.unique(s).size == 4  # no ties at the top
    assert s.max() <= 1.0 + 1.0 / 16


def test_loss_score_orders_like_confidence():
    p = np.array([0.1, 0.9, 0.5, 1.0, 0.0])
    s = atk.loss_scores(p, 1e-6)
    assert np.array_equal(np.argsort(s), np.argsort(p))
