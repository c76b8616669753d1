"""The compile cache: private per-user folder, and no harness runs unless its sha256 matches.

The attacks of issue 14: another user pre-creates the cache folder (world-writable, their own, or
a symlink) or replaces a compiled harness so that the next export() runs their program and reports
a faked 100% parity.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import IntegrityError
from workbench.edge import cache, export
from workbench.edge.compiler import build_executable, find_compiler, run_executable

_FAKE = "#!/bin/sh\necho ran > {marker}\nexit 0\n"


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    root = tmp_path / "xdg"
    root.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root


@pytest.fixture(scope="module")
def small_tree(wine_split):
    Xtr, Xte, ytr, yte = wine_split
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(Xtr, ytr), Xte, yte


def _harnesses(root: Path) -> list[Path]:
    return sorted(root.glob("workbench/edge/*/harness-*"))


def _plant(exe: Path, marker: Path) -> None:
    exe.write_text(_FAKE.format(marker=marker))
    exe.chmod(0o700)


def test_cache_is_a_private_folder_with_a_hash_sidecar(xdg, small_tree):
    model, Xte, yte = small_tree
    export(model, Xte, yte, targets=["host"])
    root = xdg / "workbench" / "edge"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    (exe,) = _harnesses(xdg)
    assert stat.S_IMODE(exe.parent.stat().st_mode) == 0o700
    side = json.loads((exe.parent / "harness.json").read_text())
    assert side["file"] == exe.name
    from workbench.core.paths import sha256_file

    assert side["sha256"] == sha256_file(exe)


@pytest.mark.parametrize("mode", [0o777, 0o755, 0o770])
def test_cache_folder_open_to_others_is_refused(xdg, small_tree, mode):
    root = xdg / "workbench" / "edge"
    root.mkdir(parents=True)
    root.chmod(mode)
    model, Xte, _ = small_tree
    with pytest.raises(IntegrityError, match=r"open to other users.*XDG_CACHE_HOME"):
        export(model, Xte, targets=["host"])


def test_cache_folder_of_another_user_is_refused(xdg, small_tree, monkeypatch):
    root = xdg / "workbench" / "edge"
    root.mkdir(parents=True, mode=0o700)
    if os.geteuid() == 0:
        os.chown(root, 65534, 65534)
    else:  # only root can give a folder away: pretend to be someone else instead
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    model, Xte, _ = small_tree
    with pytest.raises(IntegrityError, match="belongs to user id"):
        export(model, Xte, targets=["host"])


def test_symlinked_cache_folder_is_refused(xdg, small_tree, tmp_path):
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o700)
    (xdg / "workbench").mkdir()
    (xdg / "workbench" / "edge").symlink_to(elsewhere)
    model, Xte, _ = small_tree
    with pytest.raises(IntegrityError, match="symlink"):
        export(model, Xte, targets=["host"])
    assert list(elsewhere.iterdir()) == []


def test_old_shared_tmp_folder_is_not_used(xdg, small_tree, tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    legacy = tmp / f"workbench-edge-{os.getuid()}"
    legacy.mkdir()
    legacy.chmod(0o777)  # pre-created by another user, writable by all
    model, Xte, yte = small_tree
    art = export(model, Xte, yte, targets=["host"])
    assert art.parity.match_rate == 100.0
    assert list(legacy.iterdir()) == []
    assert len(_harnesses(xdg)) == 1


def test_replaced_harness_is_rebuilt_not_run(xdg, small_tree, tmp_path):
    model, Xte, yte = small_tree
    honest = export(model, Xte, yte, targets=["host"])
    (exe,) = _harnesses(xdg)
    original = exe.read_bytes()
    marker = tmp_path / "ran"
    _plant(exe, marker)
    with pytest.warns(RuntimeWarning, match="does not match the sha256"):
        again = export(model, Xte, yte, targets=["host"])
    assert not marker.exists(), "the replaced harness was run"
    assert again.parity.to_dict() == honest.parity.to_dict()
    assert exe.read_bytes() == original  # rebuilt from source


def test_harness_and_sidecar_replaced_together_are_caught_in_process(xdg, small_tree, tmp_path):
    from workbench.core.paths import sha256_file

    model, Xte, yte = small_tree
    export(model, Xte, yte, targets=["host"])
    (exe,) = _harnesses(xdg)
    marker = tmp_path / "ran"
    _plant(exe, marker)
    side = exe.parent / "harness.json"
    side.write_text(json.dumps({"file": exe.name, "sha256": sha256_file(exe)}))
    with pytest.warns(RuntimeWarning, match="does not match the sha256"):
        art = export(model, Xte, yte, targets=["host"])
    assert not marker.exists()
    assert art.parity.match_rate == 100.0


def test_a_new_process_trusts_only_the_recorded_hash(xdg, small_tree, tmp_path, monkeypatch):
    model, Xte, yte = small_tree
    export(model, Xte, yte, targets=["host"])
    monkeypatch.setattr(cache, "_RECORDED", {})  # what a fresh process knows: the sidecar only
    (exe,) = _harnesses(xdg)
    marker = tmp_path / "ran"
    _plant(exe, marker)
    with pytest.warns(RuntimeWarning, match="does not match the sha256"):
        export(model, Xte, yte, targets=["host"])
    assert not marker.exists()


def test_run_refuses_a_harness_changed_after_build(xdg, tmp_path):
    tc = find_compiler()
    exe = build_executable({"m.c": "int main(void) { return 0; }\n"}, "m.c", toolchain=tc)
    assert run_executable(exe, [], {}, []) == ({}, "")
    marker = tmp_path / "ran"
    _plant(exe, marker)
    with pytest.raises(IntegrityError, match=r"changed after it was built.*not run"):
        run_executable(exe, [], {}, [])
    assert not marker.exists()
    stranger = tmp_path / "stranger"
    _plant(stranger, marker)
    with pytest.raises(IntegrityError, match="refusing to run"):
        run_executable(stranger, [], {}, [])
    assert not marker.exists()


def test_unwritable_home_falls_back_to_a_fresh_private_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    root = cache.cache_root()
    assert root.is_relative_to(Path(tempfile.gettempdir()))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700 and root.stat().st_uid == os.getuid()
    assert cache.cache_root() == root  # one per process, reused


def test_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "workbench" / "edge"
    assert not (tmp_path / "relative").exists()
