"""A private, verified cache of the executables and sizes that prove an export.

Parity is proven by running a compiled harness, so whoever can replace that harness can fake the
proof. The cache therefore lives in a folder only the current user may use:
``$XDG_CACHE_HOME/workbench/edge`` (default ``~/.cache/workbench/edge``), checked by
:func:`workbench.core.paths.private_dir` (mode 0700, owned by you, not a symlink). A folder that
fails the check is refused with :class:`~workbench.core.errors.IntegrityError`; when no home
folder can be written, one fresh private folder per process is used instead (nothing is reused).

The sha256 of every executable is recorded when it is built, in a sidecar JSON written
atomically next to it and in this process, and checked again right before every run. An
executable that does not match is rebuilt by :func:`lookup_executable` and refused by
:func:`verify_executable`: it is never run.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
import warnings
from pathlib import Path

from workbench.core.errors import IntegrityError
from workbench.core.paths import atomic_write, private_dir, sha256_file

__all__ = [
    "cache_root",
    "lookup_executable",
    "read_text",
    "store_executable",
    "verify_executable",
    "write_text",
]

_SIDECAR = "harness.json"
#: Executables this process built or verified: key folder -> (file name, sha256). Checked before
#: the sidecar, so a file replaced together with its sidecar after the build is still caught.
_RECORDED: dict[str, tuple[str, str]] = {}
_LOCK = threading.Lock()
_PROCESS_DIR: list[Path] = []


def _process_dir() -> Path:
    """One fresh private folder for this process, removed at exit (no home folder to cache in)."""
    with _LOCK:
        if not _PROCESS_DIR:
            made = Path(tempfile.mkdtemp(prefix="workbench-edge-"))
            atexit.register(shutil.rmtree, made, True)
            _PROCESS_DIR.append(made)
    return private_dir(_PROCESS_DIR[0])


def cache_root() -> Path:
    """The private folder that holds compiled harnesses and measured sizes.

    Returns
    -------
    pathlib.Path
        ``$XDG_CACHE_HOME/workbench/edge`` (an absolute ``XDG_CACHE_HOME`` only, as the XDG
        specification says), else ``~/.cache/workbench/edge``; a fresh per-process temporary
        folder when neither can be created.

    Raises
    ------
    IntegrityError
        If the folder exists but is a symlink, belongs to another user or is open to group or
        others: files in it could have been replaced, so it is not used.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        parent = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    except RuntimeError:  # no home folder known for this user
        return _process_dir()
    root = parent / "workbench" / "edge"
    try:
        return private_dir(root)
    except IntegrityError as exc:
        raise IntegrityError(
            f"The edge compile cache is not private: {exc} (Or set XDG_CACHE_HOME to a folder of "
            "your own.)"
        ) from None
    except OSError:
        return _process_dir()


def _key_dir(key: str) -> Path:
    if not key.isalnum():
        raise IntegrityError(f"Bad cache key {key!r}; this is a bug, please report it.")
    return private_dir(cache_root() / key)


def _read_sidecar(folder: Path) -> tuple[str, str] | None:
    try:
        meta = json.loads((folder / _SIDECAR).read_text(encoding="utf-8"))
        name, digest = str(meta["file"]), str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if "/" in name or name.startswith(".") or len(digest) != 64:
        return None
    return name, digest


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def lookup_executable(key: str) -> Path | None:
    """Return the cached executable of ``key`` if its sha256 matches the recorded one.

    Parameters
    ----------
    key : str
        Hex digest of the sources, compiler and flags.

    Returns
    -------
    pathlib.Path or None
        None when nothing is cached or the file does not match its record; the caller then
        builds it again. A mismatch also warns, since only you can write the folder.
    """
    folder = _key_dir(key)
    record = _RECORDED.get(str(folder)) or _read_sidecar(folder)
    if record is None:
        return None
    exe = folder / record[0]
    if not _regular_file(exe):
        return None
    actual = sha256_file(exe)
    if actual != record[1]:
        _RECORDED.pop(str(folder), None)
        warnings.warn(
            f"{exe} does not match the sha256 recorded when it was built; it was not run and is "
            "rebuilt now. If you did not change it, check who can write to "
            f"{cache_root()}.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    _RECORDED[str(folder)] = (exe.name, actual)
    return exe


def store_executable(key: str, built: Path) -> Path:
    """Copy a freshly built executable into the cache and record its sha256.

    Parameters
    ----------
    key : str
        Hex digest of the sources, compiler and flags.
    built : pathlib.Path
        The executable, in a temporary folder this process just made.

    Returns
    -------
    pathlib.Path
        The cached executable, named after its own hash so that a concurrent build of the same
        key never overwrites a file another process is about to run.
    """
    data = built.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    folder = _key_dir(key)
    exe = folder / f"harness-{digest[:16]}"
    fd, tmp = tempfile.mkstemp(prefix=".harness.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o700)
            os.fsync(fh.fileno())
        os.replace(tmp, exe)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write(folder / _SIDECAR, json.dumps({"file": exe.name, "sha256": digest}))
    _RECORDED[str(folder)] = (exe.name, digest)
    return exe


def verify_executable(exe: Path) -> None:
    """Refuse to run ``exe`` unless its bytes are the ones recorded when it was built.

    Parameters
    ----------
    exe : pathlib.Path
        An executable returned by :func:`lookup_executable` or :func:`store_executable`.

    Raises
    ------
    IntegrityError
        If it was not built through this cache, or was changed since.
    """
    exe = Path(exe)
    record = _RECORDED.get(str(exe.parent)) or _read_sidecar(exe.parent)
    if record is None or record[0] != exe.name or not _regular_file(exe):
        raise IntegrityError(
            f"{exe} is not the executable workbench.edge built and recorded; refusing to run it."
        )
    expected = record[1]
    actual = sha256_file(exe)
    if actual != expected:
        _RECORDED.pop(str(exe.parent), None)
        raise IntegrityError(
            f"{exe} was changed after it was built (sha256 {actual[:12]}… instead of "
            f"{expected[:12]}…), so it was not run. Run again to rebuild it; if you did not "
            f"change it, someone else can write to {exe.parent}: remove that folder."
        )


def read_text(key: str, name: str) -> str | None:
    """Text of a cached data file (sizes), or None when it is not cached.

    Parameters
    ----------
    key : str
        Cache key (a folder of the cache).
    name : str
        File name inside it.

    Returns
    -------
    str or None
    """
    path = _key_dir(key) / name
    if not _regular_file(path):
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_text(key: str, name: str, text: str) -> None:
    """Write a cached data file atomically.

    Parameters
    ----------
    key : str
        Cache key (a folder of the cache).
    name : str
        File name inside it.
    text : str
    """
    atomic_write(_key_dir(key) / name, text)
