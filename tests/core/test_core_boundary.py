"""The shared boundary checks: seeds, numbers, sizes, dates, targets, estimators, paths."""

from __future__ import annotations

import math
import os
import stat

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    NotFittedError,
    ResourceNotFoundError,
    WorkbenchError,
)
from workbench.core.params import (
    FLOAT32_MAX,
    MAX_SEED,
    check_finite,
    check_number,
    check_random_state,
    check_size,
    check_text,
    check_timedelta,
    check_timestamp,
)
from workbench.core.paths import atomic_write, check_write_path, private_dir, sha256_file
from workbench.core.validation import (
    check_array,
    check_classification_target,
    check_estimator,
    check_regression_target,
)


@pytest.mark.parametrize("seed", [None, 0, 7, np.int64(3), MAX_SEED])
def test_random_state_accepts_none_and_seeds(seed):
    assert check_random_state(seed) == (None if seed is None else int(seed))


@pytest.mark.parametrize(
    ("seed", "error"),
    [("x", InputTypeError), (1.5, InputTypeError), (True, InputTypeError),
     (np.random.RandomState(0), InputTypeError), (-1, InputError), (MAX_SEED + 1, InputError)],
)
def test_random_state_refuses_what_numpy_would_choke_on(seed, error):
    with pytest.raises(error, match="random_state"):
        check_random_state(seed)


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(),
                 st.none(), st.booleans()))
@settings(max_examples=200, derandomize=True, database=None)
def test_check_number_returns_a_finite_value_in_range_or_a_workbench_error(value):
    try:
        out = check_number(value, name="v", low=0.0, high=1e6, float32=True)
    except WorkbenchError:
        return
    assert math.isfinite(out) and 0.0 <= out <= 1e6


def test_check_number_float32_overflow_and_open_bounds():
    with pytest.raises(InputError, match="overflows float32"):
        check_number(1e308, name="price", float32=True)
    assert check_number(FLOAT32_MAX, name="v", float32=True) == FLOAT32_MAX
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        check_number(0.0, name="v", low=0, high=1, low_open=True)


def test_check_size_has_an_upper_bound_that_says_why():
    assert check_size(5, name="horizon", high=10) == 5
    with pytest.raises(InputError, match=r"horizon must lie in .*forecast in pieces"):
        check_size(10**7, name="horizon", high=1000, hint="forecast in pieces")
    with pytest.raises(InputTypeError):
        check_size(2.0, name="horizon", high=10)


def test_check_finite_arrays():
    assert check_finite([1, 2], name="x").dtype == np.float64
    with pytest.raises(InputError, match="NaN or infinite"):
        check_finite([1.0, np.nan], name="x")
    with pytest.raises(InputError, match="overflow float32"):
        check_finite([1e300], name="x", float32=True)
    with pytest.raises(InputTypeError):
        check_finite(["a"], name="x")


def test_check_array_float32_bound():
    check_array([[1e30]])
    with pytest.raises(InputError, match="overflow float32"):
        check_array([[1e308]], float32=True)


def test_text_dates_and_durations():
    assert check_text("a", name="t") == "a"
    with pytest.raises(InputError):
        check_text("  ", name="t")
    with pytest.raises(InputTypeError):
        check_text(1, name="t")
    assert check_timestamp("2024-03-01", name="d") == pd.Timestamp("2024-03-01")
    with pytest.raises(InputTypeError, match="launch_date"):
        check_timestamp(123, name="launch_date")
    with pytest.raises(InputError, match="not a date"):
        check_timestamp("garbage", name="window_start")
    assert check_timedelta("1 day", name="every") == pd.Timedelta(days=1)
    with pytest.raises(InputError, match="shorter than"):
        check_timedelta("1 microsecond", name="every", minimum="1 minute")
    with pytest.raises(InputError, match="positive"):
        check_timedelta("-1 day", name="every")
    with pytest.raises(InputTypeError):
        check_timedelta(5, name="every")


def test_classification_target_refuses_continuous_nan_mixed_and_single_class():
    assert check_classification_target([0, 1, 1]).tolist() == [0, 1, 1]
    assert check_classification_target([0.0, 1.0]).tolist() == [0.0, 1.0]
    with pytest.raises(InputError, match="continuous"):
        check_classification_target(np.linspace(0, 1, 10))
    with pytest.raises(InputError, match="NaN"):
        check_classification_target([0.0, np.nan, 1.0])
    with pytest.raises(InputError, match="mixes label types"):
        check_classification_target(np.array([1, "a"], dtype=object))
    with pytest.raises(InputError, match="1 class"):
        check_classification_target([3, 3, 3])
    with pytest.raises(InputError, match="1-dimensional"):
        check_classification_target(np.zeros((3, 2)))


def test_regression_target():
    assert check_regression_target([1.5, 2.0]).tolist() == [1.5, 2.0]
    with pytest.raises(InputError):
        check_regression_target([1.0, np.inf])


def test_check_estimator_kind_methods_and_fitted():
    check_estimator(LogisticRegression(), kind="classifier", methods=("predict_proba",))
    with pytest.raises(ModelError, match="neither a classifier nor a regressor"):
        check_estimator(KMeans(), kind="classifier")
    with pytest.raises(ModelError, match="is a regressor"):
        check_estimator(LinearRegression(), kind="classifier")
    with pytest.raises(InputTypeError, match="class LogisticRegression"):
        check_estimator(LogisticRegression, kind="classifier")
    with pytest.raises(InputTypeError):
        check_estimator("model")
    with pytest.raises(NotFittedError):
        check_estimator(LogisticRegression(), fitted=True)


def test_write_path_refuses_folders_missing_parents_and_non_paths(tmp_path):
    assert check_write_path(tmp_path / "a.txt") == tmp_path / "a.txt"
    with pytest.raises(InputError, match="is a folder"):
        check_write_path(tmp_path)
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        check_write_path(tmp_path / "missing" / "a.txt")
    assert check_write_path(tmp_path / "new" / "a.txt", make_parents=True).parent.is_dir()
    with pytest.raises(InputTypeError):
        check_write_path(None)
    with pytest.raises(InputError, match="suffix"):
        check_write_path(tmp_path / "a.bin", suffixes=[".srt"])


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_private_dir_is_0700_and_refuses_shared_or_linked_folders(tmp_path):
    p = private_dir(tmp_path / "cache" / "edge")
    assert stat.S_IMODE(p.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(IntegrityError, match="open to other users"):
        private_dir(shared)
    link = tmp_path / "link"
    link.symlink_to(p)
    with pytest.raises(IntegrityError, match="symlink"):
        private_dir(link)


def test_n_jobs_is_bounded():
    from workbench.core.validation import check_n_jobs

    assert check_n_jobs(-1) == -1
    with pytest.raises(InputError, match="beyond 4096 workers"):
        check_n_jobs(10**9)


def test_sha256_file(tmp_path):
    f = tmp_path / "a"
    f.write_bytes(b"abc")
    assert sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_lazy_exports_load_on_first_use_and_cache(tmp_path, monkeypatch):
    import sys

    from workbench.core.lazy import lazy_exports

    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from workbench.core.lazy import lazy_exports\n"
        "__getattr__, __dir__, __all__ = lazy_exports(__name__, {'VALUE': 'sub'}, eager=('X',))\n"
        "X = 1\n"
    )
    (pkg / "sub.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lazypkg

    assert "lazypkg.sub" not in sys.modules
    assert lazypkg.__all__ == ["VALUE", "X"]
    assert lazypkg.VALUE == 42 and "lazypkg.sub" in sys.modules
    assert "VALUE" in vars(lazypkg)  # cached in the namespace
    assert "VALUE" in dir(lazypkg)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lazypkg.nope  # noqa: B018
    assert lazy_exports("x", {})[2] == []


def test_one_demo_model_catalogue():
    from sklearn.base import is_classifier

    from workbench.core.errors import UnknownNameError
    from workbench.core.models import DEMO_MODELS, demo_model, describe_models

    for name in DEMO_MODELS:
        assert is_classifier(demo_model(name, random_state=0))
    assert demo_model("random_forest", random_state=3).random_state == 3
    assert describe_models(["knn5"]) == {"knn5": "5-nearest neighbours"}
    with pytest.raises(UnknownNameError, match="Did you mean 'mlp'"):
        demo_model("mpl")
    with pytest.raises(InputError):
        demo_model("mlp", random_state=-1)


def test_datasets_by_task():
    from workbench.core.datasets import list_datasets, load_dataset

    assert list_datasets("classification") == ["breast_cancer", "digits", "wine"]
    for name in list_datasets():
        assert load_dataset(name).task in ("classification", "regression")
    assert [n for n in list_datasets() if load_dataset(n).task == "regression"] == list_datasets(
        "regression"
    )


def test_check_choice_refuses_arrays_and_objects_cleanly():
    from workbench.core.errors import UnknownNameError
    from workbench.core.validation import check_choice

    assert check_choice("a", ["a", "b"], kind="mode") == "a"
    for bad in (np.array(["a"]), ["a"], None, True, object()):
        with pytest.raises(UnknownNameError, match="Unknown mode"):
            check_choice(bad, ["a", "b"], kind="mode")


def test_huge_python_ints_get_a_workbench_error():
    from workbench.core.validation import check_positive

    for bad in (-(10**20), 10**400):
        with pytest.raises(InputError):
            check_positive(bad, name="n")
        with pytest.raises(InputError):
            check_number(bad, name="n", low=0, high=10)
    with pytest.raises(InputError, match="overflows float32"):
        check_number(10**39, name="n", float32=True)


def test_flags_and_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workbench.core.params import check_ax, check_flag

    assert check_flag(np.bool_(True), name="f") is True
    assert check_flag(None, name="f", optional=True) is None
    for bad in ("no", 1, None):
        with pytest.raises(InputTypeError):
            check_flag(bad, name="f")
    fig, ax = plt.subplots()
    assert check_ax(ax) is ax and check_ax(None) is None
    with pytest.raises(InputTypeError, match="matplotlib Axes"):
        check_ax("axes")
    plt.close(fig)


def test_check_fitted_refuses_duck_typed_objects_cleanly():
    from workbench.core.validation import check_fitted

    class Duck:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return X

    with pytest.raises(InputTypeError, match="not a scikit-learn estimator"):
        check_fitted(Duck())
    with pytest.raises(InputTypeError):
        check_fitted("model")


def test_untagged_objects_and_huge_float_labels():
    class NoTags:
        def fit(self, X, y):
            return self

    with pytest.raises(InputTypeError, match="no scikit-learn tags"):
        check_estimator(NoTags(), kind="classifier")
    with pytest.raises(InputError, match="beyond 2\\*\\*53"):
        check_classification_target(np.array([0.0, 1e17]))
