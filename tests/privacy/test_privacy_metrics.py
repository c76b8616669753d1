import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from workbench.core.errors import InputError, InputTypeError
from workbench.privacy.metrics import (
    auc,
    is_reliable,
    membership_advantage,
    roc_points,
    threshold_at_fpr,
    tpr_at_fpr,
)


def test_constant_scores_give_no_low_fpr_power():
    # Sorting ties by label would report TPR 1 here; a tied block must move TPR and FPR together.
    labels = np.r_[np.ones(500, bool), np.zeros(500, bool)]
    scores = np.zeros(1000)
    assert tpr_at_fpr(labels, scores, 0.01) == 0.0
    assert auc(labels, scores) == pytest.approx(0.5)
    assert membership_advantage(labels, scores) == pytest.approx(0.0)


def test_tied_top_block_with_one_nonmember_counts_fully():
    labels = np.r_[np.ones(50, bool), np.zeros(200, bool)]
    scores = np.r_[np.full(50, 1.0), 1.0, np.zeros(199)]
    # 51 tied at the top: taking them costs FPR 1/200 = 0.5% > 0.1%, so TPR@0.1% is 0.
    assert tpr_at_fpr(labels, scores, 0.001) == 0.0
    assert tpr_at_fpr(labels, scores, 0.01) == 1.0
    assert threshold_at_fpr(labels, scores, 0.01) == 1.0
    assert threshold_at_fpr(labels, scores, 0.001) == np.inf


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.random(400) < 0.4
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # rounding creates many ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_perfect_separation():
    labels = np.r_[np.ones(10), np.zeros(10)]
    scores = np.r_[np.arange(10) + 100.0, np.arange(10)]
    fpr, tpr, th = roc_points(labels, scores)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert th[0] == np.inf
    assert auc(labels, scores) == 1.0
    assert tpr_at_fpr(labels, scores, 0.01) == 1.0
    assert membership_advantage(labels, scores) == 1.0


def test_is_reliable():
    assert is_reliable(1000, 0.01)
    assert not is_reliable(999, 0.01)
    assert not is_reliable(5000, 0.001)


@pytest.mark.parametrize(
    ("labels", "scores", "exc", "msg"),
    [
        ([1, 0, 1], [0.1, 0.2], InputError, "different numbers of rows"),
        ([1, 1, 1], [0.1, 0.2, 0.3], InputError, "both members"),
        ([0, 0], [0.1, 0.2], InputError, "both members"),
        ([2, 0, 1], [0.1, 0.2, 0.3], InputError, "boolean or 0/1"),
        ([1, 0], [np.nan, 0.2], InputError, "NaN"),
        ([1, 0], [np.inf, 0.2], InputError, "infinite"),
        ([1, 0], ["a", "b"], InputTypeError, "numeric"),
        ([[1, 0]], [0.1, 0.2], InputError, "1-dimensional"),
        ([1, 0], [[0.1, 0.2]], InputError, "1-dimensional"),
    ],
)
def test_bad_labels_and_scores(labels, scores, exc, msg):
    with pytest.raises(exc, match=msg):
        roc_points(labels, scores)


@pytest.mark.parametrize("fpr", [0.0, 1.0, -0.1, 2])
def test_bad_fpr(fpr):
    with pytest.raises(InputError, match="fpr must lie in"):
        tpr_at_fpr([1, 0], [1.0, 0.0], fpr)
    with pytest.raises(InputError, match="fpr must lie in"):
        threshold_at_fpr([1, 0], [1.0, 0.0], fpr)
    with pytest.raises(InputError, match="fpr must lie in"):
        is_reliable(10, fpr)


def test_bad_fpr_type():
    with pytest.raises(InputTypeError, match="fpr"):
        tpr_at_fpr([1, 0], [1.0, 0.0], "1%")
