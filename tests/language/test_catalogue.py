"""The prompt catalogue: complete in every language, and short enough for SMS."""

import re

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.language.catalogue import get_prompt, keypad_maps, leading_answer, matches_keyword, render, supported_languages
from bot.sms.segments import fits

DOMAIN = yaml.safe_load((PROJECT_ROOT / "flows" / "domain.yml").read_text())
RESPONSES = sorted(a for a in DOMAIN["actions"] if a.startswith("utter_"))
GATEWAY_PROMPTS = ["utter_opted_in", "utter_help", "utter_language_switched", "utter_service_unavailable"]
ENGLISH = yaml.safe_load((PROJECT_ROOT / "flows" / "prompts" / "en.yml").read_text())["prompts"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Longest value a placeholder takes: a reference code "1234 5678", or a time
# as long as a worker is likely to write it.
SAMPLE_VALUES = {"reference_code": "1234 5678", "callback_time": "Saturday after 7pm"}


@pytest.mark.parametrize("language", supported_languages())
@pytest.mark.parametrize("name", RESPONSES + GATEWAY_PROMPTS)
def test_every_response_has_a_prompt_in_every_language(name, language):
    prompt = get_prompt(name, language)
    assert prompt.language == language
    assert prompt.sms.strip()


@pytest.mark.parametrize("language", supported_languages())
@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_prompt_fits_two_segments_with_placeholders_filled(name, language):
    text = render(name, language, SAMPLE_VALUES).sms
    assert fits(text), f"{language}/{name} is longer than two SMS segments"


@pytest.mark.parametrize("language", supported_languages())
@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_prompt_has_same_placeholders_as_english(name, language):
    assert set(PLACEHOLDER.findall(get_prompt(name, language).sms)) == set(PLACEHOLDER.findall(ENGLISH[name]["sms"]))


@pytest.mark.parametrize("language", supported_languages())
@pytest.mark.parametrize("name", sorted(keypad_maps()))
def test_prompt_announces_every_keypad_digit(name, language):
    text = get_prompt(name, language).sms
    for digit in keypad_maps()[name]:
        assert digit in text, f"{language}/{name} does not announce {digit}"


def test_keypad_intents_exist_in_domain():
    intents = set(DOMAIN["intents"])
    for digits in keypad_maps().values():
        assert set(digits.values()) <= intents


def test_render_fills_placeholders():
    assert "1234 5678" in render("utter_case_created", "zh", {"reference_code": "1234 5678"}).sms


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("STOP", "opt_out", True),
        ("Stop!", "opt_out", True),
        ("退订", "opt_out", True),
        ("dừng lại", "opt_out", True),
        ("DUNG LAI", "opt_out", True),
        ("huy dang ky", "opt_out", True),
        ("Đúng", "opt_out", False),
        ("Huy", "opt_out", False),
        ("stop paying us", "opt_out", False),
        ("giúp", "help", True),
        ("giup", "help", True),
        ("bắt đầu", "opt_in", True),
    ],
)
def test_matches_keyword(text, kind, expected):
    assert matches_keyword(text, kind) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes my line leader asked me", "yes"),
        ("no idea", "not_sure"),
        ("不是", "no"),
        ("是的", "yes"),
        ("không có", "no"),
        ("Đúng", "yes"),
        ("Noodles", None),
        ("nothing", None),
    ],
)
def test_leading_answer(text, expected):
    assert leading_answer(text) == expected
