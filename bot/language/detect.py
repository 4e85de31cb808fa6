"""Language detection for a worker's first message.

A naive Bayes classifier over character n-grams, trained at start-up on the
hotline's own NLU examples, chooses among the languages the hotline speaks.
The worker's number gives the prior: a short text such as "hi" carries too
few n-grams to outweigh it, a real sentence does.
"""

import logging
import math
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import yaml

from bot.language.catalogue import FLOWS_DIR, fold, languages

logger = logging.getLogger(__name__)

NLU_DATA_DIR = FLOWS_DIR.parent / "nlu_data"
NGRAM_SIZES = (1, 2, 3)
SMOOTHING = 0.5
# Share of the prior left to languages the number's country does not name.
UNLISTED_PRIOR = 0.05
DEFAULT_LANGUAGE_PRIOR = 0.5
# The 1-, 2- and 3-grams of a text overlap, so counting each as independent
# evidence would be about three times overconfident.
NGRAM_OVERLAP_WEIGHT = 1 / len(NGRAM_SIZES)
# Below this many letters a text counts as proportionally weaker evidence,
# so "hi" or "1" is decided by the number's country. A Han character
# carries about as much as a short word, so it counts as several letters.
FULL_EVIDENCE_LETTERS = 12
HAN_LETTER_WEIGHT = 4


def _ngrams(text: str) -> Iterable[str]:
    padded = f" {text} "
    for size in NGRAM_SIZES:
        for start in range(len(padded) - size + 1):
            gram = padded[start:start + size]
            if gram.strip():
                yield gram


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _examples(path: Path) -> List[str]:
    texts = []
    for file in sorted(path.glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(line[2:])
    return texts


class LanguageDetector:
    """Scores a text against each language's n-gram counts."""

    def __init__(self, corpora: Dict[str, List[str]]):
        self._counts: Dict[str, Counter] = {}
        self._totals: Dict[str, int] = {}
        vocabulary = set()
        for code, texts in corpora.items():
            counts = Counter()
            for text in texts:
                # Case and accents are kept: Vietnamese diacritics are the
                # strongest signal there is.
                counts.update(_ngrams(text.casefold()))
            self._counts[code] = counts
            self._totals[code] = sum(counts.values())
            vocabulary.update(counts)
        self._vocabulary_size = max(len(vocabulary), 1)

    @classmethod
    def from_nlu_data(cls, data_dir: Path = NLU_DATA_DIR) -> "LanguageDetector":
        corpora = {code: _examples(data_dir / code) for code in languages()}
        empty = [code for code, texts in corpora.items() if not texts]
        if empty:
            logger.warning("Language detector: no NLU examples for %s", ", ".join(empty))
        return cls(corpora)

    def prior(self, country: Optional[str], default_language: Optional[str] = None) -> Dict[str, float]:
        """Return how likely each language is for a number of ``country``.

        A country no language lists, or an unknown one, leans to the default
        language.
        """
        codes = list(self._counts)
        weights = {}
        for code in codes:
            listed = languages()[code].country_prior.get(country or "", None)
            weights[code] = listed if listed is not None else UNLISTED_PRIOR
        if default_language in weights and all(w == UNLISTED_PRIOR for w in weights.values()):
            weights[default_language] = DEFAULT_LANGUAGE_PRIOR
        total = sum(weights.values())
        return {code: weight / total for code, weight in weights.items()}

    def scores(self, text: str, country: Optional[str] = None, default_language: Optional[str] = None) -> Dict[str, float]:
        """Return the posterior probability of each language for ``text``."""
        grams = list(_ngrams(text.casefold()))
        letters = sum(HAN_LETTER_WEIGHT if _is_han(ch) else 1 for ch in text if ch.isalpha())
        weight = NGRAM_OVERLAP_WEIGHT * min(1.0, letters / FULL_EVIDENCE_LETTERS)
        log_posterior = {}
        for code, prior in self.prior(country, default_language).items():
            counts = self._counts[code]
            denominator = self._totals[code] + SMOOTHING * self._vocabulary_size
            log_likelihood = sum(
                math.log((counts.get(gram, 0) + SMOOTHING) / denominator) for gram in grams
            )
            log_posterior[code] = math.log(prior) + weight * log_likelihood
        peak = max(log_posterior.values())
        exp = {code: math.exp(value - peak) for code, value in log_posterior.items()}
        total = sum(exp.values())
        return {code: value / total for code, value in exp.items()}

    def detect(self, text: str, country: Optional[str] = None, default_language: Optional[str] = None) -> str:
        scores = self.scores(text, country, default_language)
        return max(scores, key=scores.get)


def named_language(text: str) -> Optional[str]:
    """Return the language a message asks for by name ("english", "中文"), if any."""
    folded = fold(text)
    if not folded:
        return None
    for code, language in languages().items():
        if folded in language.names:
            return code
    return None
