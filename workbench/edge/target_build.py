"""Build a bare-metal Cortex-M image of an exported model with its test rows, and run it in QEMU.

The image is the model's header, a harness that predicts every embedded row and prints the
classes and the probabilities' float32 bits in hex over ARM semihosting, the start-up code and
linker script in ``data/target/`` (one memory map serves both MPS2 boards), and newlib's libm.

Targets (:data:`TARGETS`):

- ``"cortex-m4f"``: ``-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16`` on QEMU's
  ``mps2-an386`` (a Cortex-M4 with FPU).
- ``"cortex-m0"``: ``-mcpu=cortex-m0 -mfloat-abi=soft`` (ARMv6-M, Thumb-1 only, newlib's
  ``thumb/v6-m/nofp`` libraries) on ``mps2-an385``. QEMU has no Cortex-M0 board; the an385's
  Cortex-M3 executes ARMv6-M code unchanged (ARMv6-M is a subset of ARMv7-M), so the image and
  its instruction stream are those of an M0. The ELF's build attributes are read back
  (``Tag_CPU_arch``) to show that no ARMv7-M object slipped in.

Instructions are counted with ``-icount shift=0``: QEMU then advances its virtual clock by
exactly 1 ns per executed guest instruction, and the SysTick timer, clocked from the CPU clock,
counts that virtual time. A loop of known length calibrates instructions per tick (40 on these
boards: a 25 MHz clock), so the count is exact to one tick per measured loop.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from workbench.core.errors import DependencyError, InputError, ModelError, WorkbenchError
from workbench.edge.cinterface import GeneratedC
from workbench.edge.compiler import ARM_TARGETS

__all__ = [
    "CALIBRATION_INSTRUCTIONS",
    "DATA_DIR",
    "TARGETS",
    "TargetOutput",
    "TargetTimeoutError",
    "build_image",
    "elf_arch",
    "elf_size",
    "find_arm_compiler",
    "find_qemu",
    "image_sources",
    "parse_output",
    "qemu_command",
    "run_image",
    "tool_version",
]

#: Start-up code, the harness's helper header and the linker script.
DATA_DIR = Path(__file__).parent / "data" / "target"

#: CPU name -> (QEMU machine, what runs there).
TARGETS: dict[str, tuple[str, str]] = {
    "cortex-m4f": ("mps2-an386", "Cortex-M4F, hard float (fpv4-sp-d16)"),
    "cortex-m0": ("mps2-an385", "Cortex-M0 code (ARMv6-M, soft float) on the an385's Cortex-M3"),
}

_LOOP_ITERATIONS = 1 << 20
#: Instructions executed by the calibration loop (``subs`` + ``bne`` per iteration).
CALIBRATION_INSTRUCTIONS = 2 * _LOOP_ITERATIONS

_FLAGS = (
    "-Os", "-std=c99", "-Wall", "-Wno-unused-function", "-ffunction-sections",
    "-fdata-sections", "-Wl,--gc-sections", "-nostartfiles", "--specs=nano.specs",
    "--specs=nosys.specs",
)  # fmt: skip

_HARNESS = """
#include <stdint.h>
#include <string.h>
#include "wb_target.h"
#include "{header}"
#include "wb_rows.h"

#define WB_NF {NAME}_N_FEATURES
#define WB_NC {NAME}_N_CLASSES
typedef {name}_input_t wb_in_t;
static volatile int32_t wb_sink;

/* Both timed loops call through the same kind of function, so their difference is the model. */
__attribute__((noinline, noipa)) static int32_t wb_model(const wb_in_t *x) {{
    return {name}_predict(x);
}}
__attribute__((noinline, noipa)) static int32_t wb_empty(const wb_in_t *x) {{
    return (int32_t)(x[0] > 0);
}}

static void wb_load(uint32_t i, wb_in_t *x) {{
    for (uint32_t j = 0; j < WB_NF; j++) x[j] = (wb_in_t)wb_rows[i * WB_NF + j];
}}

/* SysTick ticks of predicting every row {reps} time(s). The timer is read once per row, so the
 * sum telescopes (one tick of uncertainty in all); one prediction must take < 2^24 ticks. */
static uint64_t wb_time(int32_t (*fn)(const wb_in_t *)) {{
    wb_in_t x[WB_NF];
    uint64_t total = 0;
    uint32_t prev = WB_SYST_CVR;
    for (uint32_t r = 0; r < {reps}u; r++) {{
        for (uint32_t i = 0; i < WB_N_ROWS; i++) {{
            wb_load(i, x);
            wb_sink += fn(x);
            const uint32_t now = WB_SYST_CVR;
            total += (prev - now) & 0x00FFFFFFu;
            prev = now;
        }}
    }}
    return total;
}}

int main(void) {{
    wb_in_t x[WB_NF];
    float p[WB_NC];
    wb_systick_start();
    wb_puts("WB_BEGIN\\n");
    for (uint32_t i = 0; i < WB_N_ROWS; i++) {{
        wb_load(i, x);
        const int32_t c = {name}_predict(x);
        {name}_predict_proba(x, p);
        wb_put_hex((uint32_t)c);
        for (uint32_t k = 0; k < WB_NC; k++) {{
            uint32_t bits;
            memcpy(&bits, &p[k], sizeof bits);
            wb_put_hex(bits);
        }}
        wb_puts("\\n");
    }}
    const uint64_t model = wb_time(wb_model), base = wb_time(wb_empty);
    const uint32_t cal = wb_calibrate({loops}u);
    wb_puts("WB_TICKS ");
    wb_put_hex((uint32_t)(model >> 32));
    wb_put_hex((uint32_t)model);
    wb_put_hex((uint32_t)(base >> 32));
    wb_put_hex((uint32_t)base);
    wb_put_hex(cal);
    wb_puts("\\nWB_STACK ");
    wb_put_hex(wb_stack_peak());
    wb_puts("\\nWB_END\\n");
    return 0;
}}
"""


class TargetTimeoutError(WorkbenchError, TimeoutError):
    """The emulated target did not finish within the time allowed; QEMU was stopped."""


def find_qemu() -> str:
    """Absolute path of ``qemu-system-arm`` on ``PATH``.

    Raises
    ------
    DependencyError
        If it is not installed; the message names the Debian package.
    """
    found = shutil.which("qemu-system-arm")
    if found is None:
        raise DependencyError(
            "qemu-system-arm is not installed, so the model cannot run on an emulated Cortex-M. "
            "Install it with `apt-get install qemu-system-arm` (Debian/Ubuntu package "
            "qemu-system-arm) and make sure it is on PATH."
        )
    return found


def _tool_output(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def find_arm_compiler(cc: str | os.PathLike[str] | None) -> str:
    """Absolute path of a working ``arm-none-eabi-gcc`` with newlib.

    Parameters
    ----------
    cc : str or path or None
        The cross compiler; None looks for ``arm-none-eabi-gcc`` on ``PATH``.

    Raises
    ------
    InputError
        If ``cc`` is given but is not an ``arm-none-eabi`` C compiler.
    DependencyError
        If no cross compiler or no newlib is installed; names the Debian packages.
    """
    install = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
    if cc is None:
        found = shutil.which("arm-none-eabi-gcc")
        if found is None:
            raise DependencyError(
                f"arm-none-eabi-gcc is not installed: the target image cannot be built. Run "
                f"`{install}` (Debian/Ubuntu packages gcc-arm-none-eabi and "
                "libnewlib-arm-none-eabi), or pass cc='/path/to/arm-none-eabi-gcc'."
            )
    else:
        found = shutil.which(os.fspath(cc))
        if found is None:
            raise InputError(
                f"cc={os.fspath(cc)!r} is not an executable program; pass the path of "
                f"arm-none-eabi-gcc, or None to find it on PATH (install: `{install}`)."
            )
    machine = _tool_output([found, "-dumpmachine"])
    if not machine.startswith("arm-none-eabi"):
        raise InputError(
            f"cc={found!r} is not a bare-metal ARM compiler (it reports target "
            f"{machine or 'nothing'!r}); pass arm-none-eabi-gcc or None."
        )
    specs = _tool_output([found, "-print-file-name=nano.specs"])
    if not specs or not Path(specs).is_file():
        raise DependencyError(
            f"{found} has no newlib (nano.specs not found); install it with `{install}`."
        )
    return found


def _c_float(v: float) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return float(v).hex() + "f"  # exact: every float32 is a double


def image_sources(code: GeneratedC, X32: np.ndarray, reps: int) -> dict[str, str]:
    """The C files of the image: model header, rows (exact hex floats) and harness.

    Parameters
    ----------
    code : GeneratedC
        The exported model's header.
    X32 : numpy.ndarray of float32, shape (n_rows, n_features)
    reps : int
        Passes over the rows in the timed loop.

    Returns
    -------
    dict of str to str
        File name -> text; the start-up files come from :data:`DATA_DIR`.
    """
    values = ",\n".join(
        ", ".join(_c_float(v) for v in row) for row in np.asarray(X32, dtype=np.float32)
    )
    rows = (
        "#include <math.h>\n"
        f"#define WB_N_ROWS {len(X32)}u\n"
        f"static const float wb_rows[{max(X32.size, 1)}] = {{\n{values or '0'}\n}};\n"
    )
    harness = _HARNESS.format(
        header=f"{code.name}.h",
        name=code.name,
        NAME=code.name.upper(),
        loops=_LOOP_ITERATIONS,
        reps=reps,
    )
    return {f"{code.name}.h": code.header, "wb_rows.h": rows, "harness.c": harness}


def build_image(
    sources: Mapping[str, str], cpu: str, arm_cc: str, folder: Path, include_dirs: list[str]
) -> tuple[Path, list[str]]:
    """Compile and link the image for ``cpu`` in ``folder`` (a private folder made for it).

    Returns
    -------
    elf : pathlib.Path
    command : list of str
        The compiler command, for the report.

    Raises
    ------
    ModelError
        If compiling fails (the message holds the compiler's last lines).
    """
    for name, text in sources.items():
        (folder / name).write_text(text, encoding="utf-8")
    for name in ("startup.c", "wb_target.h", "mps2.ld"):
        if not (DATA_DIR / name).is_file():
            raise DependencyError(
                f"{DATA_DIR / name} is missing from the installed package; reinstall "
                "ml-trends-workbench (its package data includes workbench/edge/data/target/)."
            )
        shutil.copyfile(DATA_DIR / name, folder / name)
    cmd = [arm_cc, *ARM_TARGETS[cpu], *_FLAGS, "-T", "mps2.ld", "-I."]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += ["startup.c", "harness.c", "-o", "image.elf", "-lm"]
    try:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise ModelError("Compiling the target image took over 600 s; pass fewer rows.") from None
    elf = folder / "image.elf"
    if proc.returncode != 0 or not elf.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise ModelError(
            f"Building the {cpu} image failed (exit {proc.returncode}); is cc really "
            "arm-none-eabi-gcc with newlib? If it is, this is a bug in the export, please report "
            f"it.\ncommand: {' '.join(cmd)}\n" + "\n".join(tail)
        )
    return elf, cmd


def _binutil(arm_cc: str, tool: str) -> str:
    base = os.path.basename(arm_cc)
    name = (base[: -len("gcc")] if base.endswith("gcc") else "arm-none-eabi-") + tool
    found = shutil.which(name, path=os.path.dirname(arm_cc)) or shutil.which(name)
    if found is None:
        raise DependencyError(
            f"{name} is missing; install binutils-arm-none-eabi (it comes with gcc-arm-none-eabi)."
        )
    return found


def tool_version(cmd: list[str]) -> str:
    """First line a tool prints for ``cmd`` (e.g. ``[gcc, "-dumpversion"]``), or ``"unknown"``."""
    out = _tool_output(cmd)
    return out.splitlines()[0] if out else "unknown"


def elf_size(elf: Path, arm_cc: str) -> dict[str, int]:
    """``text``, ``data`` and ``bss`` of the image from ``arm-none-eabi-size``."""
    out = _tool_output([_binutil(arm_cc, "size"), str(elf)])
    try:
        text, data, bss = (int(v) for v in out.splitlines()[-1].split()[:3])
    except (IndexError, ValueError):
        raise ModelError(f"arm-none-eabi-size could not read {elf}: {out!r}") from None
    return {"text": text, "data": data, "bss": bss}


def elf_arch(elf: Path, arm_cc: str) -> str:
    """The image's merged ``Tag_CPU_arch`` build attribute (``"v6S-M"``, ``"v7E-M"``)."""
    out = _tool_output([_binutil(arm_cc, "readelf"), "-A", str(elf)])
    for line in out.splitlines():
        if line.strip().startswith("Tag_CPU_arch:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def qemu_command(qemu: str, cpu: str, elf: Path) -> list[str]:
    """The QEMU command line: semihosting to stdout, no display, one instruction per ns."""
    return [
        qemu, "-M", TARGETS[cpu][0], "-display", "none", "-monitor", "none", "-serial", "none",
        "-chardev", "stdio,id=wb,signal=off",
        "-semihosting-config", "enable=on,target=native,chardev=wb",
        "-icount", "shift=0", "-kernel", str(elf),
    ]  # fmt: skip


def run_image(cmd: list[str], timeout_s: float) -> tuple[str, str, int]:
    """Run QEMU; return stdout, stderr and the exit status.

    Raises
    ------
    TargetTimeoutError
        If it runs past ``timeout_s``: QEMU is killed and the error says so.
    """
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s
        )
    except OSError as exc:
        raise DependencyError(
            f"{cmd[0]} could not be started ({exc.strerror or exc}); reinstall it with "
            "`apt-get install qemu-system-arm`."
        ) from None
    except subprocess.TimeoutExpired:
        raise TargetTimeoutError(
            f"The emulated target ({cmd[2]}) did not finish within timeout_s={timeout_s:g} s, so "
            "QEMU was stopped. A large model on many rows needs longer: pass a larger "
            "timeout_s or fewer rows; if the model is small, its C code does not terminate."
        ) from None
    return proc.stdout, proc.stderr, proc.returncode


@dataclasses.dataclass
class TargetOutput:
    """What the image printed: per-row results and the measurements.

    Attributes
    ----------
    pred : numpy.ndarray of int32
    proba : numpy.ndarray of float32, shape (n_rows, n_classes)
    ticks_model, ticks_base : int
        SysTick ticks of one pass of ``predict`` over every row, and of the empty call.
    ticks_calibration : int
        Ticks of :data:`CALIBRATION_INSTRUCTIONS` instructions.
    stack_bytes : int
        Peak stack of the whole harness.
    """

    pred: np.ndarray
    proba: np.ndarray
    ticks_model: int
    ticks_base: int
    ticks_calibration: int
    stack_bytes: int


def _fail(what: str, stdout: str, stderr: str) -> ModelError:
    tail = "\n".join((stdout.strip().splitlines() + stderr.strip().splitlines())[-8:])
    return ModelError(f"{what}. Last output:\n{tail}")


def parse_output(
    stdout: str, stderr: str, status: int, n_rows: int, n_classes: int
) -> TargetOutput:
    """Read the image's semihosting output.

    Raises
    ------
    ModelError
        If the image faulted, exited with a failure or printed something unexpected.
    """
    lines = stdout.splitlines()
    if "WB_FAULT" in lines:
        printed = lines[: lines.index("WB_FAULT")]
        done = sum(len(line.split()) == n_classes + 1 for line in printed)
        where = "in the timed loop, " if done == n_rows else ""
        raise _fail(
            f"The image faulted on the target {where}after {done} of {n_rows} rows; its C code "
            "reads or runs something it must not",
            stdout,
            "",
        )
    if status != 0 or "WB_END" not in lines or "WB_BEGIN" not in lines:
        raise _fail(f"QEMU ended with status {status} before the image finished", stdout, stderr)
    start = lines.index("WB_BEGIN") + 1
    try:
        table = np.array(
            [[int(v, 16) for v in line.split()] for line in lines[start : start + n_rows]],
            dtype=np.uint32,
        ).reshape(n_rows, n_classes + 1)
        ticks = [int(v, 16) for v in lines[start + n_rows].split()[1:]]
        stack = int(lines[start + n_rows + 1].split()[1], 16)
    except (ValueError, IndexError):
        raise _fail("The image printed an unexpected result table", stdout, stderr) from None
    if len(ticks) != 5:
        raise _fail("The image printed no timing line", stdout, stderr)
    return TargetOutput(
        pred=table[:, 0].view(np.int32).copy(),
        proba=table[:, 1:].copy().view(np.float32),
        ticks_model=(ticks[0] << 32) | ticks[1],
        ticks_base=(ticks[2] << 32) | ticks[3],
        ticks_calibration=ticks[4],
        stack_bytes=stack,
    )
