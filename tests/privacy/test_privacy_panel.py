"""The privacy panel driven like a user: demo audits, and audits of the user's model and table."""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from tests.ui.picking import bad_picks, upload_value
from workbench.core.progress import silenced
from workbench.core.workspace import Workspace
from workbench.privacy.panel import PrivacyPanel
from workbench.ui import DataPicker

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _quiet():
    with silenced():
        yield


def test_panel_runs_an_audit_with_mitigations():
    panel = PrivacyPanel()
    assert "PrivacyPanel" in repr(panel)
    assert panel.data_picker.source.value == "demo" and panel.max_records.value == 300
    panel.dataset.value = "wine"
    panel.model.value = "decision_tree"
    panel.max_records.value = 100
    panel.n_shadows.value = 4
    panel.attacks.value = ("loss", "lira_online")
    panel.mitigations.value = True
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    r = panel.result
    assert r is not None and r.n_records == 100 and r.n_models == 5
    assert list(r.metrics["attack"]) == ["loss", "lira_online"]
    assert r.mitigations is not None and len(r.mitigations.table) == 3
    assert len(panel.figures) == 2
    assert "Done" in panel.status.value
    assert panel.risk_table["record"].tolist() == list(range(100))
    assert panel.export.name.value == "privacy_risk"


def test_panel_shows_bad_input_as_an_error():
    panel = PrivacyPanel()
    panel.n_shadows.value = 1
    panel.max_records.value = 40
    panel.run_button.click()
    assert panel.result is None
    assert "at least 4 shadow models" in panel.last_error
    panel.attacks.value = ()
    panel.run_button.click()
    assert "attacks is empty" in panel.last_error


# -- the user's data ----------------------------------------------------------------------------
def _patients(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A user table with its own ids (1000, ...), a text category and a training-row column."""
    rng = np.random.default_rng(seed)
    age, dose = rng.normal(50, 12, n), rng.normal(0, 1, n)
    ward = rng.choice(["north", "south"], n)
    noisy = (age - 50) / 12 + dose + rng.normal(0, 1.2, n) > 0
    return pd.DataFrame(
        {
            "patient_id": np.arange(1000, 1000 + n),
            "age": age,
            "dose": dose,
            "ward": ward,
            "in_training": np.arange(n) % 2 == 0,
            "relapse": noisy.astype(int),
        }
    )


def _fitted(frame: pd.DataFrame) -> DecisionTreeClassifier:
    """A fully grown tree (it memorizes) fitted on the training rows, on ``table.X``."""
    picker = DataPicker(frame, target="relapse", namespace={}, features=["age", "dose", "ward"])
    table = picker.load()
    train = frame["in_training"].to_numpy()
    return DecisionTreeClassifier(random_state=0).fit(table.X[train], table.y[train])


def _small(panel: PrivacyPanel) -> PrivacyPanel:
    panel.n_shadows.value = 4
    panel.attacks.value = ("loss", "lira_offline")
    return panel


def test_audit_of_the_users_fitted_model_on_the_users_rows():
    frame = _patients()
    model = _fitted(frame)
    probe = frame[["age", "dose"]].assign(w0=1.0, w1=0.0).to_numpy()[:5]
    before = model.predict_proba(probe)
    ws = Workspace(":memory:")
    panel = _small(PrivacyPanel(frame, target="relapse", model=model, members="in_training",
                                workspace=ws, namespace={}))  # fmt: skip
    assert panel.model_picker.source.value == "given" and panel.members.value == "in_training"
    assert "in_training" not in panel.data_picker.features.value  # not a feature
    assert panel.max_records.value == 5000
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    r = panel.result
    assert r.mode == "given" and r.model == "DecisionTreeClassifier" and r.n_records == 240
    risk = panel.risk_table
    assert risk["patient_id"].tolist() == frame["patient_id"].tolist()
    np.testing.assert_array_equal(risk["member"], frame["in_training"])
    assert risk.loc[~risk["member"], "risk"].isna().all()
    assert risk.loc[risk["member"], "risk"].notna().all()
    # The user's model was queried as given: a grown tree is exact on its own training rows.
    assert r.train_accuracy == 1.0 and r.test_accuracy < 1.0
    np.testing.assert_array_equal(model.predict_proba(probe), before)
    assert panel.model_picker.get() is model
    assert ws.tables() == []


def test_catalogue_model_is_trained_by_the_audit_on_the_users_rows():
    frame = _patients(120).drop(columns="in_training")
    panel = _small(PrivacyPanel(frame, target="relapse", namespace={}))
    assert panel.model_picker.source.value == "train" and panel.members.value is None
    panel.model.value = "decision_tree"
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.result.mode == "pooled" and panel.result.n_models == 5
    assert panel.risk_table["patient_id"].tolist() == frame["patient_id"].tolist()
    assert "n_member_models" in panel.risk_table.columns


def test_a_larger_table_is_sampled_and_said_so():
    frame = _patients(240).drop(columns="in_training")
    panel = _small(PrivacyPanel(frame, target="relapse", namespace={}))
    panel.max_records.value = 100
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    ids = panel.risk_table["patient_id"]
    assert len(ids) == 100 and ids.is_unique and set(ids) <= set(frame["patient_id"])
    assert "random sample of 100 of 240 rows" in panel.status.value


def test_save_to_workspace_and_csv_link_hold_the_users_ids():
    frame = _patients()
    ws = Workspace(":memory:")
    panel = _small(PrivacyPanel(frame, target="relapse", model=_fitted(frame),
                                members="in_training", workspace=ws, namespace={}))  # fmt: skip
    panel.run_button.click()
    href = re.search(r"base64,([A-Za-z0-9+/=]+)", panel.export.download.value).group(1)
    csv = pd.read_csv(io.BytesIO(base64.b64decode(href)))
    pd.testing.assert_frame_equal(csv, panel.risk_table, check_dtype=False)
    panel.export.save_button.click()
    assert panel.last_error is None and ws.tables() == ["privacy_risk"]
    saved = ws.sql("SELECT patient_id, member FROM privacy_risk ORDER BY patient_id").df()
    assert saved["patient_id"].tolist() == frame["patient_id"].tolist()
    assert saved["member"].tolist() == frame["in_training"].tolist()


def _assert_refused(panel: PrivacyPanel, ws: Workspace, words: str, before: object) -> None:
    panel.run_button.click()
    assert panel.last_error is not None and words in panel.last_error.replace("&#x27;", "'")
    assert "Unexpected error" not in panel.last_error
    assert panel.result is before
    assert ws.tables() == ["patients"]


def test_bad_user_input_is_a_message_in_the_panel():
    frame = _patients(120)
    model = _fitted(frame)
    ws = Workspace(":memory:")
    ws.add("patients", frame, target="relapse")
    nan_target = frame.astype({"relapse": float})
    nan_target.loc[5, "relapse"] = np.nan
    panel = _small(PrivacyPanel(nan_target, target="relapse", model=model, members="in_training",
                                workspace=ws, namespace={}))  # fmt: skip
    _assert_refused(panel, ws, "1 missing value", None)
    # The user's model, but no column saying which rows it was trained on.
    panel = _small(PrivacyPanel(frame, target="relapse", model=model, workspace=ws, namespace={}))
    _assert_refused(panel, ws, "pick the column that marks them in 'Trained on'", None)
    # A membership column that is not true/false.
    odd = frame.assign(in_training=np.arange(120) % 3)
    panel = _small(PrivacyPanel(odd, target="relapse", model=model, members="in_training",
                                workspace=ws, namespace={}))  # fmt: skip
    _assert_refused(panel, ws, "must hold true/false or 1/0", None)
    # A model that is not fitted, or fitted on other features.
    panel = _small(PrivacyPanel(frame, target="relapse", model=DecisionTreeClassifier(),
                                members="in_training", workspace=ws, namespace={}))  # fmt: skip
    _assert_refused(panel, ws, "not fitted", None)
    narrow = DecisionTreeClassifier().fit(frame[["age", "dose"]].to_numpy(), frame["relapse"])
    ns = {"narrow": narrow, "patients_df": frame}
    panel = _small(PrivacyPanel(frame, target="relapse", model=model, members="in_training",
                                workspace=ws, namespace=ns))  # fmt: skip
    panel.model_picker.source.value = "variable"
    panel.model_picker.variable.value = "narrow"
    _assert_refused(panel, ws, "expects 2 features", None)
    panel.model_picker.source.value = "given"
    panel.run_button.click()
    good = panel.result
    assert good is not None and panel.last_error is None
    for pick, words in bad_picks(panel.data_picker, ns, "patients_df", target="relapse"):
        pick()
        _assert_refused(panel, ws, words, good)
    # A good upload, then a query on the workspace table, both under the user's ids.
    panel.data_picker.upload.value = upload_value("p.csv", frame.to_csv(index=False).encode())
    panel.data_picker.target.value = "relapse"
    panel.members.value = "in_training"
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.risk_table["patient_id"].tolist() == frame["patient_id"].tolist()
    panel.data_picker.source.value = "query"
    panel.data_picker.query.value = "SELECT * FROM patients ORDER BY patient_id DESC"
    panel.data_picker.preview_button.click()
    panel.data_picker.target.value = "relapse"
    panel.members.value = "in_training"
    panel.run_button.click()
    assert panel.last_error is None, panel.last_error
    assert panel.risk_table["patient_id"].tolist() == frame["patient_id"].tolist()[::-1]
