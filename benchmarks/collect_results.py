"""Gather every tool's latest benchmark tables into ``benchmarks/RESULTS.md``.

Each benchmark script writes its own ``benchmarks/results/<tool>.md`` (extensions write theirs
under ``extensions/<name>/benchmarks/results/``); run this afterwards:
``.venv/bin/python benchmarks/collect_results.py``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["indb", "edge", "transcribe", "valuation", "coldstart", "privacy", "privacy_timing"]


def _demote(text: str) -> str:
    """Push every Markdown heading one level down (outside code fences)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


def main() -> None:
    """Write ``benchmarks/RESULTS.md`` from the per-tool result files."""
    results = ROOT / "benchmarks" / "results"
    files = [results / f"{name}.md" for name in ORDER if (results / f"{name}.md").exists()]
    files += sorted(p for p in results.glob("*.md") if p not in files)
    files += sorted(ROOT.glob("extensions/*/benchmarks/results/*.md"))
    parts = [
        "# Benchmark results\n",
        "Latest measured tables, one section per tool, gathered by "
        "`benchmarks/collect_results.py` from the files each benchmark script writes. Each "
        "section says how it was measured; most were taken on the 2-core development machine "
        "while other jobs shared it, so absolute times are pessimistic while ratios measured in "
        "the same run hold.\n",
    ]
    for path in files:
        rel = path.relative_to(ROOT)
        parts.append(f"<!-- from {rel} -->\n{_demote(path.read_text(encoding='utf-8').strip())}\n")
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote benchmarks/RESULTS.md from {len(files)} files")


if __name__ == "__main__":
    main()
