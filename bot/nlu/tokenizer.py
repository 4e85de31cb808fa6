"""A Rasa tokenizer for languages with and without spaces between words.

Each run of text is tokenised by spaCy's blank pipeline for its script:
Han characters by the Chinese tokenizer, which splits them into single
characters without a model download; everything else by the multi-language
tokenizer, which splits on spaces and punctuation. Bigrams of Chinese
characters then come from the word-level featurizer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import regex
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

# Han ideographs and CJK punctuation form runs of their own.
_HAN_RUN = regex.compile(r"[\p{Han}\u3000-\u303f\uff00-\uffef]+")


@lru_cache(maxsize=None)
def _spacy_tokenizer(language: str):
    import spacy

    return spacy.blank(language).tokenizer


def _is_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ScriptAwareTokenizer(Tokenizer):
    """Tokenises Chinese into characters and other scripts into words."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScriptAwareTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        tokens = self._tokens_of(text)
        if not tokens:
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)

    def _tokens_of(self, text: str) -> List[Token]:
        tokens: List[Token] = []
        position = 0
        for match in _HAN_RUN.finditer(text):
            tokens.extend(self._run_tokens(text[position:match.start()], position, "xx"))
            tokens.extend(self._run_tokens(match.group(), match.start(), "zh"))
            position = match.end()
        tokens.extend(self._run_tokens(text[position:], position, "xx"))
        return tokens

    @staticmethod
    def _run_tokens(run: str, offset: int, language: str) -> List[Token]:
        if not run.strip():
            return []
        return [
            Token(token.text, offset + token.idx)
            for token in _spacy_tokenizer(language)(run)
            if _is_word(token.text)
        ]
