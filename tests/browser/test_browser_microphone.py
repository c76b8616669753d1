"""The live microphone in real JupyterLab: Chromium plays a spoken passage as the microphone.

Chromium's fake capture device plays a WAV file (``--use-file-for-fake-audio-capture``) in real
time and loops it; the widget records it through getUserMedia and its AudioWorklet, sends 16-kHz
chunks to the kernel, and the panel's LiveSession transcribes them. The test presses Start, stops
after one pass of the file (counted in 16-kHz samples the widget sent: ``data-samples``), and
checks the panel's confirmed text against the passage (WER) and the confirmation delay the
widget measured in the browser.

How the delay is measured (``data-delays``): for each confirmed word the kernel sends the word's
end in stream seconds; the widget knows when it captured that sample (the time the worklet
block holding it arrived, ``performance.now()``), and the delay is the arrival of the
confirmation minus that capture time. Both ends are read on the browser's clock, so the kernel
and browser clocks never mix; the delay includes decoding, the kernel->browser message and any
queueing under load, which is what a user sees. Words confirmed only because Stop was pressed
are not counted. The median is robust to a few slow passes under CI load (2 cores, one test at
a time); the gate is the issue's 2.5 s.

Also: with no microphone, and with permission denied, the widget shows a clear message and the
kernel reads it from the synced ``error`` (the panel shows it as its error).
Screenshots go to ``test-output/browser/microphone_*.png``.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np
import pytest

from tests.browser.jupyter import (
    CELL_TIMEOUT_S,
    SHOTS,
    fake_microphone_flags,
    launch_chromium,
    run_all,
    spoken_passage_wav,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

PASSAGE = (
    "Good morning everyone, and thank you for joining the project review. "
    "The new parser is finished and all of its tests pass on the build server. "
    "Next week we will measure the memory use of the import step on large files. "
    "Maria will write the report, and she will send it to the team on Thursday. "
    "The budget for the test machines was approved, so we can order them today. "
    "Please add your questions to the shared document before the next meeting."
)
LEAD_S, TAIL_S = 1.0, 6.0  # silence around the passage: the fake device's loop restarts after it
MAX_WER = 0.15
MAX_MEDIAN_DELAY_S = 2.5

CELL = """from workbench.transcribe.panel import TranscribePanel
panel = TranscribePanel()
panel.source.value = "Microphone"
panel.folder.value = {folder!r}
panel"""

# Run code in the notebook's kernel and return what it printed.
KERNEL_PRINT = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code });
  let out = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") out += msg.content.text;
  };
  await future.done;
  return out;
}"""

ERROR_CELL = """from workbench.transcribe import MicrophoneWidget
mic = MicrophoneWidget()
mic"""


@pytest.fixture(scope="module")
def passage_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("mic") / "passage.wav"
    return path, spoken_passage_wav(path, PASSAGE, LEAD_S, TAIL_S)


@pytest.fixture(scope="module")
def playwright_instance(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def _speech_span(audio: np.ndarray) -> float:
    """Seconds from the first to the last loud 10 ms of the first pass of the passage."""
    n = audio.size // 160
    loud = np.flatnonzero(np.sqrt((audio[: n * 160].reshape(n, 160) ** 2).mean(axis=1)) > 0.01)
    if not loud.size:
        return 0.0
    pause = np.flatnonzero(np.diff(loud) > 100 * (LEAD_S + TAIL_S - 0.5))  # the loop restarting
    last = loud[pause[0]] if pause.size else loud[-1]
    return (last - loud[0]) / 100


def test_the_microphone_transcribes_a_spoken_passage_live(
    lab, playwright_instance, passage_wav, tmp_path
):
    from workbench.transcribe import (
        SAMPLE_RATE,
        Transcript,
        load_audio,
        read_session_audio,
        word_error_rate,
    )

    base, token, folder = lab
    wav, seconds = passage_wav
    passage_audio = load_audio(wav)
    session = tmp_path / "session"
    notebook = write_notebook(folder, "microphone_live.ipynb", CELL.format(folder=str(session)))
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser = launch_chromium(
        playwright_instance,
        *fake_microphone_flags(wav),
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        state = run_all(page, base, token, notebook)
        assert not state["errors"], f"cells raised {state['errors']}"
        cell = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
        mic = cell.locator(".workbench-mic")
        mic.wait_for(timeout=60_000)
        started = time.monotonic()
        cell.locator(".workbench-mic-start").click()
        wait_until(
            lambda: mic.get_attribute("data-state") != "idle", 30, "the recording to start", page
        )
        assert mic.get_attribute("data-state") == "recording", cell.inner_text()
        # One pass of the looping file, stopped inside the trailing silence: 2 s into it by the
        # samples the widget sent, or (if the capture dropped frames under load and lags) when
        # the wall clock since Start says the device is 2.5 s before the end of the file. The
        # device starts playing after Start is pressed, so it cannot have looped by then.
        speech_end = (seconds - TAIL_S + 2.0) * SAMPLE_RATE
        wait_until(
            lambda: (
                int(mic.get_attribute("data-samples")) >= speech_end
                or time.monotonic() - started >= seconds - 2.5
            ),
            seconds + 60,
            "one pass of the passage",
            page,
        )
        captured_s = int(mic.get_attribute("data-samples")) / SAMPLE_RATE
        played_s = time.monotonic() - started
        page.screenshot(path=str(SHOTS / "microphone_live.png"), full_page=True)
        cell.locator(".workbench-mic-stop").click()
        done = cell.locator(".workbench-session-folder")
        done.wait_for(timeout=CELL_TIMEOUT_S * 1000)
        confirmed = cell.locator(".workbench-confirmed").inner_text()
        delays = json.loads(mic.get_attribute("data-delays"))
        page.screenshot(path=str(SHOTS / "microphone_stopped.png"), full_page=True)
    finally:
        page.close()
        browser.close()
    wer = word_error_rate(PASSAGE, confirmed)
    # Frames the capture dropped (a starved browser audio thread) shorten the recorded speech.
    recorded, _ = read_session_audio(session)
    lost_s = _speech_span(passage_audio) - _speech_span(recorded)
    median = statistics.median(delays) if delays else float("nan")
    p90 = float(np.percentile(delays, 90)) if delays else float("nan")
    print(
        f"\nmicrophone: WER {wer:.3f}, {len(delays)} words confirmed live, delay median "
        f"{median:.2f} s, p90 {p90:.2f} s, max {max(delays, default=float('nan')):.2f} s\n"
        f"captured {captured_s:.1f} s of audio in {played_s:.1f} s since Start; the recorded "
        f"speech is {lost_s:.2f} s shorter than the passage's\n"
        f"confirmed: {confirmed}"
    )
    assert wer <= MAX_WER, confirmed
    assert len(delays) >= 0.5 * len(PASSAGE.split()), "most words must be confirmed live"
    assert median <= MAX_MEDIAN_DELAY_S, sorted(delays)
    # Nothing lost: the session folder holds the audio and the same transcript.
    restored = Transcript.load(session)
    assert restored.settings["complete"] is True
    assert word_error_rate(PASSAGE, restored.text) <= MAX_WER
    for suffix in ("srt", "vtt", "json", "txt"):
        assert (session / f"transcript.{suffix}").stat().st_size > 0
    assert (session / "audio.wav").stat().st_size >= 44 + 2 * (seconds - TAIL_S) * SAMPLE_RATE


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        # A device exists but the permission prompt is refused (the headless default).
        (("--use-fake-device-for-media-stream",), "permission was denied"),
        # Permission is granted but the machine has no microphone.
        (("--use-fake-ui-for-media-stream",), "No microphone was found"),
    ],
    ids=["permission-denied", "no-device"],
)
def test_no_microphone_or_permission_denied_shows_a_clear_message(
    lab, playwright_instance, flags, expected
):
    base, token, folder = lab
    name = f"microphone_error_{len(flags[0])}.ipynb"
    cell_source = ERROR_CELL + "\n"
    notebook = write_notebook(folder, name, cell_source)
    browser = launch_chromium(playwright_instance, *flags)
    page = browser.new_page(viewport={"width": 1200, "height": 700})
    try:
        state = run_all(page, base, token, notebook)
        assert not state["errors"], f"cells raised {state['errors']}"
        cell = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
        cell.locator(".workbench-mic-start").click()
        error = cell.locator(".workbench-mic-error")
        error.wait_for(state="visible", timeout=30_000)
        assert expected in error.inner_text()
        assert "press Start again" in error.inner_text()
        # The kernel side reads the same message from the synced trait.
        assert expected in page.evaluate(KERNEL_PRINT, "print(mic.error)")
        page.screenshot(
            path=str(SHOTS / f"microphone_{expected.split()[0].lower()}.png"), full_page=True
        )
    finally:
        page.close()
        browser.close()
