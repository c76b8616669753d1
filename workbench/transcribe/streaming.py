"""Streaming transcription with a local-agreement policy (as in whisper_streaming).

Audio arrives in chunks. After each chunk (once at least ``min_chunk_s`` of new audio is there)
the whole unconfirmed buffer is decoded again with word timestamps; the longest common prefix of
this decoding and the previous one is *confirmed* (two successive passes agree on it), the rest is
*tentative* and may still change. After each pass the buffer is cut at the end of the last
confirmed sentence that leaves ``min_buffer_s`` of audio (or, past ``buffer_trim_s``, of the
last such word) so each pass stays short; with ``prompt_chars`` the confirmed text before the
buffer is given to Whisper as the prompt. By default a pass encodes only the buffered audio plus
2 s, not Whisper's padded 30-s window (:mod:`workbench.transcribe.window`): a quarter of the
work for a pass.

Four guards keep tiny.en's streaming mistakes out of the confirmed text, each measured on the
development set (``benchmarks/transcribe_bench.py``): silence is cut off the buffer's start and
words outside speech are dropped (Silero VAD, ``skip_silence``); a word that ends less than
``edge_s`` before the end of the audio is not confirmed yet; a cut leaves ``min_buffer_s`` of
audio; and a pass that opens like the prompt's last sentence is decoded again without the
prompt (``repetition_guard``; :mod:`workbench.transcribe.passes`).

Delay is measured on a simulated clock that assumes the chunks arrive in real time: a pass starts
when its last chunk has arrived and the previous pass has finished, and takes the wall time its
decoding really took. The delay of a confirmed word is the clock at confirmation minus the time
the word ended in the audio.
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.transcribe.audio import SAMPLE_RATE, load_audio
from workbench.transcribe.chunks import MAX_BUFFER_S, check_session_params
from workbench.transcribe.decoder import WhisperDecoder
from workbench.transcribe.passes import (
    SENTENCE_END,
    join_words,
    norm_word,
    pass_words,
    repeats_opening,
)
from workbench.transcribe.silence import speech_regions
from workbench.transcribe.stream_results import StreamStats, StreamUpdate
from workbench.transcribe.summary import Summary, group_sentences, summarize
from workbench.transcribe.transcript import Segment, Transcript, Word
from workbench.transcribe.window import FRAMES_PER_SECOND

__all__ = ["StreamingSession"]

_MAX_BUFFER_S = MAX_BUFFER_S  # Whisper sees 30 s windows; never let the buffer outgrow one
_TOKENS_PER_S = 10
# faster-whisper refuses prompt + new tokens beyond 448 and keeps at most 223 prompt tokens.
_MAX_NEW_TOKENS = 220
_SILENCE_PAD_S = 0.3  # silence kept before speech (Whisper needs a little lead-in)
_ELLIPSIS = re.compile(r"\.{2,}|…")


class StreamingSession:
    """Push audio chunks in, get confirmed and tentative text out (local agreement).

    Parameters
    ----------
    transcriber : Transcriber
        Supplies the model and decoding settings (its ``word_timestamps`` is forced on); any
        :class:`~workbench.transcribe.decoder.WhisperDecoder` will do.
    sample_rate : int, optional
        Rate of the chunks (default 16,000; other rates are resampled chunk by chunk).
    min_chunk_s : float, default=0.5
        Decode only once this much new audio has arrived since the last pass. 0.5 s keeps the
        median confirmation delay near 1 s (a word is confirmed by the second pass that hears
        it); 1 s halves the decoding work and adds about 0.7 s of delay
        (``benchmarks/results/transcribe.md``).
    buffer_trim_s : float, default=16.0
        The buffer is always cut after the last confirmed sentence; when no sentence has ended
        and the buffer is longer than this, it is cut after the last confirmed word.
    min_buffer_s : float, default=8.0
        A cut leaves at least this much audio in the buffer (at most half of
        ``buffer_trim_s``), so a sentence that has just begun is decoded together with the end
        of the one before it. On the development set 6 s gave 13% fewer word errors than 3 s
        and about 30% fewer than cutting right after each sentence; 8 s (with
        ``buffer_trim_s=16``) fewer again than 6 s: most words streaming still got wrong were
        the first words after a pause, decoded once the cut had left the pause but not the
        sentence before it.
    summary_sentences : int, default=3
        Sentences in the running summary; 0 turns it off.
    prompt_chars : int, default=0
        Characters of confirmed text before the buffer passed to Whisper as the prompt. Off
        by default: with the buffer's own left context (``min_buffer_s``) the prompt cost
        accuracy on the development set, and tiny.en copies from it (see
        ``repetition_guard``).
    encoder_window : {"short", "full"}, default="short"
        ``"short"`` encodes only the buffered audio plus ``window_margin_s`` (about 4x less
        encoder work for a 5-s buffer; see :mod:`workbench.transcribe.window`) and decodes one
        window per pass; ``"full"`` pads every pass to Whisper's 30-s window as offline
        transcription does.
    window_margin_s : float, default=2.0
        Padding kept after the buffer with ``encoder_window="short"``.
    edge_s : float, default=0.5
        Words ending less than this before the end of the audio are never confirmed by
        agreement, only by a later pass that hears what follows them. With chunks of 1 s or
        less this costs no delay: the second of two agreeing passes hears that much anyway.
    skip_silence : bool, default=True
        Before a pass, cut silence off the buffer's start (Silero VAD, shipped with
        faster-whisper; 0.3 s is kept before the speech), skip passes over silence alone, and
        drop words placed more than 0.3 s away from any speech the VAD found.
        tiny.en decodes a buffer that starts with seconds of silence badly: nothing, a repeat
        of the prompt, or a word placed in the silence. Used only with a loaded faster-whisper
        model (the VAD is part of its pipeline).
    repetition_guard : bool, default=True
        When a pass opens with the opening words of the last confirmed sentence (tiny.en
        copies them from the prompt on short buffers, and two passes can agree on the copy),
        decode that buffer again without the prompt. Text the audio really holds survives
        this check; a copy does not.

    Attributes
    ----------
    confirmed_words_ : list of Word
        Every confirmed word with absolute timestamps.
    updates_ : list of StreamUpdate
        Every update returned so far.
    """

    def __init__(
        self,
        transcriber: WhisperDecoder,
        *,
        sample_rate: int | None = None,
        min_chunk_s: float = 0.5,
        buffer_trim_s: float = 16.0,
        summary_sentences: int = 3,
        prompt_chars: int = 0,
        encoder_window: str = "short",
        window_margin_s: float = 2.0,
        repetition_guard: bool = True,
        skip_silence: bool = True,
        edge_s: float = 0.5,
        min_buffer_s: float = 8.0,
    ) -> None:
        # Any WhisperDecoder decodes (a Transcriber is one); streaming needs nothing else of it.
        if not isinstance(transcriber, WhisperDecoder):
            raise InputTypeError(
                f"transcriber must be a Transcriber, got {type(transcriber).__name__}."
            )
        params = check_session_params(
            sample_rate=sample_rate,
            min_chunk_s=min_chunk_s,
            buffer_trim_s=buffer_trim_s,
            summary_sentences=summary_sentences,
            prompt_chars=prompt_chars,
            encoder_window=encoder_window,
            window_margin_s=window_margin_s,
            repetition_guard=repetition_guard,
            skip_silence=skip_silence,
            edge_s=edge_s,
            min_buffer_s=min_buffer_s,
        )
        self.transcriber = transcriber.load()
        for name, value in params.items():
            setattr(self, name, value)
        self._window: dict[str, list[int]] = {"frames": []}
        self.confirmed_words_: list[Word] = []
        self.updates_: list[StreamUpdate] = []
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0.0  # stream time of the buffer's first sample
        self._received = 0.0
        self._last_pass_at = 0.0
        self._prev: list[Word] = []  # tentative words of the previous pass
        self._clock = 0.0
        self._summary: Summary | None = None
        self._finished = False
        self._agreed = 0
        self._no_prompt_at = -1.0  # buffer offset decoded without prompt (repetition guard)
        self._n_guarded = 0
        self._speech: list[tuple[float, float]] = []  # VAD speech regions of the buffer
        self._skipped_s = 0.0

    @property
    def confirmed_text(self) -> str:
        """All confirmed text so far."""
        return join_words(self.confirmed_words_)

    @property
    def tentative_text(self) -> str:
        """The current tentative text."""
        return join_words(self._prev)

    def push(self, chunk: Any) -> StreamUpdate | None:
        """Add a chunk of audio; decode when enough new audio has arrived.

        A pass runs once ``min_chunk_s`` of new audio is buffered and the previous pass is over
        on the simulated real-time clock (when decoding is slower than speech, chunks pile up
        and the next pass takes them all, as in a live stream).

        Parameters
        ----------
        chunk : numpy.ndarray
            1-D samples at the session's sample rate. Empty chunks are ignored.

        Returns
        -------
        StreamUpdate or None
            None when the chunk was only buffered.

        Raises
        ------
        InputError
            If the session is finished or the chunk is invalid (see :func:`load_audio`).
        InputTypeError
            If the chunk is not a numpy array.
        """
        if self._finished:
            raise InputError("This stream is finished; start a new StreamingSession.")
        if not isinstance(chunk, np.ndarray):
            raise InputTypeError(
                f"Stream chunks must be numpy arrays of samples, got {type(chunk).__name__}."
            )
        if chunk.size == 0:
            return None
        samples = load_audio(chunk, sample_rate=self.sample_rate)
        if samples.size > _MAX_BUFFER_S * SAMPLE_RATE:
            raise InputError(
                f"The chunk holds {samples.size / SAMPLE_RATE:.1f} s of audio, more than one "
                f"Whisper window ({_MAX_BUFFER_S:g} s); push chunks of 1-3 s, e.g. "
                "iter_chunks(audio, 1.0), or transcribe a whole recording with transcribe()."
            )
        self._buffer = np.concatenate([self._buffer, samples])
        self._received += samples.size / SAMPLE_RATE
        if self._received - self._last_pass_at < self.min_chunk_s:
            return None
        if self._received < self._clock:
            # The previous pass is still running on the simulated real-time clock: this audio
            # waits for the next pass, as it would in a live stream.
            return None
        return self._process(final=False)

    def finish(self) -> StreamUpdate:
        """Close the stream: decode what is left and confirm every remaining word.

        Returns
        -------
        StreamUpdate
            With ``final=True``.
        """
        if self._finished:
            raise InputError("This stream is already finished.")
        update = self._process(final=True)
        self._finished = True
        return update

    def _prompt(self) -> str | None:
        if not self.prompt_chars or self._no_prompt_at == self._offset:
            return None
        before = [w for w in self.confirmed_words_ if w.end <= self._offset + 1e-3]
        # An ellipsis in the prompt makes Whisper answer with more of them.
        text = _ELLIPSIS.sub("", join_words(before))[-self.prompt_chars :].strip()
        return text or None

    def _skip_silence(self) -> bool:
        """Cut silence off the buffer's start (Silero VAD); False when it holds no speech.

        Also keeps the speech regions of the buffer (absolute times) in ``self._speech``.
        """
        regions = speech_regions(self._buffer)
        self._speech = [(a + self._offset, b + self._offset) for a, b in regions]
        begin = regions[0][0] if regions else None
        if begin is None:
            # Nothing to decode; keep a little in case a word is starting.
            keep = round(_SILENCE_PAD_S * SAMPLE_RATE)
            cut = max(0, self._buffer.size - keep)
        else:
            cut = max(0, round((begin - _SILENCE_PAD_S) * SAMPLE_RATE))
        if cut:
            self._buffer = self._buffer[cut:]
            self._offset += cut / SAMPLE_RATE
            self._skipped_s += cut / SAMPLE_RATE
        return begin is not None

    def _in_speech(self, word: Word) -> bool:
        # Whisper writes words into silence and noise too (a repeat of the last sentence,
        # "Thank you"): a word must overlap a stretch of speech the VAD found.
        return any(
            word.start < b + _SILENCE_PAD_S and word.end > a - _SILENCE_PAD_S
            for a, b in self._speech
        )

    def _decode_words(self, prompt: str | None, *, final: bool) -> list[Word]:
        buffered = self._buffer.size / SAMPLE_RATE
        segments = self.transcriber.decode(
            self._buffer,
            show_progress=False,
            offset=self._offset,
            short_window_margin_s=(
                self.window_margin_s if self.encoder_window == "short" else None
            ),
            # The last pass decodes every window: nothing comes after it.
            one_window=not final,
            window_stats=self._window,
            initial_prompt=prompt,
            word_timestamps=True,
            # Speech runs at 2-4 tokens a second; a pass that writes far more is looping.
            max_new_tokens=min(round(_TOKENS_PER_S * buffered) + 10, _MAX_NEW_TOKENS),
        )
        return pass_words(segments, self._offset + buffered)

    def _process(self, *, final: bool) -> StreamUpdate:
        self._last_pass_at = self._received
        compute = 0.0
        words: list[Word] = []
        start = time.perf_counter()
        # The VAD belongs to the faster-whisper pipeline: a decoder without a loaded
        # faster-whisper model (a test stub) decides about silence itself.
        vad = self.skip_silence and getattr(self.transcriber, "model_", None) is not None
        has_speech = self._skip_silence() if vad else True
        if has_speech and self._buffer.size >= SAMPLE_RATE // 10:
            prompt = self._prompt()
            words = self._decode_words(prompt, final=final)
            before = [w for w in self.confirmed_words_ if w.end <= self._offset + 1e-3]
            if prompt and self.repetition_guard and repeats_opening(words, before):
                # Whisper copied the opening of the prompt's last sentence (tiny.en does this
                # on short buffers, with a near-zero word probability, and two passes then
                # agree on it): decode this buffer again without the prompt, and keep doing
                # so until the buffer is cut. What the audio holds survives that; a copy
                # does not.
                self._no_prompt_at = self._offset
                self._n_guarded += 1
                words = self._decode_words(None, final=final)
            if vad:
                words = [w for w in words if self._in_speech(w)]
        compute = time.perf_counter() - start
        words = self._drop_confirmed(words)
        if final:
            n_agree = len(words)
        else:
            n_agree = 0
            for a, b in zip(words, self._prev, strict=False):
                if norm_word(a) != norm_word(b):
                    break
                n_agree += 1
            # A word that ends near the buffer's end was heard without what follows it:
            # Whisper guesses it (and its punctuation, which decides where the buffer is cut)
            # from part of the sound, and two passes can agree on the guess.
            while n_agree and words[n_agree - 1].end > self._received - self.edge_s:
                n_agree -= 1
        new = words[:n_agree]
        self._prev = words[n_agree:]
        self._clock = max(self._clock, self._received) + compute
        if not final:
            self._agreed += len(new)
        self.confirmed_words_.extend(new)
        self._trim()
        if new and self.summary_sentences:
            self._summary = summarize(self.confirmed_words_, n_sentences=self.summary_sentences)
        update = StreamUpdate(
            audio_end=self._received,
            confirmed=self.confirmed_text,
            tentative=self.tentative_text,
            new_words=new,
            compute_s=compute,
            emitted_at=self._clock,
            delays=[self._clock - w.end for w in new],
            final=final,
            running_summary=self._summary,
        )
        self.updates_.append(update)
        return update

    def _drop_confirmed(self, words: list[Word]) -> list[Word]:
        if not self.confirmed_words_:
            return words
        last_end = self.confirmed_words_[-1].end
        words = [w for w in words if w.start > last_end - 0.1]
        # A word confirmed before may be decoded again across the cut: drop the repeated n-gram.
        if words and abs(words[0].start - last_end) < 1.0:
            tail = self.confirmed_words_
            for n in range(min(5, len(tail), len(words)), 0, -1):
                if [norm_word(w) for w in tail[-n:]] == [norm_word(w) for w in words[:n]]:
                    return words[n:]
        return words

    def _trim(self) -> None:
        # Cut at the end of the last confirmed sentence: the next pass decodes only the sentence
        # being spoken (short, fast) and gets the earlier sentences as its prompt.
        # A cut leaves at least min_buffer_s: Whisper reads the first second of a sentence
        # badly without the audio before it, and a period it puts at the end of so short a
        # buffer would cut again.
        latest = self._received - min(self.min_buffer_s, self.buffer_trim_s / 2)
        cut = self._offset
        for w in reversed(self.confirmed_words_):
            if w.end <= self._offset:
                break
            if w.end <= latest and SENTENCE_END.search(w.text.strip()):
                cut = w.end
                break
        buffered = self._buffer.size / SAMPLE_RATE
        if cut <= self._offset and buffered > self.buffer_trim_s and self.confirmed_words_:
            cut = max([w.end for w in self.confirmed_words_ if w.end <= latest] or [self._offset])
        if cut <= self._offset and buffered > _MAX_BUFFER_S:
            # Nothing agreed for too long: confirm the tentative words rather than overflow.
            self.confirmed_words_.extend(self._prev)
            self._prev = []
            last = self.confirmed_words_[-1].end if self.confirmed_words_ else self._offset
            cut = max(last, self._offset + buffered - self.buffer_trim_s)
        if cut > self._offset:
            n = min(self._buffer.size, round((cut - self._offset) * SAMPLE_RATE))
            self._buffer = self._buffer[n:]
            self._offset += n / SAMPLE_RATE

    def stats(self) -> StreamStats:
        """Latency and speed of the stream so far.

        Returns
        -------
        StreamStats
        """
        passes = [u.compute_s for u in self.updates_ if u.compute_s > 0]
        delays = np.array([d for u in self.updates_ for d in u.delays], dtype=float)
        nan = float("nan")
        n_words = len(self.confirmed_words_)
        frames = self._window["frames"]
        return StreamStats(
            audio_s=self._received,
            n_passes=len(passes),
            compute_s=float(sum(passes)),
            pass_mean_s=float(np.mean(passes)) if passes else nan,
            pass_max_s=float(np.max(passes)) if passes else nan,
            n_words=n_words,
            delay_median_s=float(np.median(delays)) if delays.size else nan,
            delay_p90_s=float(np.percentile(delays, 90)) if delays.size else nan,
            delay_max_s=float(delays.max()) if delays.size else nan,
            agreed_share=self._agreed / n_words if n_words else nan,
            encoder_window_s=(
                float(np.mean(frames)) / FRAMES_PER_SECOND if frames else 30.0 if passes else nan
            ),
            n_guarded=self._n_guarded,
            silence_skipped_s=self._skipped_s,
        )

    def transcript(self) -> Transcript:
        """The confirmed words as a :class:`Transcript`, one segment per sentence."""
        segments = [
            Segment(
                id=i,
                start=g[0].start,
                end=g[-1].end,
                text=join_words(g),
                avg_logprob=float("nan"),
                no_speech_prob=float("nan"),
                words=tuple(g),
            )
            for i, g in enumerate(group_sentences(self.confirmed_words_))
        ]
        t = self.transcriber
        return Transcript(
            segments=segments,
            duration=self._received,
            language=t.language,
            model=str(t.model),
            settings={"streaming": True, "min_chunk_s": self.min_chunk_s},
        )
