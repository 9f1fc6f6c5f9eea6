"""Find the organisations, persons and forums a free-text "Ansvarig" cell names.

Plans name parties in prose: "Falu kommun (Faluns BRÅ sammankallar), Kopparstaden, andra bostadsbolag,
Polisen". The text is cut into segments at commas, parentheses and joining words, and each segment is
searched for the longest known alias. A segment that names nothing known is reported as unmatched, so
the coordinator can add it to the directory (or let it be: "andra bostadsbolag" is nobody in particular).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.text import fold


class PartyKind(StrEnum):
    ORGANISATION = "organisation"
    PERSON = "person"
    FORUM = "forum"


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    kind: PartyKind
    id: int
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartyMatch:
    entries: tuple[DirectoryEntry, ...]
    unmatched: tuple[str, ...]


_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
# Tokens that separate one party from the next when they are not part of a known name.
_SEPARATOR_WORDS = frozenset({"och", "samt", "med", "tillsammans", "via", "inom", "i", "av", "for", "till"})
# Words that carry no party of their own ("… m.fl.", "… sammankallar", "finns som stöd").
_FILLER = frozenset(
    fold(word)
    for word in (  # noqa: SIM905 - one readable string of words beats a column of one-word literals
        "m fl mfl flera sammankallar samordnar bjuder in finns som stöd hjälp ansvar gemensamt även bland "
        "annat tillser att inbjudna berörda övriga respektive främst utvald del arbetar den det de en ett "
        # words that start sentences in prose cells but never name a party
        "bjuds utser ansvariga representanter projekt samverkan hela fyra tjänster"
    ).split()
)


_MAX_NAME_WORDS = 4


class DirectoryIndex:
    """Aliases of a kommun's parties, folded once, longest first."""

    def __init__(self, entries: list[DirectoryEntry]) -> None:
        self.entries = entries
        aliases: list[tuple[tuple[str, ...], DirectoryEntry]] = []
        for entry in entries:
            for alias in {entry.name, *entry.aliases}:
                words = tuple(fold(alias).split())
                if words:
                    aliases.append((words, entry))
        # Longest alias first, so "Polisen Region Dalarna" wins over "Polisen".
        self._aliases = sorted(aliases, key=lambda pair: len(pair[0]), reverse=True)

    def match(self, text: str) -> PartyMatch:
        """The parties ``text`` names, in order of mention, and the pieces that name nobody known."""
        # "BRÅ-samordnare" is two words to compare, "BRÅ" and "samordnare".
        tokens = _TOKEN.findall(re.sub(r"(?<=\w)-(?=\w)", " ", text))
        folded = [fold(token) for token in tokens]
        # Aliases are compared on words only: "Arbetslivs- och socialförvaltningen" has a dash the
        # directory may not write.
        words = [index for index, key in enumerate(folded) if key]
        word_keys = [folded[index] for index in words]
        owner: list[DirectoryEntry | None] = [None] * len(tokens)
        for alias, entry in self._aliases:
            for start in _occurrences(word_keys, alias):
                first, last = words[start], words[start + len(alias) - 1]
                if all(owner[index] is None for index in range(first, last + 1)):
                    for index in range(first, last + 1):
                        owner[index] = entry
        found: list[DirectoryEntry] = []
        for owned in owner:
            if owned is not None and owned not in found:
                found.append(owned)
        return PartyMatch(tuple(found), tuple(_leftovers(tokens, folded, owner)))


def _occurrences(folded: list[str], words: tuple[str, ...]) -> list[int]:
    width = len(words)
    return [
        start for start in range(len(folded) - width + 1) if tuple(folded[start : start + width]) == words
    ]


def _leftovers(tokens: list[str], folded: list[str], owner: list[DirectoryEntry | None]) -> list[str]:
    """Runs of unowned words that look like a name: capitalised ("Centrala stadsrum"), or a whole list
    item between punctuation ("…, andra bostadsbolag, …"). Prose around names is not reported."""
    pieces: list[str] = []
    run: list[str] = []
    run_after_punctuation = True

    def close(*, before_punctuation: bool) -> None:
        words = [word for word in run if fold(word) not in _FILLER]
        whole_item = run_after_punctuation and before_punctuation
        if words and len(words) <= _MAX_NAME_WORDS and (words[0][:1].isupper() or whole_item):
            pieces.append(" ".join(words))
        run.clear()

    previous_punctuation = True
    for token, key, entry in zip(tokens, folded, owner, strict=True):
        is_punctuation = not key
        if entry is not None or is_punctuation or key in _SEPARATOR_WORDS:
            close(before_punctuation=is_punctuation)
        else:
            if not run:
                run_after_punctuation = previous_punctuation
            run.append(token)
        previous_punctuation = is_punctuation
    close(before_punctuation=True)
    return pieces
