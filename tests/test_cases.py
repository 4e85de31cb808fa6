"""Reference codes: keypad-friendly, and checked before any look-up."""

import pytest

from bot.cases import (
    damm_digit,
    find_reference_in_text,
    format_reference,
    is_valid_reference,
    new_reference_code,
    severity_of,
)


def test_new_codes_are_valid_eight_digits():
    for _ in range(200):
        code = new_reference_code()
        assert len(code) == 8
        assert code.isdigit()
        assert is_valid_reference(code)


def test_damm_check_digit_known_value():
    # The worked example of Damm's algorithm: 572 has check digit 4.
    assert damm_digit("572") == "4"


def test_single_digit_error_is_detected():
    code = new_reference_code()
    for position in range(8):
        for digit in "0123456789":
            if digit != code[position]:
                assert not is_valid_reference(code[:position] + digit + code[position + 1:])


def test_adjacent_transposition_is_detected():
    code = "5724" + "0000"
    body = code[:7]
    code = body + damm_digit(body)
    for position in range(7):
        if code[position] != code[position + 1]:
            swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
            assert not is_valid_reference(swapped)


@pytest.mark.parametrize(
    "text, expected",
    [("my code 4821 3307", "48213307"), ("48213307", "48213307"), ("4821-3307?", "48213307"), ("call 123", None), ("123456789", None)],
)
def test_find_reference_in_text(text, expected):
    assert find_reference_in_text(text) == expected


def test_format_reference():
    assert format_reference("48213307") == "4821 3307"


@pytest.mark.parametrize("category", ["child_labour", "forced_labour", "harassment_abuse", "retaliation"])
def test_critical_categories(category):
    assert severity_of(category) == "critical"


def test_wages_is_normal_severity():
    assert severity_of("wages") == "normal"
