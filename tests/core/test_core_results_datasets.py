import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from workbench.core import datasets, errors
from workbench.core.results import Result, to_jsonable


@dataclasses.dataclass(repr=False)
class _Scores(Result):
    name: str
    values: np.ndarray
    auc: float
    _cache: dict = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"value": self.values})

    def summary(self):
        return {"auc": self.auc}


def test_result_serializes_numpy_and_hides_private_fields():
    r = _Scores("a", np.array([1.5, np.nan]), np.float64(0.91234))
    d = r.to_dict()
    assert d == {"name": "a", "values": [1.5, None], "auc": 0.91234}
    assert json.loads(r.to_json()) == d
    assert "_cache" not in d


def test_result_html_and_repr_are_stable(tmp_path):
    r = _Scores("a", np.array([1.0, 2.0]), 0.5)
    html = r._repr_html_()
    assert "<table" in html and "auc" in html and "_Scores" in html
    assert repr(r) == "_Scores(auc=0.5)"
    r.to_json(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["auc"] == 0.5


def test_default_to_frame_is_one_row_of_scalars():
    @dataclasses.dataclass
    class Plain(Result):
        a: int
        b: list

    frame = Plain(1, [1, 2]).to_frame()
    assert list(frame.columns) == ["a"] and frame.iloc[0, 0] == 1


def test_to_jsonable_handles_frames_and_timestamps():
    out = to_jsonable({"t": pd.Timestamp("2026-01-02"), "df": pd.DataFrame({"x": [1]})})
    assert out == {"t": "2026-01-02T00:00:00", "df": [{"x": 1}]}


def test_load_dataset_and_unknown_name():
    ds = datasets.load_dataset("digits")
    assert ds.X.shape == (1797, 64) and ds.image_shape == (8, 8)
    assert ds.task == "classification" and len(ds.target_names) == 10
    assert list(ds.frame.columns)[-1] == "target"
    assert datasets.load_dataset("diabetes").task == "regression"
    with pytest.raises(errors.UnknownNameError, match="breast_cancer"):
        datasets.load_dataset("mnist")
    assert "digits" in datasets.list_datasets()


def test_flip_labels_changes_exact_fraction_to_other_classes():
    y = np.repeat([0, 1, 2], 100)
    noisy, mask = datasets.flip_labels(y, 0.1, random_state=0)
    assert mask.sum() == 30
    assert np.all(noisy[mask] != y[mask]) and np.all(noisy[~mask] == y[~mask])
    again, _ = datasets.flip_labels(y, 0.1, random_state=0)
    assert np.array_equal(noisy, again)
    with pytest.raises(errors.InputError):
        datasets.flip_labels(y, 1.5)
    with pytest.raises(errors.InputError, match="two classes"):
        datasets.flip_labels(np.zeros(5), 0.2)
