import numpy as np
import pytest

from workbench.core import errors, validation


def test_error_hierarchy_matches_builtin_exceptions():
    assert issubclass(errors.InputError, ValueError)
    assert issubclass(errors.InputTypeError, TypeError)
    assert issubclass(errors.DependencyError, ImportError)
    assert issubclass(errors.ResourceNotFoundError, FileNotFoundError)
    for cls in (errors.InputError, errors.ModelError, errors.PluginError, errors.IntegrityError):
        assert issubclass(cls, errors.WorkbenchError)


def test_unknown_name_lists_choices():
    err = errors.UnknownNameError("method", "knn", ["tmc", "loo"])
    assert "Unknown method 'knn'" in str(err)
    assert "loo, tmc" in str(err)


def test_check_array_accepts_lists_and_returns_float():
    arr = validation.check_array([[1, 2], [3, 4]])
    assert arr.dtype == np.float64 and arr.shape == (2, 2)


@pytest.mark.parametrize(
    ("value", "exc", "fragment"),
    [
        (None, errors.InputTypeError, "is None"),
        ([["a", "b"]], errors.InputTypeError, "must be numeric"),
        ([1.0, 2.0], errors.InputError, "reshape(-1, 1)"),
        (np.empty((0, 3)), errors.InputError, "at least 1"),
        (np.empty((3, 0)), errors.InputError, "no columns"),
        ([[1.0, np.nan]], errors.InputError, "NaN"),
        ([[1.0, np.inf]], errors.InputError, "infinite"),
    ],
)
def test_check_array_rejects(value, exc, fragment):
    with pytest.raises(exc, match=None) as info:
        validation.check_array(value)
    assert fragment in str(info.value)


def test_check_array_allows_nan_when_asked():
    arr = validation.check_array([[1.0, np.nan]], allow_nan=True)
    assert np.isnan(arr[0, 1])


def test_check_x_y_lengths_and_classes():
    with pytest.raises(errors.InputError, match="different numbers of rows"):
        validation.check_X_y(np.ones((3, 2)), [0, 1])
    with pytest.raises(errors.InputError, match="single class"):
        validation.check_X_y(np.ones((3, 2)), [1, 1, 1], classification=True)
    with pytest.raises(errors.InputError, match="1-dimensional"):
        validation.check_X_y(np.ones((3, 2)), np.ones((3, 2)))
    _X, y = validation.check_X_y(np.ones((3, 2)), [[0], [1], [0]], classification=True)
    assert y.shape == (3,)


def test_check_positive_and_probability():
    assert validation.check_positive(3, name="k", integer=True) == 3
    with pytest.raises(errors.InputError, match="k must be > 0"):
        validation.check_positive(0, name="k")
    with pytest.raises(errors.InputTypeError, match="integer"):
        validation.check_positive(2.5, name="k", integer=True)
    with pytest.raises(errors.InputTypeError):
        validation.check_positive(True, name="k")
    assert validation.check_positive(0, name="k", strict=False) == 0
    with pytest.raises(errors.InputError, match=r"\(0, 1\)"):
        validation.check_probability(1.0, name="p")
    assert validation.check_probability(1.0, name="p", open_interval=False) == 1.0


def test_check_choice_suggests_close_name():
    with pytest.raises(errors.UnknownNameError, match="Did you mean 'banzhaf'"):
        validation.check_choice("banzaf", ["banzhaf", "loo"], kind="method")
    assert validation.check_choice("loo", ["banzhaf", "loo"], kind="method") == "loo"


def test_check_columns_and_methods():
    with pytest.raises(errors.InputError, match=r"lacks column\(s\) \['b'\]"):
        validation.check_columns(["a"], ["a", "b"])
    with pytest.raises(errors.InputTypeError, match="no predict_proba"):
        validation.check_has_methods(object(), ["predict_proba"])


def test_check_fitted():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(errors.NotFittedError, match=r"call \.fit"):
        validation.check_fitted(LogisticRegression())
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    validation.check_fitted(model)


def test_check_n_jobs():
    assert validation.check_n_jobs(None) is None
    assert validation.check_n_jobs(-1) == -1
    for bad in (0, 1.5, "2", True):
        with pytest.raises(errors.InputError, match="n_jobs"):
            validation.check_n_jobs(bad)


def test_check_file(tmp_path):
    f = tmp_path / "a.wav"
    f.write_bytes(b"x")
    assert validation.check_file(f, suffixes=[".wav"]) == f
    with pytest.raises(errors.ResourceNotFoundError, match="does not exist"):
        validation.check_file(tmp_path / "missing.wav")
    with pytest.raises(errors.InputError, match="not a regular file"):
        validation.check_file(tmp_path)
    with pytest.raises(errors.InputError, match="expected one of"):
        validation.check_file(f, suffixes=[".mp3"])
    with pytest.raises(errors.InputTypeError):
        validation.check_file(3)
