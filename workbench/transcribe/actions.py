"""Decisions and action items: the sentences of a meeting that someone has to act on.

After a meeting the useful lines are the ones that settle something or commit someone to
something: "We decided to move ten thousand euros to online campaigns", "Anna will send the
revised budget by the end of next week", "The deadline is the fifteenth of October". They are
found by rules on the transcript's own sentences (nothing is generated, nothing downloaded), and
each keeps its start and end time so it links back to its place in the audio.

The rules, in order:

- **decision**: an agreement or a choice was made ("we decided", "we agreed", "the board
  approved", "was approved", "we chose", "let's go with");
- **action**: a person or "we"/"I"/"you" is committed to a future act ("X will", "X is going
  to", "X must/should/needs to/has to", "can you", "please <verb>"), excluding plain
  predictions about things ("the heating will be repaired" is an action only if it has a date);
- **date**: any other sentence that names a day, date or deadline ("on Thursday", "by the end of
  the month", "before the first of June", "next week", "deadline").

A decision or action also records the person (a capitalised name or pronoun before the verb)
and the due date phrase when the sentence gives one.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence

from workbench.transcribe.sentences import Sentence, split_sentences
from workbench.transcribe.transcript import Transcript, Word

__all__ = ["KINDS", "ActionItem", "find_action_items"]

KINDS = ("decision", "action", "date")
"""Kinds of :class:`ActionItem`, in the order the rules try them."""

_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_ORDINAL = (
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
    r"twenty[- ]\w+|thirtieth|thirty[- ]first|\d{1,2}(?:st|nd|rd|th)"
)
_DATE = re.compile(
    rf"\b(?:(?:by|before|until|on|from|after|due)\s+)?(?:"
    rf"(?:the\s+)?(?:{_ORDINAL})\s+of\s+(?:{_MONTHS})"  # the fifteenth of October
    rf"|(?:{_MONTHS})\s+(?:the\s+)?(?:{_ORDINAL}|\d{{1,2}})\b"  # May 3, May the third
    rf"|(?:this|next|on|by|before|until)\s+(?:{_DAYS})"  # next Monday, by Friday
    rf"|(?:{_DAYS})"
    rf"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|quarter|year|sprint)"
    rf"|(?:next|this|the\s+following)\s+(?:week|month|quarter|year|sprint)"
    rf"|(?:this|next|the)\s+(?:summer|winter|spring|autumn|fall)"
    rf"|tomorrow|tonight|this\s+(?:morning|afternoon|evening)"
    rf"|(?:in|within)\s+(?:\w+\s+)?(?:days?|weeks?|months?)"
    rf"|\d{{1,2}}[/.]\d{{1,2}}(?:[/.]\d{{2,4}})?|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|deadline|due\s+date"
    rf")\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?P<subj>we|they|i|the\s+\w+|everyone)\s+(?:have\s+|has\s+)?(?:decided|agreed|chose|"
    r"approved|settled\s+on|voted)\b|\blet'?s\s+go\s+with\b|\bit\s+was\s+(?:decided|agreed)\b|"
    r"\bthe\s+decision\s+is\b|\bwe'?re\s+going\s+with\b|"
    r"\b(?:was|were|has\s+been|have\s+been)\s+(?:approved|decided|agreed)\b",
    re.IGNORECASE,
)
# Someone committed to a future act: a person pronoun anywhere, a name (or "you", often an
# object) only where a clause starts.
_WILL = (
    r"(?:\s+(?:also|still))?\s*(?:will|'ll|shall|is\s+going\s+to|are\s+going\s+to|"
    r"am\s+going\s+to|must|should|needs?\s+to|has\s+to|have\s+to|agreed\s+to|"
    r"promised\s+to|offered\s+to|is\s+to)(?:\s+also)?\s+(?!be\s+\w+ed\b)\w+"
)
_CLAUSE = r"(?:^|[,;:]\s*|\b(?i:and|so|then|but|now|okay|next\s+time)\s+)"
_COMMIT = re.compile(
    rf"(?:\b(?P<pronoun>I|[Ww]e|[Hh]e|[Ss]he|[Tt]hey)"
    rf"|{_CLAUSE}(?P<who>[Yy]ou|[A-Z][a-z]+(?:\s+and\s+[A-Z][a-z]+)?"
    rf"|(?i:each|every)\s+\w+|(?i:everyone|everybody))){_WILL}"
)
_ASK = re.compile(r"^(?:can|could)\s+you\b|\bplease\s+[a-z]{3,}", re.I)
# Words that start a sentence with a capital but are no person.
_NOT_PEOPLE = {"The", "This", "That", "These", "Those", "It", "There", "Then", "So", "And", "But"}


@dataclasses.dataclass(frozen=True)
class ActionItem:
    """A decision, action item or date found in a transcript.

    Attributes
    ----------
    index : int
        Position of the sentence among the transcript's sentences.
    start, end : float
        Seconds in the audio (NaN for plain text input).
    text : str
        The sentence.
    kind : {"decision", "action", "date"}
    who : str or None
        The person committed ("Anna", "we"), when the sentence names one.
    due : str or None
        The date or deadline phrase, when the sentence gives one ("by Friday").
    """

    index: int
    start: float
    end: float
    text: str
    kind: str
    who: str | None = None
    due: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The item as a JSON-ready dict (NaN times become None)."""
        d = dataclasses.asdict(self)
        for key in ("start", "end"):
            d[key] = round(d[key], 2) if math.isfinite(d[key]) else None
        return d


def _who(text: str) -> str | None:
    for m in _COMMIT.finditer(text):
        who = m.group("pronoun") or m.group("who")
        if who not in _NOT_PEOPLE:
            return who
    return None


def _due(text: str) -> str | None:
    # "The deadline is the fifteenth of October": the date itself says more than "deadline".
    found = [m.group(0).strip() for m in _DATE.finditer(text)]
    specific = [f for f in found if not f.lower().startswith(("deadline", "due date"))]
    return (specific or found or [None])[0]


def classify_sentence(text: str) -> tuple[str | None, str | None, str | None]:
    """Kind, person and due date of one sentence (``(None, None, None)`` for other sentences).

    Parameters
    ----------
    text : str

    Returns
    -------
    kind : str or None
        One of :data:`KINDS`, or None.
    who : str or None
    due : str or None
    """
    due = _due(text)
    who = _who(text)
    decision = _DECISION.search(text)
    if decision:
        return "decision", decision.group("subj") or who, due
    if who is not None or _ASK.search(text):
        return "action", who or ("you" if _ASK.search(text) else None), due
    if due is not None:
        return "date", None, due
    return None, None, None


def find_action_items(source: Transcript | Sequence[Word] | str) -> list[ActionItem]:
    """Find the decisions, action items and dates of a transcript, in spoken order.

    Parameters
    ----------
    source : Transcript, sequence of Word, or str
        See :func:`~workbench.transcribe.split_sentences`; with word timestamps each item gets
        its sentence's exact times.

    Returns
    -------
    list of ActionItem
        Empty when no sentence commits anyone to anything or names a date.

    Raises
    ------
    InputTypeError
        If ``source`` has an unsupported type.
    """
    return items_from_sentences(split_sentences(source))


def items_from_sentences(sentences: Sequence[Sentence]) -> list[ActionItem]:
    """:func:`find_action_items` on sentences already split (the summary reuses its split)."""
    items = []
    for s in sentences:
        kind, who, due = classify_sentence(s.text)
        if kind is not None:
            items.append(ActionItem(s.index, s.start, s.end, s.text, kind, who, due))
    return items
