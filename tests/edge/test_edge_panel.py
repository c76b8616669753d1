"""EdgePanel driven like a user: set widget values, click buttons, read the state."""

from __future__ import annotations

import base64

import pytest

from workbench.edge.panel import EDGE_MODELS, EdgePanel


@pytest.fixture
def panel():
    p = EdgePanel()
    p.n_per_class.value = 40
    return p


def test_constructs_without_arguments():
    p = EdgePanel()
    assert p.result is None and p.last_error is None
    assert "EdgePanel" in repr(p)


def test_train_export_and_download(panel):
    panel.model_choice.value = "random_forest_small"
    panel.train_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.model is not None and "held-out accuracy" in panel.report.value
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    art = panel.result
    assert art.parity.match_rate == 100.0 and art.dtype == "int16"
    assert panel.pipeline.model_match_on_c_features == 100.0
    assert "Parity with scikit-learn" in panel.report.value
    assert panel.code.value == art.header
    link = panel.download.value
    assert "download='vibration_model.h'" in link
    payload = link.split("base64,")[1].split("'")[0]
    assert base64.b64decode(payload).decode() == art.header
    assert "download='vibration_model.csv'" in link  # int16 trees: the MicroPython form


def test_shrink_into_budget_shows_tradeoff(panel):
    panel.model_choice.value = "decision_tree_depth8"
    panel.train_button.click()
    panel.flash_budget.value = 700
    panel.shrink.value = True
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.budget_result is not None
    assert panel.result.flash_bytes <= 700


def test_errors_are_shown_not_raised(panel):
    panel.export_button.click()
    assert "Train a model first" in panel.last_error
    panel.model_choice.value = EDGE_MODELS[0]
    panel.train_button.click()
    panel.flash_budget.value = 100
    panel.shrink.value = False
    panel.export_button.click()
    assert "over the budget" in panel.last_error
    panel.flash_budget.value = -1
    panel.export_button.click()
    assert "Flash budget must be >= 0" in panel.last_error
    panel.flash_budget.value = 0
    panel.cc.value = "/nonexistent/no-cc"
    panel.export_button.click()
    assert "apt-get install gcc" in panel.last_error


def test_non_tree_model_with_float_features(panel):
    panel.model_choice.value = "gaussian_nb"
    panel.quantize.value = False
    panel.train_button.click()
    panel.flash_budget.value = 0
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.result.dtype == "float32"
    assert not panel.pipeline.quantize


@pytest.mark.parametrize("seed", [-1, 2**40])
def test_bad_seed_shows_the_workbench_message(panel, seed):
    panel.seed.value = seed
    panel.train_button.click()
    assert panel.last_error is not None and "Seed must lie in" in panel.last_error
    assert not panel.last_error.startswith("Unexpected error")
    assert panel.model is None


def test_bad_compiler_and_budget_show_the_workbench_message(panel):
    panel.model_choice.value = "decision_tree_depth8"
    panel.train_button.click()
    panel.cc.value = "gcc\x00"
    panel.export_button.click()
    assert "not a compiler name" in panel.last_error
    panel.cc.value = ""
    panel.flash_budget.value = 10**12
    panel.export_button.click()
    assert "flash_budget must lie in" in panel.last_error
