"""Names guessed from self-introductions ("I'm Anna from the council"): the LLM reads the first
lines of each unnamed speaker; a guess is kept only if the name is in what they said, and it is
shown as a guess, never stored, until the user confirms it (``--name S2=Anna``). (The engine
first offers the name given to the same voice in another video, from the library's voices.)"""

from __future__ import annotations

import json
import re

from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import VideoMemory
from longvid.models.base import ChatModel

PROMPT = (
    "These are the first things one speaker says in a video. If the speaker says their own name "
    '(for example "I am Anna", "my name is Anna Berg", "Anna here"), give that name; if they do '
    'not name themselves, give null. Reply as JSON: {"name": ...}.'
)
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": ["string", "null"]}},
    "required": ["name"],
    "additionalProperties": False,
}
FIRST_LINES = 6  # self-introductions come early: the speaker's first lines are read


def guess_names(memory: VideoMemory, llm: ChatModel, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Speaker id -> the name they seem to give themselves (unnamed speakers not in ``skip``;
    none where nothing in their own words supports a name)."""
    if not has_speakers(memory):
        return {}
    voices = SpeakerMemory(memory)
    unnamed = {s.id for s in voices.speakers() if not s.name} - skip
    said: dict[str, list[str]] = {}
    for line in memory.transcript() or []:
        who = voices.speaker_of(line.start, line.end)
        if who in unnamed and len(said.setdefault(who, [])) < FIRST_LINES:
            said[who].append(line.text)
    guesses = {}
    for who, lines in said.items():
        text = "\n".join(lines)
        reply = llm.chat([{"role": "system", "content": PROMPT}, {"role": "user", "content": text}],
                         json_schema=SCHEMA)  # fmt: skip
        name = _name(reply)
        if name and name.casefold() in text.casefold():  # only a name they said
            guesses[who] = name
    return guesses


def _name(reply: str) -> str | None:
    try:
        value = json.loads(reply).get("name")
    except (json.JSONDecodeError, AttributeError):
        match = re.search(r'"name"\s*:\s*"([^"]+)"', reply)
        value = match[1] if match else None
    name = str(value).strip().strip(".") if value else ""
    return name if name and name.lower() not in ("null", "none") else None
