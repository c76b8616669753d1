"""The panel, driven like a user: set widget values, click buttons, read the panel's state."""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from tests.ui.picking import bad_picks, upload_value
from workbench.core.errors import InputError
from workbench.core.workspace import Workspace
from workbench.valuation import noisy_split, score_without
from workbench.valuation.panel import MAX_VALIDATION_ROWS, ValuationPanel

matplotlib.use("Agg")


def test_value_mark_and_retrain_on_breast_cancer():
    panel = ValuationPanel()
    assert "ValuationPanel" in repr(panel) and "0x" not in repr(panel)
    assert panel.data_picker.source.value == "demo" and not panel.flip.disabled
    panel.method.value = "knn_shapley"
    panel.run_button.click()
    assert panel.last_error is None
    assert panel.result is not None and panel.result.values.size == panel.split.y.size
    assert panel.table_run is None
    assert panel.detection["auroc"] > 0.9
    assert len(panel.marked.options) == panel.n_show.value
    assert list(panel.suspect_table["index"]) == [v for _, v in panel.marked.options]
    assert list(panel.values_table.columns) == [
        "index", "label", "value", "rank", "flagged", "flipped",
    ]  # fmt: skip
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


# -- the user's data ----------------------------------------------------------------------------
def _orders(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A user table with its own ids (1000, 1001, ...), a text category and 8% wrong labels."""
    rng = np.random.default_rng(seed)
    amount, visits = rng.normal(0, 1, n), rng.normal(0, 1, n)
    channel = rng.choice(["web", "shop", "phone"], n)
    truth = (amount + visits + (channel == "web") * 0.5 > 0.25).astype(int)
    wrong = rng.random(n) < 0.08
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1000, 1000 + n),
            "amount": 50 + 20 * amount,  # raw scales: the panel standardizes
            "visits": 3 + visits,
            "channel": channel,
            "returned": np.where(wrong, 1 - truth, truth),
        }
    )
    return frame, wrong


def test_user_table_values_every_row_under_its_own_ids():
    frame, wrong = _orders()
    ws = Workspace(":memory:")
    panel = ValuationPanel(frame, target="returned", workspace=ws, namespace={})
    assert panel.data_picker.source.value == "given" and panel.flip.disabled
    assert panel.method.value == "knn_shapley"
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.split is None and panel.table_run.table.id == "order_id"
    vt = panel.values_table
    assert list(vt.columns) == ["order_id", "label", "value", "rank", "flagged"]
    assert vt["order_id"].tolist() == frame["order_id"].tolist()  # the user's rows, in order
    np.testing.assert_array_equal(vt["label"], frame["returned"])  # labels as given, no flips
    assert sorted(vt["rank"]) == list(range(1, len(frame) + 1))
    assert panel.result.values.size == len(frame)
    assert "two halves" in panel.result.stop_reason
    # Each half is valued on the other: every row gets a value, and wrong labels come out low.
    assert roc_auc_score(wrong, -vt["value"]) > 0.85
    flagged = vt["flagged"].to_numpy()
    assert flagged.dtype == bool and 0 < flagged.sum() <= np.ceil(0.05 * len(frame))
    assert (vt.loc[flagged, "value"] < 0).all()
    assert vt.loc[flagged, "value"].max() <= vt.loc[~flagged, "value"].min()
    label = panel.marked.options[0][0]
    assert label.startswith("order_id ") and int(label.split()[1].rstrip(":")) >= 1000
    assert panel.suspect_table["order_id"].tolist() == [
        frame["order_id"][i] for _, i in panel.marked.options
    ]
    assert ws.tables() == []  # nothing is written until the user saves


def test_flag_share_bounds_the_flags_and_retrain_drops_them():
    frame, wrong = _orders(seed=1)
    panel = ValuationPanel(frame, target="returned", workspace=Workspace(":memory:"), namespace={})
    panel.flag_share.value = 0.1
    panel.run_button.click()
    flagged = panel.values_table["flagged"].to_numpy()
    assert 0 < flagged.sum() <= 40 and wrong[flagged].mean() > 0.5
    panel.mark_flagged_button.click()
    assert sorted(panel.marked.value) == np.flatnonzero(flagged).tolist()
    panel.retrain_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.retrain["n_dropped"] == flagged.sum()
    assert 0.5 < panel.retrain["before"] <= 1 and 0.5 < panel.retrain["after"] <= 1
    assert "other half" in panel.status.value


def test_users_model_is_refit_as_a_clone_and_left_untouched():
    frame, _ = _orders(200)
    table = ValuationPanel(frame, target="returned", namespace={}).data_picker.load()
    model = LogisticRegression(C=0.5).fit(table.X, table.y)
    coef = model.coef_.copy()
    panel = ValuationPanel(frame, target="returned", model=model, namespace={})
    assert panel.model_picker.source.value == "given"
    panel.method.value = "data_oob"
    panel.max_time.value = 1.0
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.result.params["model"] == "LogisticRegression(C=0.5)"
    assert panel.values_table["order_id"].tolist() == frame["order_id"].tolist()
    np.testing.assert_array_equal(model.coef_, coef)  # the user's fitted model is not refit
    # An unfitted model of the user's is fine too: valuation fits clones of it anyway.
    panel = ValuationPanel(frame, target="returned", model=LogisticRegression(), namespace={})
    panel.method.value = "tmc_shapley"
    panel.max_time.value = 1.0
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error


def test_model_based_method_on_a_table_uses_both_halves():
    frame, _ = _orders(200)
    panel = ValuationPanel(frame, target="returned", namespace={})
    panel.method.value = "banzhaf"
    panel.max_time.value = 2.0
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    r = panel.result
    assert r.n_fits > 0 and r.values.size == 200 and "two halves" in r.stop_reason
    assert (np.bincount(panel.table_run.folds) == 100).all()
    assert MAX_VALIDATION_ROWS >= 100


def test_save_to_workspace_and_csv_link_hold_the_users_ids():
    frame, _ = _orders(120)
    ws = Workspace(":memory:")
    panel = ValuationPanel(frame, target="returned", workspace=ws, namespace={})
    panel.run_button.click()
    export = panel.export
    assert export.name.value == "valuation_values"
    href = re.search(r"base64,([A-Za-z0-9+/=]+)", export.download.value).group(1)
    csv = pd.read_csv(io.BytesIO(base64.b64decode(href)))
    pd.testing.assert_frame_equal(csv, panel.values_table, check_dtype=False)
    export.save_button.click()
    assert panel.last_error is None and ws.tables() == ["valuation_values"]
    saved = ws.sql("SELECT order_id, flagged FROM valuation_values ORDER BY order_id").df()
    assert saved["order_id"].tolist() == frame["order_id"].tolist()
    assert saved["flagged"].sum() == panel.values_table["flagged"].sum()


def _assert_refused(panel: ValuationPanel, ws: Workspace, words: str, before: object) -> None:
    panel.run_button.click()
    assert panel.last_error is not None and words in panel.last_error.replace("&#x27;", "'")
    assert "Unexpected error" not in panel.last_error
    assert panel.result is before
    assert ws.tables() == ["orders"]  # nothing written by a failed run


def test_bad_user_input_is_a_message_in_the_panel():
    frame, _ = _orders(60)
    ws = Workspace(":memory:")
    ws.add("orders", frame, target="returned")
    nan_target = frame.astype({"returned": float})
    nan_target.loc[3, "returned"] = np.nan
    panel = ValuationPanel(nan_target, target="returned", workspace=ws, namespace={})
    _assert_refused(panel, ws, "1 missing value", None)

    ns = {"orders_df": frame}
    panel = ValuationPanel(frame, target="returned", workspace=ws, namespace=ns)
    panel.run_button.click()
    good = panel.result
    assert good is not None and panel.last_error is None
    for pick, words in bad_picks(panel.data_picker, ns, "orders_df", target="returned"):
        pick()
        _assert_refused(panel, ws, words, good)
    # A fitted model of the user's whose features do not match the table.
    panel = ValuationPanel(
        frame, target="returned", namespace={}, workspace=ws,
        model=LogisticRegression().fit(frame[["amount", "visits"]].to_numpy(), frame["returned"]),
    )  # fmt: skip
    panel.method.value = "data_oob"
    _assert_refused(panel, ws, "expects 2 features", None)
    # A good upload then works, under the upload's ids.
    panel.data_picker.source.value = "upload"
    panel.data_picker.upload.value = upload_value("o.csv", frame.to_csv(index=False).encode())
    panel.data_picker.target.value = "returned"
    panel.method.value = "knn_shapley"
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.values_table["order_id"].tolist() == frame["order_id"].tolist()
