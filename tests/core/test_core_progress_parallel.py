import os
import time
from pathlib import Path

import joblib
import pytest

from workbench.core import errors, parallel, progress


def _square(x):
    return x * x


def _pid(_):
    time.sleep(0.2)  # long enough that both workers receive a task
    return os.getpid()


def test_parallel_map_keeps_order_with_two_workers():
    out = parallel.parallel_map(_square, range(20), n_jobs=2, show_progress=False)
    assert out == [x * x for x in range(20)]


def _pid_once_both_workers_run(folder):
    """Sign in, then wait until two processes have signed in (not a fixed sleep: a loaded
    machine can start the second worker seconds after the first; 120 s only ends a hang)."""
    folder = Path(folder)
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(folder.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def test_parallel_map_uses_two_processes(tmp_path):
    pids = parallel.parallel_map(
        _pid_once_both_workers_run, [str(tmp_path)] * 8, n_jobs=2, show_progress=False, batch_size=1
    )
    assert len(set(pids)) == 2
    assert os.getpid() not in pids


def test_parallel_map_honours_parallel_config_backend():
    # No n_jobs: the active config decides. The threading backend runs in this process.
    with joblib.parallel_config(backend="threading", n_jobs=2):
        pids = parallel.parallel_map(_pid, range(4), show_progress=False)
    assert set(pids) == {os.getpid()}
    assert parallel.effective_n_jobs() == 1


def test_parallel_map_under_dask_backend():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.Client(processes=False, n_workers=1, threads_per_worker=2) as client,
        joblib.parallel_config(backend="dask"),
    ):
        out = parallel.parallel_map(_square, range(10), show_progress=False)
        assert client.status == "running"
    assert out == [x * x for x in range(10)]


def test_parallel_map_rejects_bad_n_jobs():
    with pytest.raises(errors.InputError, match="n_jobs"):
        parallel.parallel_map(_square, [1], n_jobs=0)


def test_progress_observer_sees_every_step():
    seen = []
    with progress.observe(lambda done, total, desc: seen.append((done, total, desc))):
        with progress.silenced():
            assert not progress.is_enabled()
            items = list(progress.progress(range(3), desc="work"))
    assert items == [0, 1, 2]
    assert seen == [(1, 3, "work"), (2, 3, "work"), (3, 3, "work")]


def test_progress_observer_through_parallel_map():
    seen = []
    with progress.observe(lambda done, total, desc: seen.append(done)):
        parallel.parallel_map(_square, range(5), n_jobs=1, show_progress=False)
    assert seen == [1, 2, 3, 4, 5]


def test_progress_manual_bar_and_global_switch():
    progress.set_enabled(False)
    try:
        bar = progress.progress(total=4)
        assert bar.disable
        bar.update(4)
        bar.close()
    finally:
        progress.set_enabled(True)
    assert progress.is_enabled()
