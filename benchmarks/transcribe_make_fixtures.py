"""Regenerate the committed speech fixtures from their source texts with espeak-ng.

Each ``<name>.txt`` under ``tests/transcribe/data/`` and ``workbench/transcribe/data/`` is spoken
by espeak-ng (voice en-us, 150 words per minute) and written next to it as ``<name>.wav``
(16 kHz mono 16-bit). Run from the repository root:

    .venv/bin/python benchmarks/transcribe_make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

from workbench.transcribe import synthesize

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "tests" / "transcribe" / "data", ROOT / "workbench" / "transcribe" / "data"]


def main() -> None:
    """Speak every source text and write its WAV file."""
    total = 0
    for folder in FOLDERS:
        for txt in sorted(folder.glob("*.txt")):
            wav = txt.with_suffix(".wav")
            audio = synthesize(txt.read_text(encoding="utf-8").strip(), wav)
            total += wav.stat().st_size
            print(f"{wav.relative_to(ROOT)}: {audio.size / 16000:.1f} s, {wav.stat().st_size} B")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
