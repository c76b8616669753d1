"""The model store file under faults: a writer killed mid-register, damaged and truncated files,
several reader processes, a second writer.

Child processes run from the repository root; each imports the workbench afresh, so these tests
take a few seconds per process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError, IntegrityError, ResourceNotFoundError
from workbench.indb import TABLE, ModelStore, connect
from workbench.indb.database import StoreLockedError

ROOT = Path(__file__).resolve().parents[2]
ARGS = ", ".join(FEATURES)
ROWS = (
    "(VALUES (12.0, 70.0, 1.0, 3.0, 'one-year'), (40.0, 20.0, 0.0, 4.5, 'two-year'), "
    f"(2.0, 99.0, 5.0, 1.0, 'month-to-month')) t({ARGS})"
)
QUERY = f"SELECT churn_v1_proba({ARGS}) AS p FROM {ROWS}"


def _child(code: str, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw,
    )


@pytest.fixture(autouse=True)
def _keep_default_store(monkeypatch):
    import workbench.indb.session

    monkeypatch.setattr(workbench.indb.session, "_default", None)  # connect() sets it


@pytest.fixture(scope="module")
def base_file(tmp_path_factory, linear):
    """A store file with 'churn' v1, and its answers on three rows."""
    path = tmp_path_factory.mktemp("faults") / "base.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        expected = s.sql(QUERY)["p"].tolist()
    return path, expected


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


# ---------------------------------------------------------------- a writer killed with SIGKILL
KILL_CHILD = """
    import os, signal, sys, time
    from tests.indb.helpers import Tripwire
    from workbench.indb import ModelStore, make_customers, train_model

    path, keyword, when = sys.argv[1:4]
    features = ["tenure_months", "monthly_charges", "support_calls", "satisfaction", "contract"]
    trained = train_model(make_customers(400, random_state=1), "churned", features, "forest")
    store = ModelStore(path)
    kill = lambda: os.kill(os.getpid(), signal.SIGKILL)
    if keyword == "timer":  # the parent kills us while close() checkpoints (or just after)
        store.register("churn", trained.model, trained.X_sample)
        print("closing", flush=True)
        store.close()
        time.sleep(60)  # the kill always lands, however fast close() was
        sys.exit(0)
    store.con = Tripwire(store.con, keyword, when, kill)
    store.register("churn", trained.model, trained.X_sample)
    store.close()
    print("not killed", flush=True)
"""

KILL_POINTS = [
    ("INSERT", "before"),
    ("INSERT", "after"),
    ("COMMIT", "before"),
    ("COMMIT", "after"),
    ("CLOSE", "before"),
    ("timer", "during"),
]


@pytest.mark.parametrize(("keyword", "when"), KILL_POINTS, ids=lambda p: str(p))
def test_kill_during_register_keeps_old_models(base_file, tmp_path, keyword, when):
    path = _copy(base_file[0], tmp_path / "killed.duckdb")
    proc = _child(KILL_CHILD, str(path), keyword, when)
    if keyword == "timer":
        assert proc.stdout.readline().strip() == "closing"
        os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, (out, err[-2000:])
    with ModelStore(path) as s:  # opens: no IntegrityError, no raw DuckDB error
        assert s.corrupt_ == []
        assert s.sql(QUERY)["p"].tolist() == base_file[1]
        versions = s.list_models()["version"].tolist()
        committed = (keyword, when) in {("COMMIT", "after"), ("CLOSE", "before")}
        if committed:
            assert versions == [1, 2]
        elif keyword != "timer":
            assert versions == [1]
        if 2 in versions:  # a committed version is complete and verified
            assert s.describe("churn").version == 2 and s.describe("churn").row_sha256


# ---------------------------------------------------------------- damaged files
def _bigger_file(path: Path, linear, boosting) -> Path:
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.register("other", boosting.model, boosting.X_sample)
    return path


def test_truncated_file_is_an_integrity_error(tmp_path, linear, boosting):
    path = _bigger_file(tmp_path / "t.duckdb", linear, boosting)
    size = path.stat().st_size
    for keep in (size // 2, 100):
        broken = _copy(path, tmp_path / f"cut{keep}.duckdb")
        with open(broken, "r+b") as fh:
            fh.truncate(keep)
        for read_only in (True, False):
            with pytest.raises(IntegrityError, match=rf"DuckDB file '{broken}' is damaged.*backup"):
                ModelStore(broken, read_only=read_only, on_corrupt="skip")


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        chunk = fh.read(16)
        fh.seek(offset)
        fh.write(bytes(b ^ 0xFF for b in chunk))


def test_corrupt_block_is_an_integrity_error(tmp_path, base_file, linear, boosting):
    path = _bigger_file(tmp_path / "c.duckdb", linear, boosting)
    outcomes = []
    for offset in range(3 * 4096 + 100, path.stat().st_size, 65536):
        broken = _copy(path, tmp_path / "broken.duckdb")
        _flip(broken, offset)
        try:  # either every model loads and verifies, or a clear IntegrityError
            with ModelStore(broken, read_only=True) as s:
                assert s.sql(QUERY)["p"].tolist() == base_file[1]
            outcomes.append("loaded")
        except IntegrityError as exc:
            assert f"'{broken}' is damaged" in str(exc) and "backup" in str(exc)
            outcomes.append("cannot open" if "cannot open it" in str(exc) else "cannot read")
    assert {"cannot open", "cannot read"} <= set(outcomes), outcomes


def test_damaged_blobs_report_the_models_still_listed(tmp_path):
    """Large ONNX bytes live in their own blocks: their loss still lets the model list be read."""
    import numpy as np

    from workbench.indb.store_integrity import COLUMNS, ensure_schema

    path = tmp_path / "blobs.duckdb"
    con = duckdb.connect(str(path))
    ensure_schema(con, read_only=False)
    rng = np.random.default_rng(0)
    for i in range(5):
        row = dict.fromkeys(COLUMNS, "{}")
        row.update(name=f"m{i}", version=1, created_at="2024-01-01", task="regression",
                   estimator="X", onnx=rng.bytes(300_000), sha256="0" * 64, classes=None,
                   input_mode="matrix", sql_predict=None, sql_proba=None, row_sha256=None)
        con.execute(f"INSERT INTO {TABLE} VALUES ({', '.join('?' * len(COLUMNS))})",
                    [row[c] for c in COLUMNS])
    con.close()
    _flip(path, path.stat().st_size // 2)
    with pytest.raises(IntegrityError, match=(
        r"is damaged .*the model list is still readable \(m0 v1, m1 v1, m2 v1, m3 v1, m4 v1\) "
        r"but their ONNX bytes are not.*re-register")):
        ModelStore(path, read_only=True, on_corrupt="skip")


def test_not_a_database_and_missing_files(tmp_path):
    text = tmp_path / "notes.duckdb"
    text.write_text("hello " * 1000)
    with pytest.raises(IntegrityError, match="not a valid DuckDB database"):
        ModelStore(text)
    with pytest.raises(ResourceNotFoundError, match="does not exist, so it cannot be opened"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    with pytest.raises(InputError, match="in-memory database cannot be opened read-only"):
        connect(":memory:", read_only=True)
    with pytest.raises(InputError, match="is a folder"):
        ModelStore(tmp_path)


# ---------------------------------------------------------------- readers and writers
READER = """
    import json, sys, time
    from pathlib import Path
    from workbench.indb import connect

    path, me, n, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    store = connect(path, read_only=True)
    (flags / f"ready{me}").touch()
    deadline = time.time() + 120
    while len(list(flags.glob("ready*"))) < n and time.time() < deadline:
        time.sleep(0.05)   # every reader holds the file open at once
    p = store.sql(sys.argv[5])["p"].tolist()
    try:
        store.register("x", None, None)
        refused = ""
    except Exception as exc:
        refused = type(exc).__name__ + ": " + str(exc)
    while not (flags / "release").exists() and time.time() < deadline:
        time.sleep(0.05)
    print(json.dumps({"p": p, "refused": refused}), flush=True)
    store.close()
"""


def test_several_readers_at_once_and_no_writer_meanwhile(base_file, tmp_path):
    import json

    path = _copy(base_file[0], tmp_path / "shared.duckdb")
    flags = tmp_path / "flags"
    flags.mkdir()
    n = 3
    procs = [_child(READER, str(path), str(i), str(n), str(flags), QUERY) for i in range(n)]
    try:
        deadline = time.time() + 180
        while len(list(flags.glob("ready*"))) < n and time.time() < deadline:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.1)
        assert len(list(flags.glob("ready*"))) == n
        # While readers hold the file, a writer is refused with the holder named.
        with pytest.raises(StoreLockedError, match=r"locked by .*\(PID (\d+)\).*read_only=True"):
            ModelStore(path)
    finally:
        (flags / "release").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    for r in results:
        assert r["p"] == base_file[1]
        assert r["refused"].startswith("InputError: This store is open read-only")
    with ModelStore(path) as writer:  # the readers wrote nothing: same file, same answers
        assert writer.sql(QUERY)["p"].tolist() == base_file[1]
        assert writer.list_models()["version"].tolist() == [1]


SECOND_WRITER = """
    import sys
    from workbench.indb import connect
    from workbench.indb.database import StoreLockedError

    for read_only in (False, True):
        try:
            connect(sys.argv[1], read_only=read_only)
            print("opened")
        except StoreLockedError as exc:
            print(str(exc))
"""


def test_second_writer_gets_a_clear_error_naming_the_holder(base_file, tmp_path):
    path = _copy(base_file[0], tmp_path / "busy.duckdb")
    with ModelStore(path) as writer:
        proc = _child(SECOND_WRITER, str(path))
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        lines = out.strip().splitlines()
        assert len(lines) == 2
        assert lines[0].startswith(f"Cannot write to it: '{path}' is locked by ")
        assert f"(PID {os.getpid()})" in lines[0] and "store.close()" in lines[0]
        assert lines[1].startswith(f"Cannot read it: '{path}' is locked by ")
        assert writer.sql(QUERY)["p"].tolist() == base_file[1]


def test_store_on_a_read_only_connection(base_file, tmp_path, linear):
    path = _copy(base_file[0], tmp_path / "ro.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    store = ModelStore(con)  # was: raw InvalidInputException from CREATE TABLE
    assert store.read_only and "read_only=True" in repr(store)
    assert store.sql(QUERY)["p"].tolist() == base_file[1]
    with pytest.raises(InputError, match=r"open read-only .* cannot register models"):
        store.register("churn", linear.model, linear.X_sample)
    with pytest.raises(InputError, match=r"open read-only .* cannot drop models"):
        store.drop("churn")
    with pytest.raises(InputError, match=r"store's own table|read-only"):
        store.sql(f"DROP TABLE {TABLE}")
    with pytest.raises(InputError, match="open read-only"):
        store.sql("CREATE TABLE t AS SELECT 1")
    store.sql("CREATE TEMP TABLE scratch AS SELECT 1 AS a")  # temp objects are fine
    con.close()
    # A file without a model table opens as an empty reader store.
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with connect(empty, read_only=True) as reader:
        assert reader.list_models().empty
