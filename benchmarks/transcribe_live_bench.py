"""A simulated 2-hour microphone session through LiveSession: memory stays bounded.

The stream is 120 minutes of 16-kHz audio in 0.5-s chunks with sequence numbers, fed through
the real path: ``LiveSession`` (queue, worker thread, reordering), the session recorder (WAV and
word log on disk, fsync'd every second) and the real model (Whisper tiny.en int8 via
``Transcriber``). Each minute holds 12 s of speech (a slice of the demo clip, cycling) and 48 s of
quiet room noise (-60 dBFS).

Reduced duty, said plainly: decoding two hours of continuous speech takes about as long as the
speech on two shared cores, so only a fifth of the stream is speech and the transcriber runs
with ``vad_filter=True`` (Silero VAD skips the quiet parts, so a pass over them costs
milliseconds). Every sample still goes through the queue, the streaming buffer, the recorder and
the disk. Chunks are fed faster than real time, with at most ~10 s queued (as a live stream that
the worker keeps up with). Every 1 % of chunks is dropped and one in 200 arrives late, to exercise
the gap path.

Recorded every 10 simulated minutes: the process's RSS (and peak), the session's buffers
(``LiveSession.buffer_sizes``), confirmed words, and the audio on disk. The goal (issue 17):
RSS < 600 MB for the whole 2 hours, with the buffers flat rather than growing.

Run: ``.venv/bin/python benchmarks/transcribe_live_bench.py [--minutes 120]``; writes
``benchmarks/results/transcribe_live.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from workbench.transcribe import (
    SAMPLE_RATE,
    LiveSession,
    Transcriber,
    Transcript,
    demo_clip,
    load_audio,
)

OUT = Path(__file__).with_name("results") / "transcribe_live.md"
CHUNK = SAMPLE_RATE // 2
SPEECH_S, MINUTE_S = 12, 60


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process, MB."""
    fields = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    now = int(fields["VmRSS"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return now, peak


def minute_of_audio(clip: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    start = (k * SPEECH_S * SAMPLE_RATE) % max(1, clip.size - SPEECH_S * SAMPLE_RATE)
    speech = clip[start : start + SPEECH_S * SAMPLE_RATE]
    quiet = rng.normal(0, 1e-3, (MINUTE_S - SPEECH_S) * SAMPLE_RATE).astype(np.float32)
    return np.concatenate([speech, quiet])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rng = np.random.default_rng(17)
    clip = load_audio(demo_clip())
    base_now, _ = rss_mb()
    transcriber = Transcriber(vad_filter=True).load()
    model_now, _ = rss_mb()
    rows = []
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wb-live-bench-") as tmp:
        live = LiveSession(transcriber, folder=Path(tmp) / "session")
        seq = 0
        late: list[tuple[int, np.ndarray]] = []
        peaks = {"queued_samples": 0, "held_chunks": 0, "arrival_marks": 0, "summary_words": 0}
        for minute in range(args.minutes):
            audio = minute_of_audio(clip, minute, rng)
            for i in range(0, audio.size, CHUNK):
                chunk = audio[i : i + CHUNK]
                r = rng.random()
                if r < 0.01:
                    pass  # dropped: filled with silence and reported
                elif r < 0.015:
                    late.append((seq, chunk))  # comes after its gap was filled
                else:
                    live.feed(chunk, seq=seq)
                if late and seq - late[0][0] > 8:
                    live.feed(late[0][1], seq=late[0][0])
                    late.pop(0)
                seq += 1
                for key, value in live.buffer_sizes().items():
                    if key in peaks:
                        peaks[key] = max(peaks[key], value)
                while live.queued_s > 10:
                    time.sleep(0.02)
            if (minute + 1) % 10 == 0 or minute + 1 == args.minutes:
                while live.queued_s > 0.5:
                    time.sleep(0.05)
                now, peak = rss_mb()
                sizes = live.buffer_sizes()
                stats = live.stats()
                rows.append(
                    {
                        "minute": minute + 1,
                        "rss": now,
                        "peak": peak,
                        "words": stats["n_words"],
                        "arrival_marks": sizes["arrival_marks"],
                        "summary_words": sizes["summary_words"],
                        "queued_s": sizes["queued_samples"] / SAMPLE_RATE,
                        "disk_mb": (Path(live.folder_) / "audio.wav").stat().st_size / 2**20,
                        "gaps": stats["gaps"],
                        "wall": time.perf_counter() - wall0,
                    }
                )
                print(rows[-1], flush=True)
        transcript = live.stop()
        end_now, end_peak = rss_mb()
        restored = Transcript.load(live.folder_)
        files = sorted(p.name for p in Path(live.folder_).iterdir())
        kinds = [g["kind"] for g in live.gaps_]
    wall = time.perf_counter() - wall0
    load1 = os.getloadavg()[0]
    lines = [
        "# Live session: a simulated 2-hour stream (issue 17)",
        "",
        f"Written by `benchmarks/transcribe_live_bench.py --minutes {args.minutes}` "
        f"({wall / 60:.1f} min wall, load average {load1:.1f} at the end on a shared 2-core "
        "machine).",
        "",
        f"- Stream: {args.minutes} min of 16-kHz audio in 0.5-s chunks through `LiveSession` "
        "(queue, worker thread, reordering), the session recorder (WAV + word log on disk) and "
        "the real model (tiny.en int8, `Transcriber` defaults: beam search 5; a pass every "
        f"{live.stream_.min_chunk_s:g} s of audio).",
        f"- **Reduced duty**: each minute is {SPEECH_S} s of speech (the demo clip, cycling) and "
        f"{MINUTE_S - SPEECH_S} s of quiet noise; the transcriber runs with `vad_filter=True`, so "
        "passes over the quiet parts cost milliseconds. Every sample still passes through the "
        "queue, the streaming buffer and the recorder.",
        f"- Chunks fed faster than real time (at most ~10 s queued); {kinds.count('lost')} gaps "
        f"of dropped chunks filled with silence and {kinds.count('late')} late chunks dropped, "
        "all reported.",
        f"- RSS before the model {base_now:.0f} MB, with the model loaded {model_now:.0f} MB.",
        "",
        "| minute | RSS MB | peak RSS MB | confirmed words | arrival marks | summary-window words"
        " | queued s | audio on disk MB | gaps |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['minute']} | {r['rss']:.0f} | {r['peak']:.0f} | {r['words']} | "
        f"{r['arrival_marks']} | {r['summary_words']} | {r['queued_s']:.1f} | "
        f"{r['disk_mb']:.0f} | {r['gaps']} |"
        for r in rows
    ]
    ok = end_peak < 600
    first = [r["rss"] for r in rows if r["minute"] <= args.minutes // 2]
    second = [r["rss"] for r in rows if r["minute"] > args.minutes // 2]
    lines += [
        "",
        f"RSS over the first half {min(first, default=0):.0f}-{max(first, default=0):.0f} MB, "
        f"over the second half {min(second, default=0):.0f}-{max(second, default=0):.0f} MB: it "
        "rises while the native decoder (CTranslate2, the VAD's onnxruntime) allocates buffers "
        "for new window lengths, then stays flat (a model-free run of the same loop, "
        "`tests/transcribe/test_transcribe_live.py`, keeps the Python side flat too).",
        "",
        f"Peaks over the run: queued audio {peaks['queued_samples'] / SAMPLE_RATE:.1f} s, "
        f"held early chunks {peaks['held_chunks']}, arrival marks {peaks['arrival_marks']}, "
        f"summary-window words {peaks['summary_words']}.",
        "",
        f"After stop: RSS {end_now:.0f} MB, **peak RSS {end_peak:.0f} MB** "
        f"({'meets' if ok else 'misses'} the goal < 600 MB). The folder held {', '.join(files)}; "
        f"`Transcript.load` restored {len(restored.words)} words "
        f"(the session confirmed {len(transcript.words) if transcript else 0}).",
        "",
        "The confirmed words (the transcript itself) grow with the session, a few hundred bytes "
        "each; every other buffer stays flat: the streaming buffer is trimmed to at most one "
        "Whisper window, per-pass updates are dropped once read, the delay histogram has fixed "
        "bins, and the rolling summary reads only its last 10 minutes.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
