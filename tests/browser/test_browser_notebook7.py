"""The microphone widget and the TranscribePanel's "Microphone" source in Notebook 7.

The same check as ``test_browser_microphone.py`` (JupyterLab 4), on the other front end the
issue names: a Notebook 7 server (``python -m notebook``, with ``window.jupyterapp`` exposed)
opens a fresh notebook whose cell shows the panel with source "Microphone"; the widget must
render (Start/Stop buttons, level meter, clock), and pressing Start with Chromium's fake
microphone playing a short spoken passage must send 16-kHz chunks to the kernel, move the
level meter, and end with the panel's confirmed text within WER 0.15 of the passage and the
session folder holding the audio and transcript. The passage is short (about 10 s) to keep
CI time low. Screenshots go to ``test-output/browser/notebook7_*.png``.
"""

from __future__ import annotations

import time

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
from tests.browser.test_browser_microphone import CELL, KERNEL_PRINT, LEAD_S, MAX_WER, TAIL_S

pytestmark = pytest.mark.browser

PASSAGE = (
    "Good morning everyone, and thank you for joining the project review. "
    "Maria will write the report, and she will send it to the team on Thursday."
)


@pytest.fixture(scope="module")
def short_passage_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("mic7") / "passage.wav"
    return path, spoken_passage_wav(path, PASSAGE, LEAD_S, TAIL_S)


def test_notebook7_exposes_the_app_and_runs_jupyterlab_notebook_commands(notebook7):
    """The page is Notebook 7's, not JupyterLab's: guards against testing the wrong front end."""
    from playwright.sync_api import sync_playwright

    base, token, folder = notebook7
    notebook = write_notebook(folder, "hello.ipynb", "print(6 * 7)")
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        try:
            state = run_all(page, base, token, notebook, app="notebook")
            assert not state["errors"], state
            assert state["done"] == state["total"] == 1
            assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
            assert "/notebooks/" in page.url
            out = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell .jp-OutputArea-output")
            assert out.first.inner_text().strip() == "42"
        finally:
            page.close()
            browser.close()


def test_the_microphone_panel_transcribes_a_spoken_passage_in_notebook7(
    notebook7, short_passage_wav, tmp_path
):
    from playwright.sync_api import sync_playwright

    from workbench.transcribe import SAMPLE_RATE, Transcript, read_session_audio, word_error_rate

    base, token, folder = notebook7
    wav, seconds = short_passage_wav
    session = tmp_path / "session"
    notebook = write_notebook(folder, "microphone7.ipynb", CELL.format(folder=str(session)))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_chromium(pw, *fake_microphone_flags(wav))
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            state = run_all(page, base, token, notebook, app="notebook")
            assert not state["errors"], f"cells raised {state['errors']}"
            cell = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
            mic = cell.locator(".workbench-mic")
            mic.wait_for(timeout=60_000)
            # The widget rendered: its controls, meter and clock, idle and nothing sent yet.
            for part in ("start", "stop", "meter", "level", "elapsed"):
                assert cell.locator(f".workbench-mic-{part}").count() == 1, part
            assert mic.get_attribute("data-state") == "idle"
            assert mic.get_attribute("data-samples") == "0"
            assert cell.locator(".workbench-mic-stop").is_disabled()
            page.screenshot(path=str(SHOTS / "notebook7_microphone_idle.png"), full_page=True)

            started = time.monotonic()
            cell.locator(".workbench-mic-start").click()
            wait_until(
                lambda: mic.get_attribute("data-state") != "idle", 30, "recording to start", page
            )
            assert mic.get_attribute("data-state") == "recording", cell.inner_text()
            # The level meter moves while the passage plays.
            wait_until(
                lambda: cell.locator(".workbench-mic-level").evaluate(
                    "e => parseFloat(e.style.width) > 0"
                ),
                seconds + 30,
                "the level meter to move",
                page,
            )
            # One pass of the looping file, stopped inside the trailing silence (by the samples
            # sent, or by the wall clock if the capture lags under load; see the Lab test).
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
            sent = int(mic.get_attribute("data-samples"))
            page.screenshot(path=str(SHOTS / "notebook7_microphone_live.png"), full_page=True)
            cell.locator(".workbench-mic-stop").click()
            cell.locator(".workbench-session-folder").wait_for(timeout=CELL_TIMEOUT_S * 1000)
            confirmed = cell.locator(".workbench-confirmed").inner_text()
            kernel_answer = page.evaluate(KERNEL_PRINT, "print(repr(panel.source.value))")
            page.screenshot(path=str(SHOTS / "notebook7_microphone_stopped.png"), full_page=True)
        finally:
            page.close()
            browser.close()
    wer = word_error_rate(PASSAGE, confirmed)
    print(f"\nnotebook 7 microphone: WER {wer:.3f}, sent {sent / SAMPLE_RATE:.1f} s\n{confirmed}")
    assert kernel_answer.strip() == "'Microphone'"  # the kernel answers from this page
    assert sent > 0
    assert wer <= MAX_WER, confirmed
    # The chunks reached the kernel: the session folder holds the audio and the transcript.
    recorded, _ = read_session_audio(session)
    assert recorded.size >= (seconds - TAIL_S) * SAMPLE_RATE
    restored = Transcript.load(session)
    assert restored.settings["complete"] is True
    assert word_error_rate(PASSAGE, restored.text) <= MAX_WER
