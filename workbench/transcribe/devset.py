"""A development set of synthetic meeting speech, generated with espeak-ng at run time.

Defaults are chosen on this set (``benchmarks/transcribe_bench.py``), so it is broad on purpose:
eight meeting-like passages (none of them used by the tests), each spoken twice by different
espeak-ng voices (en-us, en-gb and en-gb-x-rp with female and male variants) at 130-180 words a
minute, one rendition with white noise at 20 dB SNR, every clip with silence gaps of 1.5-5 s
between its parts: 16 clips, about 11.5 minutes in all. Nothing but the texts is committed, and
the same ``random_state`` gives the same audio.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from workbench.core.errors import InputError
from workbench.core.params import check_random_state
from workbench.core.validation import check_choice
from workbench.transcribe.audio import SAMPLE_RATE
from workbench.transcribe.checks import check_text_list
from workbench.transcribe.speech import synthesize

__all__ = ["DEV_PASSAGES", "DevClip", "add_noise", "dev_set"]

# Each passage is a list of parts; a silence gap separates consecutive parts.
DEV_PASSAGES: dict[str, list[str]] = {
    "standup": [
        "Good morning, everyone. Let's keep the stand-up short today. Yesterday I finished the "
        "login page and fixed two bugs in the search form.",
        "Today I will write the tests for the payment service. Maria, you were blocked on the "
        "database migration. Is that solved? Yes, the migration ran last night without errors.",
        "Great. Then Tom will deploy the new version to staging this afternoon. Let's meet again "
        "tomorrow at ten.",
    ],
    "budget": [
        "Welcome to the budget meeting. The marketing team spent eighty thousand euros in the "
        "first quarter, which is a little less than planned.",
        "We decided to move ten thousand euros from print advertising to online campaigns. "
        "Print brought very few new customers last year.",
        "Anna will send the revised budget to the finance department by the end of next week. "
        "The board has to approve it before the first of June.",
    ],
    "design_review": [
        "Thank you for joining the design review. We looked at three options for the new "
        "dashboard. The first option shows all numbers on one page.",
        "The second option uses tabs, and the third option lets each user choose the charts. "
        "Most testers preferred the second option because it was easier to read.",
        "So we agreed to build the tab layout. Peter is going to draw the final screens, and "
        "the developers will start on Monday.",
    ],
    "customer_call": [
        "Hello, and thanks for calling back. I understand the shipment arrived two days late "
        "and one box was damaged.",
        "I am sorry about that. We will send a replacement for the damaged items at no cost. "
        "You should receive them on Thursday.",
        "I will also ask our warehouse to check the packaging. Please reply to my email with "
        "photos of the box, so that we can claim the damage from the carrier.",
    ],
    "research_sync": [
        "Let's go through the experiments. The smaller model reached ninety one percent "
        "accuracy on the validation set, but it was slow to train.",
        "Lisa found that a lower learning rate makes the training stable. We should run the "
        "same test with three different random seeds before we believe it.",
        "The deadline for the paper is the fifteenth of October. David will write the methods "
        "section, and I will prepare the figures by Friday.",
    ],
    "planning": [
        "Okay, let's plan the next sprint. We have twelve open tickets, and the team can finish "
        "about eight of them in two weeks.",
        "The most important work is the export feature, because two large customers are "
        "waiting for it. The mobile changes can wait until the following sprint.",
        "Sarah will prepare the release notes, and James agreed to review every pull request "
        "within one day. We will present the results to the customers on the third of May.",
    ],
    "hiring": [
        "We interviewed five people for the data engineer position. Two of them did very well "
        "in the technical test.",
        "The team liked the second candidate the most. She has four years of experience with "
        "cloud systems and she explained her work clearly.",
        "We will make her an offer this week. Michael must check the salary range with human "
        "resources before Wednesday.",
    ],
    "retrospective": [
        "This is our retrospective for the last project. What went well? The team communicated "
        "openly, and the customer was happy with the quality.",
        "What went badly? We underestimated the testing work, and the last week was very "
        "stressful. Some people worked late every evening.",
        "Next time we will plan a full week for testing. Each person should write down one "
        "idea to improve our process and share it at the next meeting.",
    ],
}

# (passage, espeak-ng voice, words per minute, noisy): every passage twice, by voices en-us,
# en-gb and en-gb-x-rp with female (+f) and male (+m) variants at 130-180 wpm, one of the two
# renditions with 20 dB noise.
_PLAN: list[tuple[str, str, int, bool]] = [
    ("standup", "en-us+f2", 165, False),
    ("budget", "en-gb+m3", 140, True),
    ("design_review", "en-gb-x-rp+f3", 130, False),
    ("customer_call", "en-us+m5", 175, True),
    ("research_sync", "en-gb+f3", 150, False),
    ("planning", "en-gb-x-rp+m3", 160, True),
    ("hiring", "en-us+f3", 180, False),
    ("retrospective", "en-gb+m5", 135, True),
    ("standup", "en-gb-x-rp+m5", 145, True),
    ("budget", "en-us+f3", 170, False),
    ("design_review", "en-gb+m3", 155, True),
    ("customer_call", "en-gb-x-rp+f2", 135, False),
    ("research_sync", "en-us+m3", 160, True),
    ("planning", "en-gb+f2", 175, False),
    ("hiring", "en-gb-x-rp+f3", 140, True),
    ("retrospective", "en-us+m5", 150, False),
]
NOISE_SNR_DB = 20.0
"""Signal-to-noise ratio of the noisy clips."""


@dataclasses.dataclass(frozen=True)
class DevClip:
    """One clip of the development set.

    Attributes
    ----------
    name : str
        Passage name and rendition (``"budget-2"``).
    voice : str
        espeak-ng voice with its variant (``"en-gb+m3"``).
    words_per_minute : int
    snr_db : float or None
        Signal-to-noise ratio of the added white noise; None for a clean clip.
    text : str
        The spoken text (the WER reference).
    audio : numpy.ndarray of float32
        16 kHz mono samples.
    gaps : tuple of (float, float)
        Start and length (s) of each silence gap between the parts.
    """

    name: str
    voice: str
    words_per_minute: int
    snr_db: float | None
    text: str
    audio: np.ndarray
    gaps: tuple[tuple[float, float], ...]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.audio.size / SAMPLE_RATE


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise at ``snr_db`` relative to the power of the non-silent samples.

    Parameters
    ----------
    audio : numpy.ndarray of float32
    snr_db : float
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of float32
        Clipped to [-1, 1].
    """
    voiced = audio[np.abs(audio) > 1e-3]
    if not voiced.size:
        raise InputError("The audio is silent; there is no signal to set a noise level against.")
    power = float(np.mean(voiced.astype(np.float64) ** 2))
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), audio.size)
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)


def dev_set(random_state: int = 0, *, names: list[str] | None = None) -> list[DevClip]:
    """Generate the development set (16 clips, about 11.5 minutes; needs espeak-ng, takes seconds).

    Parameters
    ----------
    random_state : int, default=0
        Seeds the gap lengths and the noise (None means 0: the set is always reproducible).
    names : str or list of str, optional
        Only the clips of these passages (a subset for quick runs; both renditions of each);
        all by default.

    Returns
    -------
    list of DevClip

    Raises
    ------
    UnknownNameError
        For a passage name that does not exist.
    InputTypeError
        If ``names`` is not a str or a list of str, or ``random_state`` not an integer.
    DependencyError
        If espeak-ng is not installed.
    """
    seed = check_random_state(random_state)
    if names is not None:
        names = check_text_list(names, name="names")
        for name in names:
            check_choice(name, list(DEV_PASSAGES), kind="dev-set passage")
    rng = np.random.default_rng(0 if seed is None else seed)
    clips = []
    seen: dict[str, int] = {}
    for name, voice, wpm, noisy in _PLAN:
        seen[name] = seen.get(name, 0) + 1
        # Draw for every clip so that a subset gets the same audio as the full set.
        gap_lengths = rng.uniform(1.5, 5.0, size=len(DEV_PASSAGES[name]) - 1)
        noise_rng = np.random.default_rng(rng.integers(2**32))
        if names is not None and name not in names:
            continue
        parts, gaps, t = [], [], 0.0
        for i, text in enumerate(DEV_PASSAGES[name]):
            speech = synthesize(text, voice=voice, words_per_minute=wpm)
            parts.append(speech)
            t += speech.size / SAMPLE_RATE
            if i < len(gap_lengths):
                n = round(gap_lengths[i] * SAMPLE_RATE)
                parts.append(np.zeros(n, dtype=np.float32))
                gaps.append((round(t, 3), n / SAMPLE_RATE))
                t += n / SAMPLE_RATE
        audio = np.concatenate(parts).astype(np.float32)
        snr = NOISE_SNR_DB if noisy else None
        if snr is not None:
            audio = add_noise(audio, snr, noise_rng)
        clips.append(
            DevClip(
                f"{name}-{seen[name]}",
                voice,
                wpm,
                snr,
                " ".join(DEV_PASSAGES[name]),
                audio,
                tuple(gaps),
            )
        )
    return clips
