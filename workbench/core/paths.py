"""Paths at public boundaries: files to write, private cache folders, atomic writes, hashes.

A failed write must leave the user's files as they were, and nothing is executed or loaded from a
shared temporary folder unless this user made it, alone can write it, and its content hash matches
what was recorded when it was built.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.core.errors import InputError, InputTypeError, IntegrityError, ResourceNotFoundError

__all__ = [
    "atomic_write",
    "check_write_path",
    "private_dir",
    "sha256_file",
]


def _as_path(path: Any, name: str) -> Path:
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise InputTypeError(
            f"{name} must be a file path (str or pathlib.Path), got {type(path).__name__}."
        )
    text = os.fspath(path)
    if not str(text).strip():
        raise InputError(f"{name} is empty; pass a file path.")
    if "\x00" in str(text):
        raise InputError(f"{name} contains a NUL byte; pass a normal file path.")
    return Path(text).expanduser()


def check_write_path(
    path: Any,
    *,
    name: str = "path",
    suffixes: Iterable[str] | None = None,
    make_parents: bool = False,
) -> Path:
    """Check that ``path`` can be written as a file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    name : str, default="path"
        Argument name used in the message.
    suffixes : iterable of str, optional
        Accepted suffixes (case-insensitive), e.g. ``[".srt", ".vtt"]``.
    make_parents : bool, default=False
        Create a missing parent folder instead of refusing.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputTypeError
        If ``path`` is None or not path-like.
    InputError
        If it names a folder, has the wrong suffix, or its parent is not a writable folder.
    ResourceNotFoundError
        If the parent folder does not exist and ``make_parents`` is false.
    """
    p = _as_path(path, name)
    if p.is_dir():
        raise InputError(f"{name} {str(p)!r} is a folder; pass a file name inside it.")
    if suffixes is not None:
        allowed = [s.lower() for s in suffixes]
        if p.suffix.lower() not in allowed:
            raise InputError(
                f"{name} {p.name!r} has suffix {p.suffix or '(none)'!r}; expected one of {allowed}."
            )
    parent = p.parent
    if not parent.exists():
        if not make_parents:
            raise ResourceNotFoundError(
                f"The folder {str(parent)!r} for {name} does not exist; create it first."
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"Cannot create the folder {str(parent)!r} for {name} ({exc.strerror}); "
                "choose another place."
            ) from None
    if not parent.is_dir():
        raise InputError(f"{str(parent)!r} is not a folder; {name} must be inside a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"The folder {str(parent)!r} is not writable; choose another {name}.")
    return p


def atomic_write(path: Any, data: bytes | str, *, name: str = "path") -> Path:
    """Write ``data`` to ``path`` all at once: the old file stays intact if anything fails.

    The bytes go to a temporary file in the same folder, are flushed to disk, and then replace
    the target with :func:`os.replace` (atomic on POSIX and Windows).

    Parameters
    ----------
    path : str or os.PathLike
    data : bytes or str
        Text is written as UTF-8.
    name : str, default="path"
        Argument name used in error messages.

    Returns
    -------
    pathlib.Path
    """
    p = check_write_path(path, name=name)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def private_dir(path: Any) -> Path:
    """Create or reuse a folder that only the current user can use, and prove it.

    The folder (and any missing parent) is created with mode 0700. An existing folder is accepted
    only when it is a real folder (not a symlink), owned by the current user, and not readable,
    writable or searchable by group or others. Use it for caches whose files are loaded or run.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path

    Raises
    ------
    IntegrityError
        If the folder exists but is a symlink, belongs to someone else or is open to others.
    """
    p = _as_path(path, "path")
    try:
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise IntegrityError(f"{str(p)!r} exists and is not a folder; remove it.") from None
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise IntegrityError(f"{str(p)!r} is a symlink or not a folder; refusing to use it.")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise IntegrityError(
            f"{str(p)!r} belongs to user id {st.st_uid}, not to you ({os.getuid()}); another user "
            "made it. Remove it or choose another folder."
        )
    if os.name == "posix" and st.st_mode & 0o077:
        raise IntegrityError(
            f"{str(p)!r} is open to other users (mode {stat.S_IMODE(st.st_mode):o}); files in it "
            "could have been replaced. Remove it, or chmod 700 it if you made it yourself."
        )
    return p


def sha256_file(path: Any) -> str:
    """Return the hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(_as_path(path, "path"), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
