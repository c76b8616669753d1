"""The ``summarizer=`` hook: a written summary from a language model the user runs locally.

The default summary needs no model (:func:`~workbench.transcribe.summarize` picks sentences). A
user who runs a local language model can add a written summary on top of it, in one of two ways:

- a **callable** ``f(transcript_text) -> str`` (any Python function, e.g. one that calls
  llama-cpp-python or transformers already in memory);
- the **URL of an OpenAI-compatible server on this machine** (llama.cpp's ``llama-server``,
  Ollama, vLLM, LM Studio): ``"http://127.0.0.1:8080"`` or ``".../v1"`` or
  ``".../v1/chat/completions"``. The transcript is sent with ``POST /v1/chat/completions``
  through the standard library (urllib), only to ``localhost``, ``127.0.0.1`` or ``::1``, with no
  proxy and no redirects, so nothing leaves the machine and nothing is downloaded.

An unreachable server, an HTTP error or an answer without text raises :class:`SummarizerError`
with what to do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.core.params import check_text
from workbench.core.validation import check_positive

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "LOCAL_HOSTS",
    "ChatEndpoint",
    "SummarizerError",
    "resolve_summarizer",
]

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Hosts a summarizer URL may name: this machine only."""

DEFAULT_INSTRUCTIONS = (
    "You summarize meeting transcripts. Write a short summary (at most five sentences) of "
    "what was discussed, then list the decisions and the action items with who does what and "
    "by when. Use only facts from the transcript."
)
"""System message sent with the transcript."""

_CHAT_PATH = "/v1/chat/completions"
MAX_TIMEOUT_S = 3600.0
MAX_TOKENS = 32_768


class SummarizerError(WorkbenchError, RuntimeError):
    """The summarizer hook failed: the local server is unreachable or answered badly."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A local server that redirects could send the transcript elsewhere: refuse.
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):
        raise SummarizerError(
            f"The summarizer server redirected to {newurl!r}; give the final URL of its "
            f"{_CHAT_PATH} endpoint on this machine."
        )


def check_local_url(url: str) -> str:
    """Check that ``url`` names an HTTP server on this machine; return its chat-completions URL.

    Parameters
    ----------
    url : str
        ``http://127.0.0.1:8080``, ``http://localhost:8080/v1`` or the full
        ``.../v1/chat/completions`` URL (``https`` is accepted too).

    Returns
    -------
    str
        The URL ending in ``/v1/chat/completions``.

    Raises
    ------
    InputError
        If the URL is not http(s), names another host, or has another path.
    """
    check_text(url, name="summarizer URL")
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"summarizer={url!r} is not an http URL; pass e.g. 'http://127.0.0.1:8080' for a "
            "local OpenAI-compatible server, or a callable."
        )
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InputError(f"summarizer={url!r} has an invalid port.") from None
    if host not in LOCAL_HOSTS:
        raise InputError(
            f"summarizer={url!r} names the host {host!r}; the transcript is only sent to a "
            f"server on this machine ({', '.join(LOCAL_HOSTS)}). Run the model locally, or "
            "pass a callable that does what you need."
        )
    path = parts.path.rstrip("/")
    if path in ("", "/v1"):
        path = _CHAT_PATH
    if path != _CHAT_PATH or parts.query or parts.fragment:
        raise InputError(
            f"summarizer={url!r} has the path {parts.path!r}; give the server's address "
            f"(e.g. 'http://127.0.0.1:8080') or its {_CHAT_PATH} endpoint."
        )
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class ChatEndpoint:
    """A summarizer that asks an OpenAI-compatible chat server on this machine.

    Parameters
    ----------
    url : str
        Address of the server (see :func:`check_local_url`); only localhost, 127.0.0.1 or ::1.
    model : str, default="local"
        Model name sent in the request (servers that host one model ignore it).
    instructions : str, default=DEFAULT_INSTRUCTIONS
        System message.
    max_tokens : int, default=400
        Longest answer, in tokens.
    timeout_s : float, default=120.0
        Seconds to wait for the answer (a local model on a CPU is slow).

    Examples
    --------
    >>> from workbench.transcribe import summarize
    >>> summarize(transcript, summarizer="http://127.0.0.1:8080")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        model: str = "local",
        instructions: str = DEFAULT_INSTRUCTIONS,
        max_tokens: int = 400,
        timeout_s: float = 120.0,
    ) -> None:
        self.url = check_local_url(url)
        self.model = check_text(model, name="model")
        self.instructions = check_text(instructions, name="instructions")
        self.max_tokens = check_positive(
            max_tokens, name="max_tokens", integer=True, high=MAX_TOKENS
        )
        self.timeout_s = check_positive(timeout_s, name="timeout_s", high=MAX_TIMEOUT_S)

    def __repr__(self) -> str:
        return f"ChatEndpoint({self.url!r}, model={self.model!r})"

    def __call__(self, text: str) -> str:
        """Send ``text`` and return the model's answer.

        Raises
        ------
        SummarizerError
            If the server cannot be reached, answers with an HTTP error, or its answer holds
            no text.
        """
        body = json.dumps(
            {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": self.instructions},
                    {"role": "user", "content": f"Transcript:\n{text}"},
                ],
                "max_tokens": self.max_tokens,
                "temperature": 0,
                "stream": False,
            }
        ).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        # No proxy handler from the environment: the request must stay on this machine.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                raw = response.read(10_000_000)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            raise SummarizerError(
                f"The summarizer server at {self.url} answered HTTP {exc.code} ({detail}); "
                "check that it serves an OpenAI-compatible chat API and the model name."
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SummarizerError(
                f"Could not reach the summarizer at {self.url} ({reason}). Start your local "
                "server first (e.g. `llama-server -m model.gguf --port 8080` or Ollama), or "
                "leave summarizer=None for the extractive summary alone."
            ) from None
        try:
            answer = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise SummarizerError(
                f"The summarizer server at {self.url} did not answer like an OpenAI chat "
                f"completion (got {raw[:200]!r}); check the URL and the server."
            ) from None
        if not isinstance(answer, str) or not answer.strip():
            raise SummarizerError(f"The summarizer server at {self.url} answered no text.")
        return answer.strip()


def resolve_summarizer(summarizer: Any) -> Callable[[str], str] | None:
    """Turn a ``summarizer=`` argument into a callable (or None).

    Parameters
    ----------
    summarizer : None, callable or str
        None for no written summary; a callable ``f(text) -> str``; or a local server URL,
        which becomes a :class:`ChatEndpoint`.

    Returns
    -------
    callable or None

    Raises
    ------
    InputError
        For a URL that is not on this machine (see :func:`check_local_url`).
    InputTypeError
        For any other type.
    """
    if summarizer is None:
        return None
    if isinstance(summarizer, str):
        return ChatEndpoint(summarizer)
    if callable(summarizer):
        return summarizer
    raise InputTypeError(
        f"summarizer must be None, a callable text -> str, or the URL of a local "
        f"OpenAI-compatible server, got {type(summarizer).__name__}."
    )


def run_summarizer(summarizer: Callable[[str], str], text: str) -> str:
    """Call the hook on ``text`` and check that it returned text.

    Raises
    ------
    SummarizerError
        If a callable returns something other than a str.
    """
    answer = summarizer(text)
    if not isinstance(answer, str):
        raise SummarizerError(
            f"The summarizer returned {type(answer).__name__}; it must return the summary as a str."
        )
    return answer.strip()
