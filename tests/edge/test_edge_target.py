"""verify_on_target(): the exported C run on an emulated Cortex-M4F and Cortex-M0 under QEMU.

Needs Debian's ``qemu-system-arm`` and ``gcc-arm-none-eabi libnewlib-arm-none-eabi``. Without
them these tests skip, unless ``WORKBENCH_REQUIRE_QEMU=1`` (set by ``.ci/run``): then a missing
emulator fails CI instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import (
    DependencyError,
    InputError,
    InputTypeError,
    ModelError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.edge import export, find_compiler
from workbench.edge.artifact import build_artifact
from workbench.edge.cinterface import GeneratedC, header_end, preamble, predict_by_argmax
from workbench.edge.target import TargetReport, TargetTimeoutError, verify_on_target

U = 2.0**-24  # unit roundoff of float32
CPUS = ["cortex-m4f", "cortex-m0"]
ARCH = {"cortex-m4f": "v7E-M", "cortex-m0": "v6S-M"}
QEMU_PKG = "qemu-system-arm"
ARM_PKG = "gcc-arm-none-eabi libnewlib-arm-none-eabi"


@pytest.fixture(scope="module")
def target_tools():
    """Skip without the emulator and cross compiler, or fail when CI requires them."""
    missing = [
        f"{prog} (apt-get install {pkg})"
        for prog, pkg in (("qemu-system-arm", QEMU_PKG), ("arm-none-eabi-gcc", ARM_PKG))
        if shutil.which(prog) is None
    ]
    if missing:
        msg = "emulated-target test needs " + " and ".join(missing)
        if os.environ.get("WORKBENCH_REQUIRE_QEMU") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def gamma(n: int) -> float:
    """Higham's bound on the relative error of n float32 roundings."""
    return n * U / (1 - n * U)


def softmax_bound(p: np.ndarray, d: np.ndarray, n_classes: int) -> float:
    """Probability error from score errors ``d`` (first order) plus exp/sum/divide roundings.

    ``p_i = exp(s_i) / sum exp(s_k)``: ``|dp_i| <= p_i (d_i + sum_k p_k d_k)``.
    """
    dp = p * (d + np.sum(p * d, axis=1, keepdims=True))
    return float(dp.max() + gamma(2 * n_classes + 4))


def forest_bound(model, X) -> float:
    """Mean of T float32 leaf distributions (each rounded once), in float32."""
    return gamma(len(model.estimators_) + 2)


def mlp_bound(model, X) -> float:
    """Forward error of a float32 ReLU MLP: inputs, weights and each dot product rounded."""
    a, err = X, U * np.abs(X)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        err = err @ np.abs(W) + gamma(W.shape[0] + 3) * (np.abs(a) @ np.abs(W) + np.abs(b))
        a = a @ W + b
        if i < len(model.coefs_) - 1:
            a = np.maximum(a, 0)  # relu is 1-Lipschitz: err carries over
    p = model.predict_proba(X)
    if a.shape[1] == 1:
        return float((p[:, 1] * p[:, 0] * err[:, 0]).max() + gamma(4))
    return softmax_bound(p, err, p.shape[1])


def nb_bound(model, X) -> float:
    """Joint log-likelihood const - sum((x - theta)^2 / var) / 2 in float32, then normalised."""
    x, theta, var = X[:, None, :], model.theta_[None], model.var_[None]
    d = x - theta
    dd = U * (np.abs(x) + np.abs(theta) + np.abs(d))
    t = d**2 / var
    dt = 2 * np.abs(d) * dd / var + 4 * U * t
    s = t.sum(axis=2)
    const = np.log(model.class_prior_) - 0.5 * np.sum(np.log(2 * np.pi * model.var_), axis=1)
    jll = const[None] - s / 2
    err = dt.sum(axis=2) / 2 + gamma(X.shape[1]) * s / 2 + U * np.abs(const)[None]
    err += 2 * U * np.abs(jll)
    return softmax_bound(model.predict_proba(X), err, len(model.classes_))


def knn_bound(model, X) -> float:
    """Uniform votes: count / k, rounded to float32."""
    return gamma(2)


def boosting_bound(model, X) -> float:
    """Raw scores summed in double, bit-equal to scikit-learn; sigmoid or softmax in float32."""
    return gamma(2 * len(model.classes_) + 4)


FAMILIES = {
    "forest": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
        False,
        {"leaves": "float"},
        forest_bound,
    ),
    "mlp": (
        lambda: MLPClassifier((16,), max_iter=2000, random_state=0),
        True,
        {},
        mlp_bound,
    ),
    "naive_bayes": (GaussianNB, False, {}, nb_bound),
    "knn": (lambda: KNeighborsClassifier(5), True, {}, knn_bound),
    "hist_gradient_boosting": (
        lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0),
        False,
        {},
        boosting_bound,
    ),
    "gradient_boosting": (
        lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
        False,
        {},
        boosting_bound,
    ),
}


@pytest.fixture(scope="module")
def exported(wine_split):
    """family -> (model, test rows, artifact), exported once for both CPUs."""
    Xtr, Xte, ytr, yte = wine_split
    scaler = StandardScaler().fit(Xtr)
    out = {}
    for family, (make, scaled, kw, _) in FAMILIES.items():
        Xa, Xb = (scaler.transform(Xtr), scaler.transform(Xte)) if scaled else (Xtr, Xte)
        model = make().fit(Xa, ytr)
        out[family] = (model, Xb, export(model, Xb, yte, **kw))
    return out


@pytest.mark.parametrize("cpu", CPUS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_matches_sklearn_on_the_emulated_target(target_tools, exported, family, cpu):
    model, X, art = exported[family]
    rep = verify_on_target(art, model, X, cpu=cpu)
    bound = FAMILIES[family][3](model, X)
    assert rep.match_rate == 100.0 and rep.n_match == rep.n_samples == len(X), rep.explanation
    assert rep.mismatch_rows == []
    assert rep.max_proba_error <= bound, (rep.max_proba_error, bound)
    # The host build of the same C agrees, and the target reproduces it (libm may differ by
    # an ulp or two in expf/logf, which the float32 bound above already allows for).
    assert rep.host_match_rate == 100.0 and rep.n_differ_from_host == 0
    assert rep.max_host_diff <= bound
    assert rep.cpu_arch == ARCH[cpu]  # the M0 image holds ARMv6-M code only
    assert rep.machine == ("mps2-an386" if cpu == "cortex-m4f" else "mps2-an385")
    assert rep.instructions_per_prediction is not None and rep.instructions_per_prediction > 10
    assert "40 instructions per tick" in rep.instructions_note
    assert 0 < rep.model_flash_bytes < rep.image_flash_bytes
    assert rep.rows_bytes == X.size * 4 and rep.image_flash_bytes > rep.rows_bytes
    assert 0 < rep.stack_bytes < 64 * 1024
    frame = rep.to_frame()
    assert frame.loc[0, "target_parity_%"] == 100.0 and frame.loc[0, "cpu"] == cpu
    assert "run_s" not in frame.columns  # wall times stay out of tables shown in notebooks
    assert json.loads(rep.to_json())["cpu"] == cpu
    assert cpu in rep._repr_html_() and "100" in rep._repr_html_()


def test_instruction_counts_are_exact_and_follow_the_arithmetic(target_tools, exported):
    model, X, art = exported["mlp"]
    m4 = verify_on_target(art, model, X, cpu="cortex-m4f")
    again = verify_on_target(art, model, X, cpu="cortex-m4f")
    m0 = verify_on_target(art, model, X, cpu="cortex-m0")
    # -icount counts instructions, not host time: the same image gives the same count.
    assert again.instructions_per_prediction == m4.instructions_per_prediction
    # Soft float: every float multiply-add is a library call of dozens of instructions.
    assert m0.instructions_per_prediction > 5 * m4.instructions_per_prediction
    # A forest walks at most max_depth nodes per tree: far fewer instructions than the MLP.
    fmodel, fX, fart = exported["forest"]
    forest = verify_on_target(fart, fmodel, fX, cpu="cortex-m4f")
    assert forest.instructions_per_prediction < m4.instructions_per_prediction


def _special(model, X, arm_code: str):
    """An artifact whose C predicts class 0 on the host but runs ``arm_code`` on the target."""
    name, nf = "special", X.shape[1]
    header = (
        preamble(name, nf, 2, "float", "test model")
        + f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{\n"
        + f"#if defined(__arm__)\n{arm_code}\n#endif\n"
        + "    (void)x; proba[0] = 1.0f; proba[1] = 0.0f;\n}\n"
        + predict_by_argmax(name, 2)
        + header_end(name)
    )
    code = GeneratedC(name, header, "float", nf, 2, "test")
    return build_artifact(model, code, X, None, find_compiler(), ["host"], "float32")


@pytest.fixture(scope="module")
def tiny():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.5], [2.0, 0.0]])
    return DecisionTreeClassifier(random_state=0).fit(X, [0, 1, 0, 1]), X


def test_a_hanging_image_is_stopped_after_timeout_s(target_tools, tiny):
    model, X = tiny
    art = _special(model, X, '    for (;;) { __asm__ volatile(""); }')
    with pytest.raises(TargetTimeoutError, match=r"timeout_s=1 s.*QEMU was stopped") as info:
        verify_on_target(art, model, X, timeout_s=1)
    assert isinstance(info.value, WorkbenchError) and isinstance(info.value, TimeoutError)


def test_a_faulting_image_is_reported_not_hung(target_tools, tiny):
    model, X = tiny
    art = _special(model, X, '    __asm__ volatile(".inst.n 0xde00");  /* udf #0 */')
    for cpu in CPUS:
        with pytest.raises(ModelError, match="faulted on the target after 0 of 4 rows"):
            verify_on_target(art, model, X, cpu=cpu)


def test_wrong_rows_are_reported_row_by_row(target_tools, tiny):
    model, X = tiny
    # On the target every row gets class 1 with probability 0.75.
    art = _special(model, X, "    proba[0] = 0.25f; proba[1] = 0.75f; return;")
    rep = verify_on_target(art, model, X, cpu="cortex-m0")
    assert rep.match_rate == 50.0 and rep.mismatch_rows == [0, 2]
    assert rep.max_proba_error == 0.75
    assert rep.n_differ_from_host == 4 and rep.max_host_diff == 0.75  # host: class 0
    assert "2 of 4 predictions on the emulated cortex-m0 differ" in rep.explanation


def _fake_program(folder, name):
    path = folder / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o700)


def test_missing_qemu_is_a_dependency_error_naming_the_package(exported, tmp_path, monkeypatch):
    model, X, art = exported["forest"]
    _fake_program(tmp_path, "arm-none-eabi-gcc")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DependencyError, match=r"apt-get install qemu-system-arm"):
        verify_on_target(art, model, X)


def test_missing_cross_compiler_is_a_dependency_error_naming_the_packages(
    exported, tmp_path, monkeypatch
):
    model, X, art = exported["forest"]
    _fake_program(tmp_path, "qemu-system-arm")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DependencyError, match=ARM_PKG):
        verify_on_target(art, model, X)


def test_bad_input_is_refused_before_anything_runs(target_tools, exported, tiny):
    model, X, art = exported["forest"]
    with pytest.raises(InputTypeError, match="EdgeArtifact"):
        verify_on_target(art.header, model, X)
    with pytest.raises(UnknownNameError, match="cortex-m4f"):
        verify_on_target(art, model, X, cpu="cortex-m7")
    for bad in (0, -1.0, float("nan"), 1e9):
        with pytest.raises(InputError, match="timeout_s"):
            verify_on_target(art, model, X, timeout_s=bad)
    with pytest.raises(InputError, match="features"):
        verify_on_target(art, model, X[:, :5])
    with pytest.raises(InputError, match="not the one the artifact was exported from"):
        verify_on_target(art, tiny[0], X)
    with pytest.raises(InputError, match=r"\[1, 20000\]"):
        verify_on_target(art, model, np.repeat(X, 300, axis=0))
    with pytest.raises(InputTypeError, match="cc must be"):
        verify_on_target(art, model, X, cc=3)
    with pytest.raises(InputError, match="not an executable"):
        verify_on_target(art, model, X, cc="/nonexistent/arm-none-eabi-gcc")
    host_cc = find_compiler().cc
    with pytest.raises(InputError, match="not a bare-metal ARM compiler"):
        verify_on_target(art, model, X, cc=host_cc)


def test_report_is_a_result_with_the_measured_columns(target_tools, exported):
    model, X, art = exported["knn"]
    rep = verify_on_target(art, model, X[:3], cpu="cortex-m4f")
    assert isinstance(rep, TargetReport) and rep.n_samples == 3
    assert "mean of 258 predictions" in rep.instructions_note  # 3 rows, 86 passes
    assert set(rep.to_frame().columns) >= {
        "target_parity_%",
        "host_parity_%",
        "instructions_icount",
        "model_flash_bytes",
        "image_ram_bytes",
        "stack_bytes",
    }
    assert rep.summary()["target parity %"] == 100.0
    assert rep.run_s > 0 and rep.build_s > 0 and "QEMU emulator version" in rep.emulator
