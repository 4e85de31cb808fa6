"""SMS segment arithmetic and reply composition."""

import pytest

from bot.sms.segments import compose, fits, is_gsm7, segment_count, units


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("a" * 69 + "😀", 2),
    ],
)
def test_segment_count(text, expected):
    assert segment_count(text) == expected


def test_vietnamese_diacritics_force_ucs2():
    assert is_gsm7("toi bi no luong")
    assert not is_gsm7("tôi bị nợ lương")


def test_extension_characters_count_double():
    assert units("{}") == 4


def test_compose_joins_short_messages_into_one_sms():
    assert compose(["Thank you.", "Your code is 1234 5678."]) == ["Thank you. Your code is 1234 5678."]


def test_compose_splits_at_sentences_and_keeps_order():
    first = "您反映的问题已保存，查询编号是7851 7735。以后随时发送这个编号，就可以查询进展。"
    second = "您说的情况很严重。我们受过培训的工作人员会在安全的时候尽快给您回电。如果您现在有危险，请先去安全的地方。"
    second = second * 2
    parts = compose([first, second])

    assert len(parts) == 2
    assert all(fits(part) for part in parts)
    assert parts[0].startswith(first)
    assert "".join(parts) == first + second


def test_compose_splits_an_oversized_sentence_between_words():
    text = " ".join(["word"] * 200)
    parts = compose([text])

    assert all(fits(part) for part in parts)
    assert " ".join(parts) == text
