"""Regenerate the committed speech fixtures from their source texts with espeak-ng.

Each ``<name>.txt`` under ``tests/transcribe/data/`` and ``workbench/transcribe/data/`` is spoken
by espeak-ng (voice en-us, 150 words per minute) and written next to it as ``<name>.wav``
(16 kHz mono 16-bit). ``--repetition`` records instead the decoder passes that
``tests/transcribe/data/repetition_passes.json`` replays: the issue 17 case, where tiny.en copied
"Third, we'll" over "Sarah will prepare" (espeak-ng en-us, 175 wpm, 1-s chunks, 0.3-s simulated
passes, the streaming settings of the time, with and without the repetition guard; the output
depends on the CPU's instruction set, so re-record only to replace the file). Run from the
repository root:

    .venv/bin/python benchmarks/transcribe_make_fixtures.py [--repetition]
"""

from __future__ import annotations

import json
import sys
import time
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


REPETITION_TEXT = (
    "Good afternoon. First, we'll look at the numbers. Second, we'll talk about hiring. "
    "Third, we'll plan the launch. Sarah will prepare the slides for Monday. "
    "Tom will book the room."
)


def record_repetition() -> None:
    """Record every decoder pass of the issue's case, with and without the guard."""
    from workbench.transcribe import StreamingSession, Transcriber, iter_chunks

    clock = [0.0]
    time.perf_counter = lambda: clock[0]  # each pass takes 0.3 s, whatever the machine
    decode = Transcriber.decode
    passes: dict[str, list] = {}

    def recording(self, samples, **kw):
        clock[0] += 0.3
        segments = list(decode(self, samples, **kw))
        prompt = "prompt" if kw.get("initial_prompt") else "none"
        key = f"{kw['offset']:.2f} {samples.size} {prompt}"
        passes[key] = [
            [round(w.start - kw["offset"], 2), round(w.end - kw["offset"], 2), w.text,
             round(w.probability, 2)]
            for s in segments for w in s.words
        ]  # fmt: skip
        yield from segments

    Transcriber.decode = recording
    audio = synthesize(REPETITION_TEXT, voice="en-us", words_per_minute=175)
    for guard in (False, True):
        session = StreamingSession(
            Transcriber(beam_size=1).load(), min_chunk_s=1.0, buffer_trim_s=10.0,
            prompt_chars=200, min_buffer_s=0.0, edge_s=0.0, skip_silence=False,
            repetition_guard=guard, summary_sentences=0,
        )  # fmt: skip
        for chunk in iter_chunks(audio, 1.0):
            session.push(chunk)
        print(f"guard={guard}: {session.finish().confirmed}")
    out = ROOT / "tests" / "transcribe" / "data" / "repetition_passes.json"
    data = json.loads(out.read_text(encoding="utf-8"))
    data.update({"text": REPETITION_TEXT, "n_samples": int(audio.size), "passes": passes})
    out.write_text(json.dumps(data, indent=0), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    record_repetition() if "--repetition" in sys.argv else main()
