"""The prompt catalogue: every text the hotline sends, per language.

Texts live in ``flows/prompts/<language>.yml`` so translators edit one file
per language and a wording change needs no retraining: Rasa asks the gateway
for each response through its NLG endpoint.
"""

import logging
import string
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import yaml

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

FLOWS_DIR = Path(__file__).resolve().parent.parent.parent / "flows"
PROMPTS_DIR = FLOWS_DIR / "prompts"


AUDIO_DIR = FLOWS_DIR / "audio"
CHANNELS = ("sms", "voice")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    say_language: str
    say_voice: str
    speech_language: str
    names: tuple
    country_prior: Mapping[str, float]


@dataclass(frozen=True)
class Prompt:
    """A prompt ready to send: its text for the channel, keypad and voice behaviour."""

    name: str
    language: str
    text: str
    keypad: Mapping[str, str]
    audio: Optional[str] = None
    ends_call: bool = False

    @property
    def sms(self) -> str:
        return self.text


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing.") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None


@lru_cache(maxsize=1)
def languages() -> Dict[str, Language]:
    """Return the languages declared in ``flows/languages.yml``, by code."""
    data = _read_yaml(FLOWS_DIR / "languages.yml")["languages"]
    return {
        code: Language(
            code=code,
            name=entry["name"],
            say_language=entry["say_language"],
            say_voice=entry["say_voice"],
            speech_language=entry["speech_language"],
            names=tuple(fold(name) for name in entry.get("names", [])),
            country_prior=entry.get("country_prior", {}),
        )
        for code, entry in data.items()
    }


def supported_languages() -> List[str]:
    return list(languages())


@lru_cache(maxsize=1)
def keypad_maps() -> Dict[str, Dict[str, str]]:
    data = _read_yaml(PROMPTS_DIR / "keypad.yml")
    return {name: {str(k): v for k, v in digits.items()} for name, digits in data.items()}


@lru_cache(maxsize=1)
def voice_behaviour() -> dict:
    data = _read_yaml(PROMPTS_DIR / "voice.yml")
    return {"ends_call": frozenset(data.get("ends_call", [])), "recordings": data.get("recordings", {})}


@lru_cache(maxsize=None)
def _prompt_texts(language: str) -> Dict[str, dict]:
    data = _read_yaml(PROMPTS_DIR / f"{language}.yml")
    if data.get("language") != language:
        raise ConfigError(
            f"{PROMPTS_DIR / f'{language}.yml'} declares language "
            f"{data.get('language')!r}, expected {language!r}."
        )
    return data["prompts"]


def has_prompt(name: str) -> bool:
    return name in _prompt_texts(supported_languages()[0])


def get_prompt(name: str, language: str, channel: str = "sms") -> Prompt:
    """Look up a prompt, falling back to English when a translation is missing.

    A voice prompt without a text of its own uses the SMS text.

    Raises:
        KeyError: no language has a prompt of that name.
    """
    entry = _prompt_texts(language).get(name) if language in languages() else None
    if entry is None:
        logger.warning("Prompt %s: no %s text, using English", name, language)
        language = "en"
        entry = _prompt_texts("en")[name]
    text = entry.get("voice") if channel == "voice" else None
    behaviour = voice_behaviour()
    return Prompt(
        name=name,
        language=language,
        text=text or entry["sms"],
        keypad=keypad_maps().get(name, {}),
        audio=behaviour["recordings"].get(language, {}).get(name) if channel == "voice" else None,
        ends_call=name in behaviour["ends_call"],
    )


class _LenientFormat(dict):
    def __missing__(self, key: str) -> str:
        logger.warning("Prompt placeholder {%s} has no value", key)
        return ""


def spoken_digits(code: str) -> str:
    """Return a code with its digits apart, so text-to-speech reads them one by one."""
    groups = str(code).split()
    return ", ".join(" ".join(group) for group in groups)


def render(
    name: str, language: str, values: Optional[Mapping[str, object]] = None, channel: str = "sms"
) -> Prompt:
    """Return the prompt for ``channel`` with its placeholders filled from ``values``."""
    prompt = get_prompt(name, language, channel)
    values = dict(values or {})
    if values.get("reference_code"):
        values.setdefault("reference_code_digits", spoken_digits(values["reference_code"]))
    text = string.Formatter().vformat(prompt.text, (), _LenientFormat(values))
    return replace(prompt, text=text)


def simplify(text: str) -> str:
    """Case-fold, drop punctuation and symbols, and collapse spaces, keeping accents."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(
        ch if not unicodedata.category(ch).startswith(("P", "S")) else " " for ch in text
    )
    return " ".join(kept.split())


def fold(text: str) -> str:
    """Simplify ``text`` and strip its accents too, for matching ASCII spellings."""
    text = unicodedata.normalize("NFKD", simplify(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    # Vietnamese đ has no decomposition.
    return text.replace("đ", "d")


@lru_cache(maxsize=1)
def keywords() -> Dict[str, frozenset]:
    """Return the keyword sets of ``flows/keywords.yml``, simplified for matching."""
    data = _read_yaml(FLOWS_DIR / "keywords.yml")
    return {kind: frozenset(simplify(word) for word in words) for kind, words in data.items()}


def matches_keyword(text: str, kind: str) -> bool:
    """Tell whether a whole message is one of the keywords of ``kind``."""
    words = keywords()[kind]
    if simplify(text) in words:
        return True
    folded = fold(text)
    return any(word.isascii() and word == folded for word in words)


@lru_cache(maxsize=1)
def _answer_words():
    data = _read_yaml(FLOWS_DIR / "answers.yml")
    words = [(simplify(word), answer) for answer, listed in data.items() for word in listed]
    return sorted(words, key=lambda pair: len(pair[0]), reverse=True)


def leading_answer(text: str) -> Optional[str]:
    """Return ``yes``, ``no`` or ``not_sure`` when a reply opens with such a word."""
    simple = simplify(text)
    for word, answer in _answer_words():
        if not simple.startswith(word):
            continue
        rest = simple[len(word):]
        # Latin words need a word boundary; Han characters have none.
        if not rest or rest.startswith(" ") or not word.isascii():
            return answer
    return None
