"""EdgePanel driven like a user: set widget values, click buttons, read the state."""

from __future__ import annotations

import base64
import html
import io
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

import workbench.edge.panel as edge_panel
from tests.ui.picking import bad_picks, upload_value
from workbench.core.tables import load_table
from workbench.core.workspace import Workspace
from workbench.edge import TargetTimeoutError
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


# ------------------------------------------------------------------ the user's own data


def _user_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A user's table with its own ids (1000, 1001, ...), integer features and a category."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 50, n)
    b = rng.integers(0, 20, n)
    plan = rng.choice(["basic", "pro"], n)
    label = ((a > 25) ^ (plan == "pro")).astype(int)
    return pd.DataFrame(
        {"customer_id": np.arange(1000, 1000 + n), "a": a, "b": b, "plan": plan, "label": label}
    )


@pytest.fixture
def ws():
    w = Workspace(":memory:")
    yield w
    w.close()


def test_main_button_runs_on_the_users_table(ws):
    df = _user_frame()
    p = EdgePanel(df, target="label", workspace=ws)
    assert p.data_picker.source.value == "given"
    p.model_choice.value = "decision_tree_depth8"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    frame = p.parity
    assert list(frame.columns) == ["customer_id", "sklearn_prediction", "c_prediction", "match"]
    assert len(frame) == 36 and set(frame["customer_id"]) <= set(df["customer_id"])
    assert frame["customer_id"].min() >= 1000 and frame["match"].all()
    assert p.result.parity.n_samples == 36 and p.result.parity.match_rate == 100.0
    assert p.result.n_features == 4 and p.pipeline is None  # a, b and plan one-hot
    assert "one-hot" in p.report.value and "plan=" in p.report.value
    assert ws.tables() == []  # nothing written until the user saves
    # Save to the workspace, and download the same rows as CSV.
    assert p.export.name.value == "edge_parity"
    p.export.save_button.click()
    assert p.last_error is None and ws.tables() == ["edge_parity"]
    saved = ws.sql("SELECT * FROM edge_parity ORDER BY customer_id").df()
    assert saved["customer_id"].tolist() == frame["customer_id"].tolist()
    payload = p.export.download.value.split("base64,")[1].split("'")[0]
    csv = pd.read_csv(io.BytesIO(base64.b64decode(payload)))
    pd.testing.assert_frame_equal(csv, frame.reset_index(drop=True))


def test_users_fitted_model_is_used_as_given(ws):
    df = _user_frame()
    clf = DecisionTreeClassifier(max_depth=4, random_state=0).fit(df[["a", "b"]], df["label"])
    p = EdgePanel(df[["customer_id", "a", "b", "label"]], target="label", model=clf, workspace=ws)
    assert p.model_picker.source.value == "given"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert p.model is clf
    frame = p.parity
    assert frame["customer_id"].tolist() == df["customer_id"].tolist()  # every row checked
    assert (frame["sklearn_prediction"] == clf.predict(df[["a", "b"]])).all()
    assert frame["match"].all()


def test_users_model_fitted_on_the_encoded_table(ws):
    """A model fitted on ``table.X`` (categories one-hot) is exported as it is."""
    df = _user_frame()
    table = load_table(df, target="label")
    clf = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)
    clf.fit(table.X, table.y)
    p = EdgePanel(df, target="label", model=clf, workspace=ws)
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert p.model is clf and p.result.n_features == len(table.feature_names_out) == 4
    assert p.parity["customer_id"].tolist() == df["customer_id"].tolist()
    assert (p.parity["sklearn_prediction"] == clf.predict(table.X)).all()
    assert "plan=pro" in p.report.value and "one-hot" in p.report.value


def test_variable_and_upload_sources(ws):
    df = _user_frame()
    ns = {"frame": df}
    p = EdgePanel(workspace=ws, namespace=ns)
    assert p.data_picker.source.value == "demo"
    p.data_picker.source.value = "variable"
    assert p.data_picker.variable.value == "frame"
    p.data_picker.target.value = "label"
    p.model_choice.value = "gaussian_nb"
    p.train_button.click()
    assert p.last_error is None, p.last_error
    assert "held-out accuracy" in p.report.value and p.result is None
    p.data_picker.source.value = "upload"
    p.data_picker.upload.value = upload_value("mine.csv", df.to_csv(index=False).encode())
    p.data_picker.target.value = "label"
    p.main_button.click()  # the data changed: trains again on the upload, then exports
    assert p.last_error is None, p.last_error
    assert set(p.parity["customer_id"]) <= set(df["customer_id"]) and len(p.parity) == 36


def _bad_sources():
    def nan_target(ws):
        df = _user_frame()
        df.loc[3, "label"] = np.nan
        return EdgePanel(df, target="label", workspace=ws), "missing"

    def not_fitted(ws):
        model = DecisionTreeClassifier()
        return EdgePanel(_user_frame(), target="label", model=model, workspace=ws), "fit"

    def wrong_features(ws):
        df = _user_frame()
        clf = DecisionTreeClassifier().fit(df[["a", "b"]], df["label"])
        return EdgePanel(df, target="label", model=clf, workspace=ws), "do not match"

    return {"nan_target": nan_target, "not_fitted": not_fitted, "wrong_features": wrong_features}


@pytest.mark.parametrize("case", sorted(_bad_sources()))
def test_bad_table_or_model_shows_a_message(case, ws):
    p, words = _bad_sources()[case](ws)
    p.main_button.click()
    assert p.last_error is not None and words in p.last_error, p.last_error
    assert not p.last_error.startswith("Unexpected error")
    assert p.result is None and p.parity is None and ws.tables() == []


def test_bad_picks_keep_the_last_result(ws):
    df = _user_frame()
    ns = {"frame": df}
    p = EdgePanel(df, target="label", workspace=ws, namespace=ns)
    p.model_choice.value = "decision_tree_depth8"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    before, parity = p.result, p.parity
    picker = p.data_picker

    for pick, words in bad_picks(picker, ns, "frame"):
        pick()
        p.main_button.click()
        assert p.last_error is not None and words in p.last_error, (words, p.last_error)
        assert p.result is before and p.parity is parity
    assert ws.tables() == []


# ------------------------------------------- pipelines, boosted trees and the emulated target


@pytest.fixture(scope="module")
def target_tools():
    """Skip without the emulator and cross compiler, or fail when CI requires them."""
    missing = [
        f"{prog} (apt-get install {pkg})"
        for prog, pkg in (
            ("qemu-system-arm", "qemu-system-arm"),
            ("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
        )
        if shutil.which(prog) is None
    ]
    if missing:
        msg = "emulated-target test needs " + " and ".join(missing)
        if os.environ.get("WORKBENCH_REQUIRE_QEMU") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def test_model_types_offer_the_scaled_mlp_and_boosted_trees():
    p = EdgePanel()
    builders, labels = p.model_picker.models, {v: k for k, v in p.model_choice.options}
    assert list(builders) == list(labels) == list(EDGE_MODELS)
    pipe = builders["scaled_mlp_small"](3)
    assert isinstance(pipe, Pipeline)
    assert [type(s).__name__ for _, s in pipe.steps] == ["StandardScaler", "MLPClassifier"]
    assert pipe[-1].random_state == 3
    assert isinstance(builders["gradient_boosting_small"](0), GradientBoostingClassifier)
    assert isinstance(builders["hist_gradient_boosting_small"](0), HistGradientBoostingClassifier)
    assert builders["random_forest_small"](5).random_state == 5  # catalogue types too
    assert "StandardScaler" in labels["scaled_mlp_small"]
    assert "HistGradientBoosting" in labels["hist_gradient_boosting_small"]


def test_unscaled_mlp_warning_is_shown_then_gone_with_the_pipeline(panel):
    panel.model_choice.value = "mlp_small"  # quantized int features: scales 1 to 1e4
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    assert len(panel.export_warnings) == 1
    assert "StandardScaler" in panel.export_warnings[0]
    assert "UnscaledFeaturesWarning" in panel.report.value
    assert html.escape(panel.export_warnings[0]) in panel.report.value
    panel.model_choice.value = "scaled_mlp_small"
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.export_warnings == []
    assert "UnscaledFeaturesWarning" not in panel.report.value
    art = panel.result
    assert art.estimator.startswith("Pipeline(StandardScaler, MLPClassifier")
    assert art.parity.match_rate == 100.0
    assert panel.pipeline.end_to_end_match == 100.0  # raw window -> scaler -> MLP, all in C
    assert "Pipeline" in panel.report.value


@pytest.mark.parametrize(
    ("choice", "estimator"),
    [
        ("gradient_boosting_small", "GradientBoostingClassifier"),
        ("hist_gradient_boosting_small", "HistGradientBoostingClassifier"),
    ],
)
def test_boosted_models_export_within_the_default_budget(panel, choice, estimator):
    panel.model_choice.value = choice
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    art = panel.result
    assert type(panel.model).__name__ == estimator == art.estimator
    assert art.parity.match_rate == 100.0 and art.parity.max_proba_error < 1e-5
    assert art.flash_bytes <= panel.flash_budget.value == 8192
    assert panel.parity["match"].all() and panel.target_report is None
    assert "Emulated Cortex-M4F" not in panel.report.value  # not asked for


def test_missing_qemu_is_a_message_and_the_export_stands(panel, monkeypatch):
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda cmd, *a, **k: None if "qemu" in str(cmd) else which(cmd, *a, **k)
    )
    panel.model_choice.value = "decision_tree_depth8"
    panel.verify_target.value = True
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.result is not None and panel.result.parity.match_rate == 100.0
    assert panel.target_report is None
    assert "apt-get install qemu-system-arm" in panel.report.value
    assert "verified on the host only" in panel.report.value


def test_a_failed_target_run_is_shown_and_the_export_stands(panel, monkeypatch):
    def times_out(*args, **kwargs):
        raise TargetTimeoutError("QEMU ran past timeout_s=60 s and was stopped; raise timeout_s.")

    monkeypatch.setattr(edge_panel, "verify_on_target", times_out)
    panel.model_choice.value = "decision_tree_depth8"
    panel.verify_target.value = True
    panel.export_button.click()
    assert panel.last_error is not None and "timeout_s" in panel.last_error
    assert panel.result is not None and panel.parity is not None  # the export stands
    assert panel.target_report is None


def test_boosted_model_verified_on_the_emulated_m4f(panel, target_tools):
    panel.model_choice.value = "gradient_boosting_small"
    panel.quantize.value = False
    panel.verify_target.value = True
    panel.export_button.click()
    assert panel.last_error is None, panel.last_error
    rep = panel.target_report
    assert rep.cpu == "cortex-m4f" and rep.machine == "mps2-an386" and rep.cpu_arch == "v7E-M"
    assert rep.n_samples == len(panel.parity) and rep.match_rate == 100.0
    assert rep.max_proba_error < 1e-5
    assert rep.instructions_per_prediction is not None and rep.instructions_per_prediction > 0
    assert rep.model_flash_bytes == panel.result.flash_bytes  # the same minimal link on M4F
    text = panel.report.value
    assert "Emulated Cortex-M4F" in text and "100.00%" in text
    assert f"about {rep.instructions_per_prediction:,.0f}" in text
    panel.verify_target.value = False
    panel.export_button.click()
    assert panel.target_report is None and "Emulated Cortex-M4F" not in panel.report.value


def test_scaled_pipeline_on_the_users_table_verified_on_target(ws, target_tools):
    df = _user_frame()
    df["b"] = df["b"] * 1e4  # very different scales: the scaler is in the C function
    p = EdgePanel(df, target="label", workspace=ws)
    p.model_choice.value = "scaled_mlp_small"
    p.verify_target.value = True
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert p.result.estimator.startswith("Pipeline(StandardScaler")
    assert p.export_warnings == []
    assert p.target_report.n_samples == len(p.parity) == 36
    assert p.target_report.match_rate == 100.0
