"""Launcher entry of the local transcription tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="transcribe",
    title="Local transcription",
    description=(
        "Transcribe and summarize speech offline on the CPU with faster-whisper, "
        "live or from a file."
    ),
    panel="workbench.transcribe.panel:TranscribePanel",
    notebook="03_local_transcription.ipynb",
    order=30,
)
