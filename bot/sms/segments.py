"""SMS encoding and segment arithmetic, as carriers count it (3GPP TS 23.038).

A message is sent in GSM-7 when every character is in the GSM-7 alphabet or
its extension table (extension characters cost two septets), otherwise in
UCS-2, where a character outside the Basic Multilingual Plane costs two units.
"""

import re
from typing import List

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"

_GSM7_BASIC_SET = frozenset(GSM7_BASIC)
_GSM7_EXTENSION_SET = frozenset(GSM7_EXTENSION)

GSM7_SINGLE = 160
GSM7_PER_SEGMENT = 153
UCS2_SINGLE = 70
UCS2_PER_SEGMENT = 67
MAX_SEGMENTS_PER_REPLY = 2
# Twilio rejects a body longer than this.
TWILIO_MAX_BODY = 1600


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC_SET or ch in _GSM7_EXTENSION_SET for ch in text)


def units(text: str) -> int:
    """Return the length of ``text`` in septets (GSM-7) or UTF-16 units (UCS-2)."""
    if is_gsm7(text):
        return sum(2 if ch in _GSM7_EXTENSION_SET else 1 for ch in text)
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def segment_count(text: str) -> int:
    """Return how many segments a carrier bills for ``text``."""
    length = units(text)
    if is_gsm7(text):
        single, per_segment = GSM7_SINGLE, GSM7_PER_SEGMENT
    else:
        single, per_segment = UCS2_SINGLE, UCS2_PER_SEGMENT
    if length <= single:
        return 1
    return -(-length // per_segment)


def fits(text: str, max_segments: int = MAX_SEGMENTS_PER_REPLY) -> bool:
    return segment_count(text) <= max_segments


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*|\n+")


def _pieces(text: str) -> List[str]:
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]


def _joiner(previous: str) -> str:
    # Chinese sentences run on without a space.
    return "" if previous and previous[-1] in "。！？" else " "


def compose(texts: List[str], max_segments: int = MAX_SEGMENTS_PER_REPLY) -> List[str]:
    """Pack the bot's messages of one turn into as few SMS as possible.

    Messages are joined while the result fits in ``max_segments``; a message
    too long alone is split between sentences, and a sentence too long alone
    between words. Order is kept.
    """
    parts: List[str] = []
    current = ""
    for text in texts:
        pieces = [text.strip()] if fits(text.strip(), max_segments) else _pieces(text)
        for piece in pieces:
            for chunk in _split_oversized(piece, max_segments):
                candidate = f"{current}{_joiner(current)}{chunk}" if current else chunk
                if fits(candidate, max_segments):
                    current = candidate
                else:
                    parts.append(current)
                    current = chunk
    if current:
        parts.append(current)
    return [part for part in parts if part]


def _split_oversized(piece: str, max_segments: int) -> List[str]:
    if fits(piece, max_segments):
        return [piece]
    chunks: List[str] = []
    current = ""
    tokens = piece.split(" ") if " " in piece else list(piece)
    separator = " " if " " in piece else ""
    for token in tokens:
        candidate = f"{current}{separator}{token}" if current else token
        if fits(candidate, max_segments):
            current = candidate
        else:
            if current:
                chunks.append(current)
            current = token
    if current:
        chunks.append(current)
    return chunks
