"""Is a program a working host C compiler? Build and run a one-line program to find out."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from workbench.core.errors import InputError

__all__ = ["check_compiler", "not_a_compiler"]

_PROBE_C = "int main(void) { return 42; }\n"
#: Compilers that built and ran the probe program, by (path, size, mtime): checked once each.
_WORKING: set[tuple[str, int, int]] = set()


def not_a_compiler(cc: str, source: str, why: str) -> InputError:
    """The error for a ``cc`` that is not a working C compiler, saying ``why`` and the fix.

    Parameters
    ----------
    cc : str
        The program given.
    source : str
        ``"cc"`` or ``"$CC"``.
    why : str
        What went wrong.

    Returns
    -------
    InputError
    """
    return InputError(
        f"{source}={cc!r} is not a working C compiler: {why}. Pass a C compiler such as 'gcc' "
        "or '/usr/bin/cc' (or None for the default), or install one with `apt-get install gcc`."
    )


def check_compiler(path: str, source: str = "cc") -> str:
    """Check that ``path`` is a C compiler that builds programs this machine runs.

    It compiles ``int main(void) { return 42; }`` in a private temporary folder and runs the
    result, which must exit with 42. A program that exits 0 without writing an executable
    (``/bin/true``), a cross-compiler (its output does not run here), a hanging program (60 s
    bound) and a non-executable file are refused. The outcome is remembered for the file's
    size and modification time.

    Parameters
    ----------
    path : str
        The program, as :func:`shutil.which` resolved it.
    source : str, default="cc"
        Where it came from (``"cc"`` or ``"$CC"``), for the message.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    InputError
        If it is not a working host C compiler.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise not_a_compiler(path, source, f"it cannot be read ({exc.strerror})") from None
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if key in _WORKING:
        return path
    with tempfile.TemporaryDirectory(prefix="wb-edge-probe-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "probe.c").write_text(_PROBE_C, encoding="utf-8")
        try:
            proc = subprocess.run(
                [path, "probe.c", "-o", "probe"],
                cwd=tmpdir,
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise not_a_compiler(
                path, source, "compiling a one-line program ran over 60 s"
            ) from None
        except OSError as exc:
            raise not_a_compiler(path, source, f"it cannot be run ({exc.strerror})") from None
        if proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])[:300]
            raise not_a_compiler(
                path,
                source,
                f"compiling a one-line C program failed (exit {proc.returncode}"
                + (f": {tail}" if tail else "")
                + ")",
            )
        exe = tmpdir / "probe"
        if not exe.is_file():
            raise not_a_compiler(
                path, source, "it exited 0 on a one-line C program but wrote no executable"
            )
        try:
            ran = subprocess.run(
                [str(exe)], cwd=tmpdir, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired):
            ran = None
        if ran is None or ran.returncode != 42:
            raise not_a_compiler(
                path,
                source,
                "the program it built does not run on this machine (a "
                "cross-compiler? arm-none-eabi-gcc is found by itself, for sizes)",
            )
    _WORKING.add(key)
    return path
