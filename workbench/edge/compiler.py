"""Compile generated C with real compilers: a host harness for parity/latency and size probes.

Everything is built in temporary directories, never in the working directory. Compiled harnesses
and measured sizes are cached by the sha256 of their sources and flags in a private per-user
folder (:mod:`workbench.edge.cache`), and every executable's own sha256 is checked before it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from workbench.core.errors import DependencyError, InputError, InputTypeError, ModelError
from workbench.edge import cache
from workbench.edge.compiler_probe import check_compiler, not_a_compiler

__all__ = [
    "ARM_TARGETS",
    "Toolchain",
    "build_executable",
    "find_compiler",
    "measure_size",
]

#: Cortex-M targets measured when ``arm-none-eabi-gcc`` is present: name -> compiler flags.
ARM_TARGETS: dict[str, tuple[str, ...]] = {
    "cortex-m0": ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m4f": ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
}

_HOST_FLAGS = ("-O2", "-std=c99", "-Wall", "-Wno-unused-function", "-Wno-unused-variable")
_SIZE_FLAGS = ("-Os", "-std=c99", "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections")


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """The C compilers used to verify and measure an export.

    Attributes
    ----------
    cc : str
        Absolute path of the host C compiler.
    arm_cc : str or None
        Absolute path of ``arm-none-eabi-gcc``, or None when it is not installed.
    """

    cc: str
    arm_cc: str | None


def find_compiler(cc: str | os.PathLike[str] | None = None) -> Toolchain:
    """Locate the host C compiler (and ``arm-none-eabi-gcc`` if installed).

    The host compiler is checked once by building and running a one-line program
    (:func:`check_compiler`).

    Parameters
    ----------
    cc : str or path, optional
        Compiler program or path; default: the ``CC`` environment variable, else ``cc``, else
        ``gcc``.

    Returns
    -------
    Toolchain

    Raises
    ------
    InputTypeError
        If ``cc`` is not a string or path.
    InputError
        If ``cc`` is empty or contains a NUL byte, is a directory or a file that is not
        executable, or is not a working C compiler (e.g. ``/bin/true``); the same for ``$CC``.
    DependencyError
        If no host C compiler can be found; the message names the package to install.
    """
    if cc is not None:
        if isinstance(cc, bytes) or not isinstance(cc, str | os.PathLike):
            raise InputTypeError(
                f"cc must be a compiler name or path such as 'gcc', got {type(cc).__name__}."
            )
        text = os.fspath(cc)
        if not isinstance(text, str) or not text.strip() or "\x00" in text:
            raise InputError(
                f"cc={text!r} is not a compiler name; pass e.g. 'gcc' or None for the default."
            )
        if os.path.dirname(text):  # a path, not a program name looked up on PATH
            if os.path.isdir(text):
                raise not_a_compiler(text, "cc", "it is a directory")
            if os.path.exists(text) and not os.access(text, os.X_OK):
                raise not_a_compiler(text, "cc", "it is a file that is not executable")
        candidates = [("cc", text)]
    else:
        env = os.environ.get("CC")
        candidates = [("$CC", env)] if env else []
        candidates += [("cc", "cc"), ("cc", "gcc")]
    for source, name in candidates:
        found = shutil.which(name)
        if found:
            check_compiler(found, source)
            return Toolchain(cc=found, arm_cc=shutil.which("arm-none-eabi-gcc"))
    raise DependencyError(
        f"No C compiler found (looked for {', '.join(repr(c) for _, c in candidates)}). Parity "
        "is proven by compiling the generated C: install one with `apt-get install gcc` (Debian/"
        "Ubuntu) or pass cc='/path/to/compiler'."
    )


def _digest(sources: Mapping[str, str], extra: Sequence[str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode())
        h.update(b"\0")
        h.update(sources[name].encode())
        h.update(b"\0")
    for item in extra:
        h.update(item.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _compile(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise ModelError(
            "Compiling the generated C failed; this is a bug in the export, please report it.\n"
            f"command: {' '.join(cmd)}\n" + "\n".join(tail)
        )


def build_executable(
    sources: Mapping[str, str],
    main: str,
    *,
    toolchain: Toolchain,
    include_dirs: Sequence[str] = (),
    flags: Sequence[str] = _HOST_FLAGS,
) -> Path:
    """Compile a host executable from in-memory sources, cached by content.

    Parameters
    ----------
    sources : mapping of str to str
        File name -> file text, written into one build directory.
    main : str
        Name of the C file (a key of ``sources``) to compile and link.
    toolchain : Toolchain
        From :func:`find_compiler`.
    include_dirs : sequence of str
        Extra ``-I`` directories (emlearn's headers).
    flags : sequence of str
        Compiler flags.

    Returns
    -------
    pathlib.Path
        The executable, inside the cache directory.
    """
    extra = [toolchain.cc, *flags, *include_dirs]
    key = _digest(sources, extra)
    cached = cache.lookup_executable(key)
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory(prefix="wb-edge-build-") as tmp:
        tmpdir = Path(tmp)
        for name, text in sources.items():
            (tmpdir / name).write_text(text, encoding="utf-8")
        cmd = [toolchain.cc, *flags, *(f"-I{d}" for d in include_dirs), "-I.", main]
        cmd += ["-o", "harness", "-lm"]
        _compile(cmd, tmpdir)
        if not (tmpdir / "harness").is_file():
            raise ModelError(
                f"{toolchain.cc} exited 0 but wrote no executable; pass a working C compiler "
                "as cc (e.g. 'gcc')."
            )
        return cache.store_executable(key, tmpdir / "harness")


def run_executable(
    exe: Path, args: Sequence[str], inputs: Mapping[str, np.ndarray], outputs: Sequence[str]
) -> tuple[dict[str, bytes], str]:
    """Run a harness in a temporary directory with binary input files; return its output files.

    The executable's sha256 is checked against the one recorded when it was built, right before
    it runs.

    Parameters
    ----------
    exe : pathlib.Path
        The executable, from :func:`build_executable`.
    args : sequence of str
        Command-line arguments (file names are relative to the temporary directory).
    inputs : mapping of str to numpy.ndarray
        File name -> array written with ``tofile``.
    outputs : sequence of str
        File names to read back.

    Returns
    -------
    files : dict of str to bytes
    stdout : str

    Raises
    ------
    IntegrityError
        If the executable was changed after it was built; it is not run.
    """
    cache.verify_executable(exe)
    with tempfile.TemporaryDirectory(prefix="wb-edge-run-") as tmp:
        tmpdir = Path(tmp)
        for name, arr in inputs.items():
            np.ascontiguousarray(arr).tofile(tmpdir / name)
        proc = subprocess.run(
            [str(exe), *args], cwd=tmpdir, capture_output=True, text=True, timeout=600
        )
        if proc.returncode != 0:
            raise ModelError(
                f"The compiled harness failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-500:]}"
            )
        return {name: (tmpdir / name).read_bytes() for name in outputs}, proc.stdout


_PROBE = """
#include <stdint.h>
{include}
volatile float wb_probe_in[{n_in}];
volatile int32_t wb_probe_out;

int main(void) {{
    {in_type} x[{n_in}];
    for (int i = 0; i < {n_in}; i++) {{ x[i] = ({in_type})wb_probe_in[i]; }}
    {call}
    return 0;
}}
"""

_ARM_STARTUP = """
extern int main(void);
void _exit(int code) { (void)code; for (;;) {} }
void Reset_Handler(void) { main(); for (;;) {} }
"""


def _size_tool(cc: str) -> str:
    base = os.path.basename(cc)
    prefix = base[: -len("gcc")] if base.endswith("gcc") else ""
    tool = shutil.which(prefix + "size", path=os.path.dirname(cc) or None) or shutil.which(
        prefix + "size"
    )
    if tool is None:
        raise DependencyError(
            f"The {prefix or 'host '}size tool (binutils) is missing; install it with "
            "`apt-get install binutils` (or binutils-arm-none-eabi)."
        )
    return tool


def _berkeley(size_tool: str, binary: Path) -> tuple[int, int, int]:
    proc = subprocess.run([size_tool, str(binary)], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in proc.stdout.strip().splitlines()[-1].split()[:3])
    return text, data, bss


def measure_size(
    header: str,
    header_name: str,
    *,
    call: str,
    in_type: str,
    n_in: int,
    toolchain: Toolchain,
    include_dirs: Sequence[str] = (),
    targets: Sequence[str] | None = None,
    extra_sources: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """Measure flash and RAM of a model by a minimal link with and without it.

    The size of the model is the difference between a program that feeds a volatile input to
    the model and writes its output, and the same program without the model call. Flash is
    text+rodata+data, RAM is data+bss (stack is not included).

    Parameters
    ----------
    header : str
        The model's C header text.
    header_name : str
        File name it is included as.
    call : str
        C statement calling the model on ``x`` and storing into ``wb_probe_out``.
    in_type : str
        C type of the input array.
    n_in : int
        Input length.
    toolchain : Toolchain
        Compilers to use.
    include_dirs : sequence of str
        Extra include directories.
    targets : sequence of str, optional
        Subset of ``"host"`` and :data:`ARM_TARGETS`; default: every available one.
    extra_sources : mapping of str to str, optional
        More headers (file name -> text) the header includes.

    Returns
    -------
    list of dict
        One row per target: ``target``, ``flash_bytes``, ``ram_bytes``, ``text``, ``data``,
        ``bss``, ``compiler``.
    """
    if targets is None:
        targets = [*ARM_TARGETS] if toolchain.arm_cc else ["host"]
    sources = {
        header_name: header,
        "with_model.c": _PROBE.format(
            include=f'#include "{header_name}"', n_in=n_in, in_type=in_type, call=call
        ),
        "baseline.c": _PROBE.format(
            include="", n_in=n_in, in_type=in_type, call="wb_probe_out = (int32_t)x[0];"
        ),
        "startup.c": _ARM_STARTUP,
        **(extra_sources or {}),
    }
    rows: list[dict[str, object]] = []
    key = _digest(sources, [toolchain.cc, str(toolchain.arm_cc), *include_dirs, *targets])
    cached = _parse_sizes(cache.read_text(key, "sizes.txt"), len(targets))
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory(prefix="wb-edge-size-") as tmp:
        tmpdir = Path(tmp)
        for name, text in sources.items():
            (tmpdir / name).write_text(text, encoding="utf-8")
        incs = [f"-I{d}" for d in include_dirs] + ["-I."]
        for target in targets:
            if target == "host":
                cc, flags, extra = toolchain.cc, [*_SIZE_FLAGS], ["-lm"]
            elif target in ARM_TARGETS:
                if toolchain.arm_cc is None:
                    raise DependencyError(
                        f"Target {target!r} needs arm-none-eabi-gcc: `apt-get install "
                        "gcc-arm-none-eabi libnewlib-arm-none-eabi`."
                    )
                cc = toolchain.arm_cc
                flags = [*ARM_TARGETS[target], *_SIZE_FLAGS, "-nostartfiles", "-e", "Reset_Handler"]
                flags += ["--specs=nano.specs", "--specs=nosys.specs"]
                extra = ["startup.c", "-lm"]
            else:
                raise ModelError(
                    f"Unknown size target {target!r}; use 'host' or {list(ARM_TARGETS)}."
                )
            sizes = []
            for prog in ("with_model", "baseline"):
                # The baseline depends only on the probe's input and the target: cache it alone.
                base_key = _digest({"baseline.c": sources["baseline.c"]}, [cc, *flags])
                base = _parse_sizes(cache.read_text(base_key, "baseline.txt"), 1)
                if prog == "baseline" and base is not None:
                    sizes.append((base[0]["text"], base[0]["data"], base[0]["bss"]))
                    continue
                cmd = [cc, *flags, *incs, f"{prog}.c", *extra[:-1], "-o", f"{prog}.{target}"]
                cmd.append(extra[-1])
                _compile(cmd, tmpdir)
                sizes.append(_berkeley(_size_tool(cc), tmpdir / f"{prog}.{target}"))
                if prog == "baseline":
                    base_row = _size_row("baseline", *sizes[-1], os.path.basename(cc))
                    cache.write_text(base_key, "baseline.txt", _format_sizes([base_row]))
            (t1, d1, b1), (t0, d0, b0) = sizes
            rows.append(_size_row(target, t1 - t0, d1 - d0, b1 - b0, os.path.basename(cc)))
    cache.write_text(key, "sizes.txt", _format_sizes(rows))
    return rows


def _format_sizes(rows: list[dict[str, object]]) -> str:
    return "\n".join(
        f"{r['target']}\t{r['text']}\t{r['data']}\t{r['bss']}\t{r['compiler']}" for r in rows
    )


def _parse_sizes(text: str | None, n_rows: int) -> list[dict[str, object]] | None:
    """Rows of a cached size file, or None when absent or unreadable (then measure again)."""
    if text is None:
        return None
    rows = []
    try:
        for line in text.splitlines():
            t, text_b, data, bss, comp = line.split("\t")
            rows.append(_size_row(t, int(text_b), int(data), int(bss), comp))
    except ValueError:
        return None
    return rows if len(rows) == n_rows else None


def _size_row(target: str, text: int, data: int, bss: int, compiler: str) -> dict[str, object]:
    return {
        "target": target,
        "flash_bytes": text + data,
        "ram_bytes": data + bss,
        "text": text,
        "data": data,
        "bss": bss,
        "compiler": compiler,
    }
