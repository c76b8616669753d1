"""Extractive summaries, key phrases and word error rate: offline, deterministic, timed."""

from __future__ import annotations

import math

import pytest

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.transcribe import (
    Segment,
    Summary,
    Transcript,
    Word,
    key_phrases,
    normalize_text,
    split_sentences,
    summarize,
    word_error_rate,
)

TEXT = (
    "The speech model runs on the laptop. "
    "My cat likes warm milk. "
    "The speech model transcribes the meeting on the laptop. "
    "A small speech model keeps the delay low on a laptop. "
    "Lunch is at noon."
)


def _words(sentence_texts, step=0.5):
    words, t = [], 0.0
    for sentence in sentence_texts:
        for token in sentence.split():
            words.append(Word(t, t + 0.4, " " + token, 0.9))
            t += step
    return words


def test_textrank_picks_central_sentences_in_spoken_order():
    s = summarize(TEXT, n_sentences=3)
    assert isinstance(s, Summary) and s.n_candidates == 5
    assert [x.index for x in s.sentences] == [0, 2, 3]
    assert "cat" not in s.text and "Lunch" not in s.text
    assert all(math.isnan(x.start) for x in s.sentences)  # plain text has no times
    assert s.scores[0] > 0


def test_centroid_method_agrees_on_the_off_topic_sentences():
    s = summarize(TEXT, n_sentences=3, method="centroid")
    assert {x.index for x in s.sentences}.isdisjoint({1, 4})


def test_summary_lines_link_back_to_audio_times():
    words = _words(
        [
            "Budget for servers is approved.",
            "The cat sleeps.",
            "We buy servers next month with the approved budget.",
        ]
    )
    s = summarize(words, n_sentences=2)
    assert [x.index for x in s.sentences] == [0, 2]  # the cat is off topic
    line = s.sentences[1]
    assert line.text == "We buy servers next month with the approved budget."
    # 5 + 3 words before it at 0.5 s each; its 9 words end 0.4 s after the last one starts.
    assert line.start == pytest.approx(4.0) and line.end == pytest.approx(8.4)
    frame = s.to_frame()
    assert frame.loc[1, "time"] == "00:00:04" and frame.loc[1, "start"] == 4.0
    assert (
        s.to_text().splitlines()[1]
        == "- [00:00:04] We buy servers next month with the approved budget."
    )
    assert s.to_text().splitlines()[2].startswith("Key phrases: budget, servers")


def test_transcript_without_words_uses_segment_times():
    t = Transcript(
        [
            Segment(0, 1.0, 4.0, "Hello there. General idea.", -0.2, 0.01),
            Segment(1, 4.0, 6.0, "Bye now.", -0.3, 0.02),
        ],
        duration=6.0,
    )
    sents = split_sentences(t)
    assert [(s.start, s.end, s.text) for s in sents] == [
        (1.0, 4.0, "Hello there."),
        (1.0, 4.0, "General idea."),
        (4.0, 6.0, "Bye now."),
    ]


def test_summary_of_real_transcript(weather_transcript):
    s = summarize(weather_transcript, n_sentences=1)
    assert len(s.sentences) == 1 and s.n_candidates == 2
    assert s.sentences[0].start >= 0 and s.sentences[0].end <= weather_transcript.duration + 0.5


def test_more_sentences_than_available_and_empty_inputs():
    assert len(summarize("One short sentence.", n_sentences=5).sentences) == 1
    empty = summarize("")
    assert empty.sentences == [] and empty.key_phrases == [] and empty.n_candidates == 0
    silent = summarize(Transcript([], duration=2.0))
    assert silent.to_frame().empty and silent.to_text() == ""
    stop_only = summarize("It is. It was.", n_sentences=1)
    assert len(stop_only.sentences) == 1  # no vocabulary: uniform scores, first one wins


def test_key_phrases_find_the_repeated_topic():
    phrases = [k.phrase for k in key_phrases(TEXT.split(". "), n=3)]
    assert phrases[:2] == ["speech model", "laptop"]
    assert "model" not in phrases and "speech model runs" not in phrases
    assert key_phrases(TEXT, n=0) == []


def test_long_unpunctuated_speech_is_split():
    words = _words(["word " * 100])
    assert [len(s.text.split()) for s in split_sentences(words)] == [40, 40, 20]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_sentences": 0}, InputError, "n_sentences must be > 0"),
        ({"n_sentences": 2.5}, InputTypeError, "n_sentences must be an integer"),
        ({"n_key_phrases": -1}, InputError, "n_key_phrases must be >= 0"),
        ({"method": "lsa"}, UnknownNameError, "Unknown summary method 'lsa'"),
        ({"damping": 0}, InputError, "damping must be > 0"),
    ],
)
def test_summarize_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        summarize(TEXT, **kwargs)


def test_summarize_bad_source_type():
    with pytest.raises(InputTypeError, match="Cannot summarize a int"):
        summarize(5)
    with pytest.raises(InputTypeError, match="Cannot summarize a list"):
        summarize(["not", "words"])


def test_word_error_rate_counts_edits():
    assert word_error_rate("The cat sat.", "the CAT sat") == 0.0
    assert word_error_rate("the cat sat down", "the dog sat down") == 0.25
    assert word_error_rate("a b", "a x b y z") == 1.5
    assert word_error_rate("one two three", "") == 1.0
    assert normalize_text("Well-known café, isn't it?") == ["well", "known", "cafe", "isn't", "it"]


def test_word_error_rate_bad_input():
    with pytest.raises(InputError, match="reference text holds no words"):
        word_error_rate("...", "hello")
    with pytest.raises(InputTypeError, match="Expected text"):
        word_error_rate("hello", None)
