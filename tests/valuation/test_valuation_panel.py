"""The panel, driven like a user: set widget values, click buttons, read the panel's state."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from workbench.core.errors import InputError
from workbench.valuation import noisy_split, score_without
from workbench.valuation.panel import ValuationPanel

matplotlib.use("Agg")


def test_value_mark_and_retrain_on_breast_cancer():
    panel = ValuationPanel()
    assert "ValuationPanel" in repr(panel) and "0x" not in repr(panel)
    panel.method.value = "knn_shapley"
    panel.run_button.click()
    assert panel.last_error is None
    assert panel.result is not None and panel.result.values.size == panel.split.y.size
    assert panel.detection["auroc"] > 0.9
    assert len(panel.marked.options) == panel.n_show.value
    assert list(panel.suspect_table["index"]) == [v for _, v in panel.marked.options]
    panel.mark_all_button.click()
    assert len(panel.marked.value) == panel.n_show.value
    panel.retrain_button.click()
    assert panel.last_error is None
    assert panel.retrain["n_dropped"] == panel.n_show.value
    assert 0.8 < panel.retrain["after"] <= 1.0
    assert "→" in panel.status.value


def test_digits_shows_image_grid_with_budgeted_method():
    panel = ValuationPanel()
    panel.dataset.value = "digits"
    panel.method.value = "data_oob"
    panel.model.value = "gaussian_nb"
    panel.max_time.value = 2.0
    panel.run_button.click()
    assert panel.last_error is None
    assert panel.result.method == "data_oob" and "time budget" in panel.result.stop_reason
    assert panel.split.images.shape[1:] == (8, 8)
    assert len(panel.figure.axes) >= panel.n_show.value
    assert panel.suspect_table is None


def test_bad_input_is_shown_not_raised():
    panel = ValuationPanel()
    panel.retrain_button.click()
    assert "Value the points first" in panel.last_error
    panel.method.value = "banzhaf"
    panel.max_time.value = -1.0
    panel.run_button.click()
    assert "max_time must lie in (0, 86400]" in panel.last_error
    assert panel.result is None
    panel.method.value = "knn_shapley"
    panel.run_button.click()
    assert panel.last_error is None
    panel.marked.value = ()
    panel.retrain_button.click()
    assert "No point is marked" in panel.last_error


def test_noisy_split_and_score_without():
    split = noisy_split("wine", 0.2, random_state=1)
    assert split.flipped.sum() == round(0.2 * split.y.size)
    assert (split.y[split.flipped] != split.y_clean[split.flipped]).all()
    assert "NoisySplit(name='wine'" in repr(split)
    out = score_without(np.flatnonzero(split.flipped), split.X, split.y, split.X_test, split.y_test)
    assert out["n_dropped"] == split.flipped.sum() and 0 < out["after"] <= 1
    with pytest.raises(InputError, match="regression task"):
        noisy_split("diabetes")
    with pytest.raises(InputError, match="flip_fraction must"):
        noisy_split("wine", 1.0)
    with pytest.raises(InputError, match="drop must hold row indices"):
        score_without([10_000], split.X, split.y, split.X_test, split.y_test)
