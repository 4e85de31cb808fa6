"""Detecting a worker's language from the first message and the number's country."""

import pytest

from bot.language.detect import LanguageDetector, named_language


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector.from_nlu_data()


@pytest.mark.parametrize(
    "text, country, expected",
    [
        ("my boss has not paid me for two months", None, "en"),
        ("老板两个月没发工资了", None, "zh"),
        ("toi bi no luong 2 thang roi", None, "vi"),
        ("tôi bị nợ lương hai tháng", "US", "vi"),
        ("my boss not pay me", "VN", "en"),
        ("hi", "VN", "vi"),
        ("hi", "GB", "en"),
        ("hi", "CN", "zh"),
        ("1", "VN", "vi"),
        ("老板", "US", "zh"),
    ],
)
def test_detect(detector, text, country, expected):
    assert detector.detect(text, country) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("English", "en"), ("tiếng Việt", "vi"), ("TIENG VIET!", "vi"), ("中文", "zh"), ("hello", None), ("", None)],
)
def test_named_language(text, expected):
    assert named_language(text) == expected
