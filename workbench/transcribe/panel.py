"""Transcription panel: file or demo clip in; growing transcript, summary and subtitles out."""

from __future__ import annotations

import base64
import html
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np

from workbench.core.errors import InputError
from workbench.core.progress import progress
from workbench.transcribe import (
    SAMPLE_RATE,
    AudioChunk,
    LiveSession,
    MicrophoneWidget,
    Segment,
    StreamingSession,
    StreamUpdate,
    Summary,
    Transcriber,
    Transcript,
    demo_clip,
    iter_chunks,
    load_audio,
    summarize,
)
from workbench.ui.base import ToolPanel

__all__ = ["TranscribePanel"]

_DEMO, _UPLOAD, _MIC = "Demo clip", "Uploaded file", "Microphone"


class TranscribePanel(ToolPanel):
    """Transcribe and summarize speech offline: whole files or played as a low-delay stream.

    Choose the bundled demo clip or upload a sound file, then *Transcribe* (segments appear as
    they are decoded) or *Play as stream* (the file is fed in chunks; confirmed text is black,
    tentative text grey). The summary lists the most central sentences with their times, and SRT
    and WebVTT subtitles can be downloaded; the finished transcript is shown below them, with its
    word confidences over time. :meth:`start_live`, :meth:`push_chunk` and :meth:`stop_live` let
    another widget push audio chunks.

    The *Microphone* source shows a :class:`MicrophoneWidget` (Start/Stop, level meter, elapsed
    time): its chunks feed a :class:`LiveSession` that records into a session folder (the
    *Folder* box, or a fresh private one) while confirmed text (black) and tentative text (grey)
    update live, with a rolling summary about every 20 s; Stop adds the downloads and the
    folder's SRT, VTT, JSON and TXT files.

    Attributes
    ----------
    transcribe_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    stream_button : ipywidgets.Button
    result : Transcript or None
        The last transcript.
    summary : Summary or None
        Its summary.
    stream_stats : StreamStats or None
        Latency of the last stream.
    microphone : MicrophoneWidget
        Shown when the source is *Microphone*.
    live_session : LiveSession or None
        The microphone's session (kept after Stop).
    """

    def __init__(self) -> None:
        super().__init__(
            "Local transcription",
            "Whisper tiny.en (int8) on the CPU, offline; extractive summary with timestamps.",
        )
        self.source = widgets.ToggleButtons(
            options=[_DEMO, _UPLOAD, _MIC], value=_DEMO, description="Audio"
        )
        self.microphone = MicrophoneWidget(on_chunk=self._on_mic_chunk)
        self.microphone.on_event(self._on_mic_event)
        self.microphone.observe(self._on_mic_error, names="error")
        self.folder = widgets.Text(
            placeholder="session folder (empty: a new private one under ./live_sessions)",
            description="Folder",
            layout=widgets.Layout(width="60%"),
        )
        self.mic_box = widgets.VBox(
            [self.microphone, self.folder], layout=widgets.Layout(display="none")
        )
        self.source.observe(self._on_source, names="value")
        self.upload = widgets.FileUpload(
            accept=".wav,.mp3,.flac,.ogg,.m4a,.webm,audio/*", multiple=False, description="Upload"
        )
        self.upload.observe(self._on_upload, names="value")
        self.vad = widgets.Checkbox(value=False, description="Skip silence (Silero VAD)")
        self.beam_size = widgets.Dropdown(
            options=[("greedy (1)", 1), ("beam search (5)", 5)], value=5, description="Decoding"
        )
        self.n_sentences = widgets.IntSlider(value=3, min=1, max=10, description="Summary")
        self.chunk_s = widgets.FloatSlider(
            value=1.0, min=0.5, max=3.0, step=0.5, description="Chunk (s)"
        )
        self.transcribe_button = self.set_main_button(
            widgets.Button(description="Transcribe", icon="file-audio-o")
        )
        self.stream_button = widgets.Button(description="Play as stream", icon="play")
        self.transcribe_button.on_click(lambda _b: self.transcribe())
        self.stream_button.on_click(lambda _b: self.play_stream())
        self.controls.children = [
            widgets.HBox([self.source, self.upload]),
            self.mic_box,
            widgets.HBox([self.beam_size, self.vad]),
            widgets.HBox([self.n_sentences, self.chunk_s]),
            widgets.HBox([self.transcribe_button, self.stream_button]),
        ]
        self.transcript_html = widgets.HTML("")
        self.summary_html = widgets.HTML("")
        self.downloads = widgets.HTML("")
        # The live text, summary and links stand above the finished transcript (the output area).
        self.children = [
            *self.children[:-1],
            self.transcript_html,
            self.summary_html,
            self.downloads,
            self.output,
        ]
        self.result: Transcript | None = None
        self.summary: Summary | None = None
        self.stream_stats: Any = None
        self._live: StreamingSession | None = None
        self.live_session: LiveSession | None = None

    # -- inputs -------------------------------------------------------------------------------
    def _on_upload(self, _change: Any) -> None:
        if self.upload.value:
            self.source.value = _UPLOAD

    def _on_source(self, _change: Any) -> None:
        self.mic_box.layout.display = "flex" if self.source.value == _MIC else "none"
        if self.source.value == _MIC:
            # Load the model now, so that Start does not keep the first words waiting for it.
            # In this thread: loading it in a background thread made every later pass slow in
            # the browser test (confirmation delay 15-21 s instead of 1.7-1.8 s; cause not found).
            try:
                self._transcriber().load()
            except Exception as exc:  # shown now rather than when Start is pressed
                self.show_exception(exc)

    def _audio(self) -> np.ndarray:
        if self.source.value == _MIC:
            raise InputError(
                "The microphone records live: press Start in the microphone widget "
                "(Transcribe and Play as stream take the demo clip or an uploaded file)."
            )
        if self.source.value == _DEMO:
            return load_audio(demo_clip())
        files = self.upload.value
        if not files:
            raise InputError("No file uploaded; use the Upload button or choose the demo clip.")
        item = files[0] if isinstance(files, list | tuple) else next(iter(files.values()))
        return load_audio(bytes(item["content"]))

    def _transcriber(self) -> Transcriber:
        return Transcriber(beam_size=self.beam_size.value, vad_filter=self.vad.value)

    # -- whole file ---------------------------------------------------------------------------
    def transcribe(self) -> Transcript | None:
        """Transcribe the chosen audio, showing segments as they come; returns the transcript."""
        self._clear()
        return self.run(self._transcribe, busy="Transcribing…")

    def _transcribe(self) -> Transcript:
        samples = self._audio()
        shown: list[Segment] = []

        def show(segment: Segment) -> None:
            shown.append(segment)
            self.transcript_html.value = _segments_html(shown)

        transcript = self._transcriber().transcribe(samples, on_segment=show)
        self._finish(transcript)
        return transcript

    # -- streaming ----------------------------------------------------------------------------
    def play_stream(self) -> StreamUpdate | None:
        """Feed the chosen audio in chunks through the streaming transcriber."""
        self._clear()
        return self.run(self._play_stream, busy="Streaming…")

    def _play_stream(self) -> StreamUpdate | None:
        samples = self._audio()
        step = self.chunk_s.value
        n_chunks = int(np.ceil(samples.size / (step * SAMPLE_RATE)))
        chunks = progress(iter_chunks(samples, step), total=n_chunks, desc="Chunks")
        self.start_live()
        last = None
        for chunk in chunks:
            last = self.push_chunk(chunk) or last
        return self.stop_live() or last

    def start_live(self) -> None:
        """Open a streaming session that :meth:`push_chunk` feeds (16 kHz float chunks)."""
        self._clear()
        self._live = StreamingSession(
            self._transcriber(),
            min_chunk_s=self.chunk_s.value,
            summary_sentences=self.n_sentences.value,
        )

    def push_chunk(self, chunk: np.ndarray) -> StreamUpdate | None:
        """Add a chunk of audio to the live session and show the confirmed/tentative text."""
        if self._live is None:
            raise InputError("No live stream is open; call start_live() first.")
        update = self._live.push(chunk)
        if update is not None:
            self._show_update(update)
        return update

    def stop_live(self) -> StreamUpdate | None:
        """Close the live session: confirm what is left, show the summary and subtitles."""
        if self._live is None:
            return None
        session, self._live = self._live, None
        update = session.finish()
        self._show_update(update)
        self.stream_stats = session.stats()
        self._finish(session.transcript())
        s = self.stream_stats
        self.transcript_html.value += (
            f"<div style='color:#555'>Confirmed-text delay: median {s.delay_median_s:.1f} s, "
            f"90th percentile {s.delay_p90_s:.1f} s over {s.n_words} words.</div>"
        )
        return update

    def _show_update(self, update: StreamUpdate) -> None:
        self.transcript_html.value = (
            f"<div style='font-size:110%'>{html.escape(update.confirmed)} "
            f"<span style='color:#999'>{html.escape(update.tentative)}</span></div>"
        )
        if update.running_summary is not None:
            self.summary_html.value = _summary_html(update.running_summary)

    # -- microphone ---------------------------------------------------------------------------
    def _on_mic_event(self, message: dict[str, Any]) -> None:
        if message.get("type") == "start":
            self.clear_error()
            try:
                self.start_microphone()
            except Exception as exc:
                self.show_exception(exc)
            else:
                self.show_status("Recording… press Stop to finish.")
        elif message.get("type") == "stop":
            # Stopping waits for the last decoding pass: not in the comm thread.
            threading.Thread(
                target=self.run,
                args=(self.stop_microphone,),
                kwargs={"busy": "Finishing…"},
                daemon=True,
            ).start()

    def _on_mic_error(self, change: Any) -> None:
        if change["new"]:
            self.show_error(change["new"])

    def _on_mic_chunk(self, chunk: AudioChunk) -> None:
        if self.live_session is not None and self.live_session.running:
            self.live_session.feed_chunk(chunk)

    def start_microphone(self) -> LiveSession:
        """Open a :class:`LiveSession` for the microphone (what Start in the widget does).

        Returns
        -------
        LiveSession
        """
        if self.live_session is not None and self.live_session.running:
            self.live_session.stop()
        self._clear()
        folder = self.folder.value.strip() or None
        self.live_session = LiveSession(
            self._transcriber(),
            folder=folder,
            summary_sentences=self.n_sentences.value,
            on_update=self._on_live_update,
        )
        self.microphone.status = f"Recording into {self.live_session.folder_}"
        self.transcript_html.value = "<i>Listening…</i>"
        return self.live_session

    def _on_live_update(self, live: LiveSession) -> None:
        if live.last_confirmed_ends_:
            ends, live.last_confirmed_ends_ = live.last_confirmed_ends_, []
            self.microphone.confirm(ends, live=live.last_confirmed_live_)
        self.transcript_html.value = (
            f"<div style='font-size:110%' class='workbench-live-text'>"
            f"<span class='workbench-confirmed'>{html.escape(live.confirmed_text)}</span> "
            f"<span class='workbench-tentative' style='color:#999'>"
            f"{html.escape(live.tentative_text)}</span></div>"
        )
        if live.summary_ is not None:
            self.summary_html.value = _summary_html(live.summary_)
        stats = live.stats()
        self.microphone.status = (
            f"Recording into {live.folder_} · {stats['n_words']} words · "
            f"{stats['gaps']} gaps" + (f" · error: {live.error_}" if live.error_ else "")
        )

    def stop_microphone(self) -> Transcript | None:
        """Stop the microphone's session: last pass, exports, downloads (what Stop does).

        Returns
        -------
        Transcript or None
        """
        live = self.live_session
        if live is None:
            return None
        transcript = live.stop()
        if transcript is None:
            self.show_error(
                f"Live transcription failed ({live.error_}); the audio is in {live.folder_}."
            )
            return None
        self._on_live_update(live)
        self._finish(transcript)
        stats = live.stats()
        self.downloads.value += (
            f"<div class='workbench-session-folder'>Session folder: "
            f"<code>{html.escape(str(live.folder_))}</code> (audio.wav, transcript.jsonl, "
            f"SRT/VTT/JSON/TXT) · confirmed-text delay median "
            f"{stats['delay_median_s']:.1f} s · {len(live.gaps_)} gaps</div>"
        )
        self.microphone.status = f"Stopped; saved in {live.folder_}"
        return transcript

    # -- results ------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.result = self.summary = self.stream_stats = None
        self.transcript_html.value = self.summary_html.value = self.downloads.value = ""
        self.show(None)

    def _finish(self, transcript: Transcript) -> None:
        self.result = transcript
        self.summary = summarize(transcript, n_sentences=self.n_sentences.value)
        if not transcript.segments:
            self.transcript_html.value = "<i>No speech found.</i>"
        self.summary_html.value = _summary_html(self.summary)
        self.downloads.value = " ".join(
            _download_link(text, name)
            for text, name in [
                (transcript.to_srt(), "transcript.srt"),
                (transcript.to_vtt(), "transcript.vtt"),
                (transcript.to_text(), "transcript.txt"),
            ]
        )
        self.show(transcript)


def _segments_html(segments: list[Segment]) -> str:
    rows = "".join(
        f"<div><span style='color:#888;font-family:monospace'>[{s.start:6.1f}–{s.end:6.1f}]"
        f"</span> {html.escape(s.text)}</div>"
        for s in segments
    )
    return f"<div>{rows}</div>"


def _summary_html(summary: Summary) -> str:
    if not summary.sentences:
        return ""
    items = "".join(
        f"<li><span style='font-family:monospace'>{row.time}</span> {html.escape(row.text)}</li>"
        for row in summary.to_frame().itertuples()
    )
    phrases = ", ".join(html.escape(k.phrase) for k in summary.key_phrases)
    return (
        f"<b>Summary</b><ul style='margin:2px 0'>{items}</ul>"
        f"<div><b>Key phrases:</b> {phrases}</div>"
    )


def _download_link(text: str, filename: str) -> str:
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f"<a download='{filename}' href='data:text/plain;charset=utf-8;base64,{payload}' "
        f"target='_blank'>⬇ {filename}</a>"
    )
