"""Streaming with local agreement: scripted passes test the policy, real audio tests the delay.

Every test here runs on a simulated clock (the ``simulated_clock`` fixture of the root
conftest): a decoding pass takes ``PASS_S`` whatever the machine's load, so which passes run
and the delays they give do not depend on how busy the machine is. How long a real pass takes
is a benchmark figure (``benchmarks/``), not a test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from workbench.core.errors import InputError, InputTypeError
from workbench.transcribe import (
    SAMPLE_RATE,
    Segment,
    StreamingSession,
    StreamStats,
    StreamUpdate,
    Transcriber,
    Word,
    iter_chunks,
    load_audio,
    word_error_rate,
)

#: Simulated seconds one decoding pass takes: about what a short-window pass of tiny.en takes
#: on two idle cores (the transcription benchmark measures it).
PASS_S = 0.3


class _Scripted(Transcriber):
    """A Transcriber whose passes return scripted words (times relative to the buffer start)."""

    clock = None  # the simulated clock, set for every test by the autouse fixture below

    def __init__(self, script, pass_s=PASS_S):
        super().__init__()
        self.script = list(script)
        self.prompts = []
        self.pass_s = pass_s

    def load(self):
        return self

    def decode(self, samples, *, show_progress, offset, **options):
        _Scripted.clock.advance(self.pass_s)
        self.prompts.append(options.get("initial_prompt"))
        words = self.script.pop(0)
        ws = tuple(Word(s + offset, e + offset, txt, 0.9) for s, e, txt in words)
        if ws:
            yield Segment(0, ws[0].start, ws[-1].end, "".join(w.text for w in ws), -0.1, 0.01, ws)


@pytest.fixture(autouse=True)
def _passes_take_pass_s(simulated_clock, monkeypatch):
    """Each decoding pass, scripted or by the real model, takes PASS_S on the simulated clock."""
    monkeypatch.setattr(_Scripted, "clock", simulated_clock)
    real = Transcriber.decode

    def timed(self, *args, **kwargs):
        simulated_clock.advance(PASS_S)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Transcriber, "decode", timed)


def _second(n=1):
    return np.full(n * SAMPLE_RATE, 0.01, dtype=np.float32)


def test_two_agreeing_passes_confirm_and_the_rest_stays_tentative():
    fake = _Scripted(
        [
            [(0.0, 0.4, " Hello"), (0.5, 0.9, " word")],
            [(0.0, 0.4, " Hello"), (0.5, 0.9, " world."), (1.2, 1.6, " Next")],
            [(0.0, 0.4, " Hello"), (0.5, 0.9, " world."), (1.2, 1.6, " Next"), (1.7, 1.9, " one")],
            [(1.2 - 0.9, 1.6 - 0.9, " Next"), (1.7 - 0.9, 1.9 - 0.9, " one.")],
        ]
    )
    # min_buffer_s=0: cut right after each confirmed sentence (what this test follows).
    session = StreamingSession(
        fake, min_chunk_s=1.0, summary_sentences=1, min_buffer_s=0, prompt_chars=200
    )
    u1 = session.push(_second())
    assert (u1.confirmed, u1.tentative, u1.new_words) == ("", "Hello word", [])
    u2 = session.push(_second())
    assert u2.confirmed == "Hello" and u2.tentative == "world. Next"
    u3 = session.push(_second())
    assert u3.confirmed == "Hello world. Next" and u3.tentative == "one"
    # The buffer was cut after the confirmed sentence "Hello world." (0.9 s); it is the prompt.
    assert session._offset == pytest.approx(0.9)
    final = session.finish()
    assert fake.prompts[-1] == "Hello world."
    assert final.final and final.confirmed == "Hello world. Next one."
    assert [w.text for w in final.new_words] == [" one."]
    assert final.running_summary is not None and len(final.running_summary.sentences) == 1
    assert session.stats().agreed_share == pytest.approx(3 / 4)


@pytest.mark.parametrize(("pass_s", "delay"), [(0.3, 2.0 + 0.3 - 0.5), (1.5, 3.0 + 1.5 - 0.5)])
def test_delay_follows_a_real_time_clock(pass_s, delay):
    # Chunks arrive in real time (1 s of audio a second); a pass starts when its chunk has
    # arrived and the previous pass is done. "A" (ends at 0.5 s) is confirmed by the second
    # pass: with 0.3-s passes it runs on the chunk of 2 s; a 1.5-s first pass is still busy
    # when that chunk arrives, so the second pass waits for the chunk of 3 s.
    fake = _Scripted([[(0.0, 0.5, " A")], [(0.0, 0.5, " A")], []], pass_s=pass_s)
    session = StreamingSession(fake, summary_sentences=0)
    updates = [session.push(_second()) for _ in range(3)]
    u = next(u for u in updates if u is not None and u.delays)
    assert u.delays == [pytest.approx(delay)]
    assert u.emitted_at == pytest.approx(delay + 0.5)
    assert {round(x.compute_s, 9) for x in session.updates_} == {pass_s}


def test_repeated_words_across_the_cut_are_not_confirmed_twice():
    fake = _Scripted(
        [
            [(0.0, 0.4, " one"), (0.5, 0.9, " two")],
            [(0.0, 0.4, " one"), (0.5, 0.9, " two"), (1.0, 1.4, " three")],
            # The next decoding starts slightly before the last confirmed word's end.
            [(0.45, 0.9, " two"), (1.0, 1.4, " three"), (1.5, 1.8, " four")],
        ]
    )
    session = StreamingSession(fake, summary_sentences=0)
    session.push(_second())
    session.push(_second())
    final = session.finish()
    assert final.confirmed == "one two three four"


def test_empty_chunks_and_short_audio_are_only_buffered():
    fake = _Scripted([[(0.0, 0.3, " Hi.")]])
    session = StreamingSession(fake, min_chunk_s=2.0)
    assert session.push(np.zeros(0, np.float32)) is None
    assert session.push(_second()) is None
    assert session.finish().confirmed == "Hi."


def test_streaming_errors():
    fake = _Scripted([[]])
    with pytest.raises(InputTypeError, match="must be a Transcriber"):
        StreamingSession(object())
    with pytest.raises(InputError, match="buffer_trim_s=40 is too long"):
        StreamingSession(fake, buffer_trim_s=40)
    with pytest.raises(InputError, match="min_chunk_s must be shorter"):
        StreamingSession(fake, min_chunk_s=5, buffer_trim_s=4)
    with pytest.raises(InputError, match="min_chunk_s must be > 0"):
        StreamingSession(fake, min_chunk_s=0)
    session = StreamingSession(fake)
    with pytest.raises(InputTypeError, match="numpy arrays"):
        session.push([0.0, 0.1])
    with pytest.raises(InputError, match="mix channels down"):
        session.push(np.zeros((100, 2), np.float32))
    session.finish()
    with pytest.raises(InputError, match="stream is finished"):
        session.push(_second())
    with pytest.raises(InputError, match="already finished"):
        session.finish()
    with pytest.raises(InputError, match="chunk_s must be > 0"):
        list(iter_chunks(_second(), 0))


def test_real_stream_of_a_file(transcriber, clips):
    path, text = clips["library"]
    audio = load_audio(path)
    updates = list(transcriber.stream(iter_chunks(audio, 1.0), min_chunk_s=1.0))
    assert all(isinstance(u, StreamUpdate) for u in updates)
    assert updates[-1].final and not any(u.final for u in updates[:-1])
    # Confirmed text only grows.
    for a, b in itertools.pairwise(updates):
        assert b.confirmed.startswith(a.confirmed)
    assert any(u.confirmed for u in updates[:-1]), "agreement must confirm text before the end"
    assert word_error_rate(text, updates[-1].confirmed) <= 0.25
    delays = [d for u in updates for d in u.delays]
    assert min(delays) > -0.5
    assert updates[-1].running_summary.sentences


def test_session_stats_and_transcript(transcriber, clips):
    audio = load_audio(clips["weather"][0])
    session = StreamingSession(transcriber, sample_rate=22050, min_chunk_s=2.0)
    for chunk in iter_chunks(
        np.interp(np.arange(0, audio.size, 16000 / 22050), np.arange(audio.size), audio).astype(
            np.float32
        ),
        2.0,
        sample_rate=22050,
    ):
        session.push(chunk)
    session.finish()
    stats = session.stats()
    assert isinstance(stats, StreamStats)
    assert stats.n_words == len(session.confirmed_words_) >= 12
    assert stats.audio_s == pytest.approx(audio.size / SAMPLE_RATE, abs=0.01)
    assert stats.delay_median_s <= stats.delay_p90_s <= stats.delay_max_s
    assert stats.real_time_factor > 0 and 0 <= stats.agreed_share <= 1
    # The short encoder window saw the few-second buffer plus its 2 s margin, not 30 s.
    assert 2.0 <= stats.encoder_window_s <= 15.0
    t = session.transcript()
    assert t.text == session.confirmed_text
    assert len(t.segments) == 2 and t.to_srt().startswith("1\n00:00:0")


class _Recording(_Scripted):
    """A scripted Transcriber that also records the decoding options of each pass."""

    def decode(self, samples, *, show_progress, offset, **options):
        self.options = [
            *getattr(self, "options", []),
            {**options, "seconds": samples.size / SAMPLE_RATE},
        ]
        yield from super().decode(samples, show_progress=show_progress, offset=offset, **options)


def test_passes_use_one_short_window_and_a_bounded_output():
    fake = _Recording([[(0.0, 0.4, " a")], [(0.0, 0.4, " a")], [(0.0, 0.4, " a")]])
    session = StreamingSession(fake, summary_sentences=0, window_margin_s=0.5)
    session.push(_second())
    session.push(_second(2))
    session.finish()
    first, second, last = fake.options
    assert first["short_window_margin_s"] == 0.5 and first["one_window"] is True
    assert last["one_window"] is False  # the final pass decodes every window
    # Speech is 2-4 tokens a second: a pass may write 10 a second (+10), not Whisper's 448.
    assert first["max_new_tokens"] == 20 and second["max_new_tokens"] == 10 * second["seconds"] + 10
    full = _Recording([[]])
    session = StreamingSession(full, encoder_window="full", min_chunk_s=2)
    session.push(_second())
    session.finish()
    assert full.options[0]["short_window_margin_s"] is None


def test_ellipses_neither_agree_nor_reach_the_prompt():
    fake = _Scripted(
        [
            [(0.0, 0.4, " Wait"), (0.5, 0.9, " because..."), (1.0, 1.2, " ..."), (1.3, 1.5, " %")],
            [(0.0, 0.4, " Wait"), (0.5, 0.9, " because..."), (1.0, 1.2, " ..."), (1.3, 1.5, " %")],
            [(0.0, 0.4, " so"), (0.5, 0.9, " what")],
            [(0.0, 0.4, " so"), (0.5, 0.9, " what.")],
        ]
    )
    session = StreamingSession(
        fake, summary_sentences=0, buffer_trim_s=1.5, min_buffer_s=0, prompt_chars=200
    )
    session.push(_second())
    u = session.push(_second())
    # The lone "..." is dropped; "%" is a word and is compared as written.
    assert u.confirmed == "Wait because... %"
    session.push(_second())
    session.finish()
    # The buffer was cut after "because..." (it ends like a sentence); the prompt loses "...".
    assert fake.prompts[2] == "Wait because"


def test_window_options_are_checked():
    from workbench.core.errors import UnknownNameError

    fake = _Scripted([[]])
    with pytest.raises(UnknownNameError, match="encoder_window"):
        StreamingSession(fake, encoder_window="tiny")
    with pytest.raises(InputError, match="window_margin_s"):
        StreamingSession(fake, window_margin_s=-1)


def test_short_window_streams_a_file_with_low_delay(transcriber, clips):
    path, text = clips["library"]
    session = StreamingSession(transcriber, summary_sentences=0)
    for chunk in iter_chunks(load_audio(path), 1.0):
        session.push(chunk)
    session.finish()
    frames = session._window["frames"]
    # Every pass but the last decoded one short window (the buffer, never 30 s).
    assert frames and max(frames) < 3000
    stats = session.stats()
    assert word_error_rate(text, session.confirmed_text) <= 0.25
    # With passes of PASS_S (0.3 s, what one takes on 2 idle cores) words are confirmed ~1.6 s
    # after being spoken (3.8 s with the full window); 3 s is the issue's goal.
    assert {round(u.compute_s, 9) for u in session.updates_} <= {0.0, PASS_S}  # simulated
    assert stats.delay_median_s <= 3.0, stats


def test_zero_length_words_at_the_end_of_a_pass_are_cut():
    # Whisper repeating a sentence past the audio it heard: the repeats get zero length.
    fake = _Scripted(
        [
            [(0.0, 0.3, " Hi"), (0.3, 0.6, " there."), (0.9, 0.9, " Hi"), (0.9, 0.9, " there.")],
            [(0.0, 0.3, " Hi"), (0.3, 0.6, " there."), (1.9, 1.9, " Hi")],
            [(0.0, 0.3, " Now"), (0.3, 0.3, " the"), (0.4, 0.6, " end."), (0.9, 0.9, " the")],
        ]
    )
    session = StreamingSession(fake, summary_sentences=0, min_buffer_s=0)
    assert session.push(_second()).tentative == "Hi there."
    assert session.push(_second(1)).confirmed == "Hi there."
    # The last pass is cut too, but only at the end of the audio (1.4 s after the cut at 0.6 s).
    assert session.finish().confirmed == "Hi there. Now the end."


class _Replay(Transcriber):
    """Replays recorded tiny.en hypotheses, looked up by (buffer offset, samples, prompt?)."""

    clock = None

    def __init__(self, passes):
        super().__init__()
        self.passes = passes
        self.calls = []

    def load(self):
        return self

    def decode(self, samples, *, show_progress, offset, **options):
        _Replay.clock.advance(PASS_S)
        prompt = options.get("initial_prompt")
        key = f"{offset:.2f} {samples.size} {'prompt' if prompt else 'none'}"
        self.calls.append(key)
        ws = tuple(Word(s + offset, e + offset, t, p) for s, e, t, p in self.passes[key])
        if ws:
            yield Segment(0, ws[0].start, ws[-1].end, "".join(w.text for w in ws), -0.3, 0.05, ws)


@pytest.mark.parametrize("guard", [False, True])
def test_a_copied_sentence_opening_is_never_confirmed(simulated_clock, monkeypatch, guard):
    # The issue's case, replayed from real decoder output (tests/transcribe/data): after
    # "Third, we'll plan the launch." the buffer holding "Sarah will prepare the slides" is
    # decoded as "Third, we'll prepare ..." with the prompt (first word p=0.00), and two
    # passes agree on it. The guard decodes that buffer again without the prompt.
    import json

    from tests.transcribe.conftest import DATA

    recorded = json.loads((DATA / "repetition_passes.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(_Replay, "clock", simulated_clock)
    fake = _Replay(recorded["passes"])
    # Recorded with cuts right after each confirmed sentence and no edge rule.
    session = StreamingSession(
        fake,
        summary_sentences=0,
        repetition_guard=guard,
        min_buffer_s=0,
        edge_s=0,
        prompt_chars=200,
        min_chunk_s=1.0,
        buffer_trim_s=10.0,
    )
    for chunk in iter_chunks(np.full(recorded["n_samples"], 0.01, np.float32), 1.0):
        session.push(chunk)
    session.finish()
    text = session.confirmed_text
    assert "Third, we'll plan the launch." in text
    if guard:
        assert "Third, we'll prepare" not in text
        assert "Sarah will prepare the slides for Monday." in text
        # One pass was decoded twice, the next passes of that buffer without the prompt.
        assert fake.calls.count("9.34 42560 prompt") == 1
        assert [c for c in fake.calls if c.startswith("9.34")][1:] == [
            "9.34 42560 none",
            "9.34 58560 none",
            "9.34 74560 none",
        ]
        assert session.stats().n_guarded == 1
        assert word_error_rate(recorded["text"], text) <= 0.1
    else:
        assert "Third, we'll prepare the slides" in text  # the bug, as recorded


def test_the_guard_keeps_a_repetition_the_audio_holds():
    # "We will ..." twice: the prompt-free decoding reads it too, so it is kept.
    fake = _Scripted(
        [
            [(0.0, 0.3, " We"), (0.3, 0.6, " will"), (0.6, 0.9, " go.")],
            [(0.0, 0.3, " We"), (0.3, 0.6, " will"), (0.6, 0.9, " go.")],
            [(0.0, 0.3, " We"), (0.3, 0.6, " will"), (0.6, 0.9, " stay.")],  # with prompt
            [(0.0, 0.3, " We"), (0.3, 0.6, " will"), (0.6, 0.9, " stay.")],  # without
            [(0.0, 0.3, " We"), (0.3, 0.6, " will"), (0.6, 0.9, " stay.")],
        ]
    )
    session = StreamingSession(fake, summary_sentences=0, min_buffer_s=0, prompt_chars=200)
    session.push(_second())
    session.push(_second())
    session.push(_second())
    final = session.finish()
    assert final.confirmed == "We will go. We will stay."
    assert fake.prompts[2:] == ["We will go.", None, None]


def test_a_cut_leaves_min_buffer_s_of_audio():
    # "Hi there." ends at 0.6 s; with min_buffer_s=2 the buffer is cut there only once 2 s of
    # audio follow it, so the next sentence's first passes still hear the end of this one.
    script = [[(0.0, 0.3, " Hi"), (0.3, 0.6, " there.")]] * 2 + [
        [(0.0, 0.3, " Hi"), (0.3, 0.6, " there."), (1.0, 1.4, " Now")]
    ] * 2
    fake = _Scripted(script)
    session = StreamingSession(fake, summary_sentences=0, min_buffer_s=2.0)
    session.push(_second())
    assert session.push(_second()).confirmed == "Hi there."
    assert session._offset == 0.0  # 2.0 - 0.6 < 2 s would be left
    session.push(_second())
    assert session._offset == pytest.approx(0.6)  # 3.0 - 0.6 >= 2 s
    with pytest.raises(InputError, match="min_buffer_s"):
        StreamingSession(fake, min_buffer_s=-1)


@pytest.mark.parametrize(("edge_s", "confirmed"), [(0.0, "one two"), (0.5, "one")])
def test_words_at_the_edge_of_the_audio_wait_for_what_follows(edge_s, confirmed):
    # Passes at 2.0 s and 2.1 s agree on "two", which ends at 1.8 s: heard without what
    # follows it, so with edge_s=0.5 it is not confirmed yet.
    script = [[(0.0, 0.4, " one"), (1.0, 1.8, " two")]] * 2
    fake = _Scripted(script, pass_s=0.01)
    session = StreamingSession(
        fake, summary_sentences=0, edge_s=edge_s, min_buffer_s=0, min_chunk_s=0.1
    )
    assert session.push(_second(2)).confirmed == ""
    u = session.push(np.full(SAMPLE_RATE // 10, 0.01, np.float32))
    assert u.confirmed == confirmed


def test_silence_is_skipped_before_decoding(transcriber, clips):
    path, text = clips["weather"]
    speech = load_audio(path)
    gap = np.zeros(4 * SAMPLE_RATE, np.float32)
    audio = np.concatenate([gap, speech, gap, speech])
    session = StreamingSession(transcriber, summary_sentences=0)
    for chunk in iter_chunks(audio, 1.0):
        session.push(chunk)
    session.finish()
    stats = session.stats()
    # The leading 4 s (less the 0.3 s kept before speech) were cut off, not decoded; the
    # second gap only once the buffer was cut after the sentence before it.
    assert stats.silence_skipped_s >= 3.6
    assert stats.n_passes <= len(session.updates_) - 4  # the passes at 1-4 s decoded nothing
    assert session.confirmed_words_[0].start >= 3.5  # no word placed in the leading silence
    assert word_error_rate(f"{text} {text}", session.confirmed_text) <= 0.25


def test_the_issues_repetition_is_not_confirmed_on_real_audio(transcriber):
    # The text and voice whose stream confirmed "Third, we'll prepare" for "Sarah will
    # prepare" before the guard (espeak-ng en-us, 175 wpm, 1-s chunks).
    from workbench.transcribe import synthesize

    text = (
        "Good afternoon. First, we'll look at the numbers. Second, we'll talk about hiring. "
        "Third, we'll plan the launch. Sarah will prepare the slides for Monday. "
        "Tom will book the room."
    )
    audio = synthesize(text, voice="en-us", words_per_minute=175)
    # With the prompt (off by default since it cost accuracy) and the settings of the time.
    session = StreamingSession(
        transcriber, summary_sentences=0, prompt_chars=200, min_chunk_s=1.0, min_buffer_s=0
    )
    for chunk in iter_chunks(audio, 1.0):
        session.push(chunk)
    session.finish()
    confirmed = session.confirmed_text
    assert "Third, we'll prepare" not in confirmed
    assert confirmed.lower().count("third") == 1
    assert "prepare the slides" in confirmed
    assert word_error_rate(text, confirmed) <= 0.2
