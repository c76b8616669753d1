"""Local transcription: Transcribe and summarize speech offline on the CPU with faster-whisper, live or from a file."""
