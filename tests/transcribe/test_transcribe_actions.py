"""Decisions and action items, and the ``summarizer=`` hook (a callable or a local chat server)."""

from __future__ import annotations

import json
import math
import threading
import typing
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.transcribe import (
    ActionItem,
    ChatEndpoint,
    SummarizerError,
    Word,
    find_action_items,
    summarize,
)

MEETING = (
    "Good morning, everyone. The weather was nice last weekend. "
    "We decided to move ten thousand euros from print to online campaigns. "
    "Anna will send the revised budget to finance by the end of next week. "
    "Most testers preferred the second option. "
    "The deadline for the paper is the fifteenth of October. "
    "Please reply to my email with photos of the box. "
    "Sales grew by twelve percent."
)


def _kinds(text):
    return [(a.kind, a.who, a.due) for a in find_action_items(text)]


def test_decisions_actions_and_dates_are_found_and_the_rest_is_not():
    items = find_action_items(MEETING)
    assert [(a.index, a.kind) for a in items] == [
        (2, "decision"),
        (3, "action"),
        (5, "date"),
        (6, "action"),
    ]
    anna = items[1]
    assert anna.who == "Anna"
    assert anna.due == "by the end of next week"
    assert items[2].due == "the fifteenth of October"  # the date, not the word "deadline"
    assert items[3].who == "you"  # "please <verb>" asks the listener
    assert all(math.isnan(a.start) for a in items)  # plain text has no times


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Then Tom will deploy it this afternoon.", ("action", "Tom", "this afternoon")),
        ("Next time we will plan a full week for testing.", ("action", "we", None)),
        ("Michael must check it before Wednesday.", ("action", "Michael", "before Wednesday")),
        ("So we agreed to build the tab layout.", ("decision", "we", None)),
        (
            "The board approved it on the third of May.",
            ("decision", "The board", "on the third of May"),
        ),
        ("The heating will be repaired on Monday.", ("date", None, "on Monday")),
        ("The budget was approved yesterday.", ("decision", None, None)),
    ],
)
def test_one_sentence_rules(sentence, expected):
    assert _kinds(sentence) == [expected]


@pytest.mark.parametrize(
    "sentence",
    [
        "The heating will be repaired soon.",  # a prediction about a thing, no date
        "The south was weaker, because a partner closed three stores.",
        "The Mayor said nothing.",
    ],
)
def test_sentences_that_commit_nobody_are_not_items(sentence):
    assert find_action_items(sentence) == []


def test_items_keep_their_sentence_times_and_reach_the_summary():
    words = [
        Word(0.0, 0.5, " Hello", 0.9),
        Word(0.5, 1.0, " all.", 0.9),
        Word(2.0, 2.4, " Sarah", 0.9),
        Word(2.4, 2.7, " will", 0.9),
        Word(2.7, 3.2, " prepare", 0.9),
        Word(3.2, 3.6, " slides", 0.9),
        Word(3.6, 4.0, " tomorrow.", 0.9),
    ]
    (item,) = find_action_items(words)
    assert (item.start, item.end, item.who, item.due) == (2.0, 4.0, "Sarah", "tomorrow")
    summary = summarize(words, n_sentences=1)
    assert summary.action_items == [item]
    frame = summary.actions_frame()
    assert list(frame["time"]) == ["00:00:02"]
    assert list(frame["kind"]) == ["action"]
    assert "(action, Sarah, tomorrow) Sarah will prepare slides tomorrow." in summary.to_text()
    assert summary.to_dict()["action_items"][0]["start"] == 2.0
    assert summary.abstract is None  # the default needs no model


def test_find_action_items_refuses_other_types():
    with pytest.raises(InputTypeError):
        find_action_items(42)
    assert isinstance(ActionItem(0, 0.0, 1.0, "x", "date").to_dict(), dict)


def test_a_callable_summarizer_gets_the_whole_text_and_its_answer_is_kept():
    seen = []

    def fake(text):
        seen.append(text)
        return "  Budget moved; Anna sends it.  "

    summary = summarize(MEETING, n_sentences=2, summarizer=fake)
    assert seen == [MEETING]
    assert summary.abstract == "Budget moved; Anna sends it."
    assert summary.to_text().startswith("Budget moved; Anna sends it.\n")
    assert len(summary.sentences) == 2  # the extractive summary is still there


def test_a_summarizer_that_returns_no_text_is_refused():
    with pytest.raises(SummarizerError, match="must return the summary as a str"):
        summarize(MEETING, summarizer=lambda text: None)
    with pytest.raises(InputTypeError, match="summarizer must be"):
        summarize(MEETING, summarizer=3)


class _Chat(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible chat server: answers with the number of words it was sent."""

    requests: typing.ClassVar[list] = []
    status: typing.ClassVar[int] = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Chat.requests.append((self.path, body))
        if _Chat.status != 200:
            self.send_error(_Chat.status, "model not loaded")
            return
        words = len(body["messages"][-1]["content"].split())
        answer = {"choices": [{"message": {"role": "assistant", "content": f"{words} words."}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    _Chat.requests = []
    _Chat.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_local_chat_server_writes_the_abstract(chat_server):
    summary = summarize(MEETING, summarizer=chat_server)
    (path, body) = _Chat.requests[0]
    assert path == "/v1/chat/completions"
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][1]["content"] == "Transcript:\n" + MEETING
    assert summary.abstract == f"{len(MEETING.split()) + 1} words."
    # The same server given as .../v1 and the full endpoint, with options.
    endpoint = ChatEndpoint(chat_server + "/v1/", model="qwen", max_tokens=50, timeout_s=5)
    assert endpoint("one two") == "3 words."
    assert _Chat.requests[-1][1]["model"] == "qwen"
    assert _Chat.requests[-1][1]["max_tokens"] == 50


def test_a_server_error_says_what_the_server_answered(chat_server):
    _Chat.status = 503
    with pytest.raises(SummarizerError, match="HTTP 503"):
        summarize(MEETING, summarizer=chat_server + "/v1/chat/completions")


def test_an_unreachable_server_gives_a_clear_error():
    # Bind a port, then close it: nothing listens there.
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    port = server.server_address[1]
    server.server_close()
    with pytest.raises(SummarizerError, match=r"Could not reach the summarizer.*Start your local"):
        summarize(MEETING, summarizer=f"http://127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://example.com:8080", "only sent to a server on this machine"),
        ("http://10.0.0.5/v1", "only sent to a server on this machine"),
        ("ftp://localhost/v1", "not an http URL"),
        ("localhost:8080", "not an http URL"),
        ("http://localhost:8080/api/generate", "has the path"),
        ("http://localhost:99999", "invalid port"),
        ("", "empty"),
    ],
)
def test_only_local_chat_urls_are_accepted(url, match):
    with pytest.raises(InputError, match=match):
        ChatEndpoint(url)


def test_ipv6_loopback_and_localhost_are_local():
    assert ChatEndpoint("http://[::1]:8080").url == "http://[::1]:8080/v1/chat/completions"
    assert ChatEndpoint("https://localhost/v1").url == "https://localhost/v1/chat/completions"
    with pytest.raises(WorkbenchError):
        ChatEndpoint("http://localhost:8080", max_tokens=0)
