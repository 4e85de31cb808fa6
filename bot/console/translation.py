"""Translation of a worker's messages for the agent, through googletrans.

googletrans calls Google's public endpoint over HTTPS. ``TRANSLATE_BASE_URL``
sends its requests to another base URL instead, as tests do with a server
on loopback. The original text is always kept; a translation that fails is
marked as missing, never guessed.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import List, Optional

import httpx
from googletrans import Translator

logger = logging.getLogger(__name__)

GOOGLE_API_HOST = "translate.googleapis.com"
TIMEOUT_SECONDS = 5.0


@dataclass
class Translation:
    original: str
    text: Optional[str]
    source: Optional[str]

    @property
    def available(self) -> bool:
        return self.text is not None


class _RebasingTransport(httpx.AsyncHTTPTransport):
    """Sends every request meant for Google's API host to another base URL."""

    def __init__(self, base_url: str):
        super().__init__()
        self._base = httpx.URL(base_url)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == GOOGLE_API_HOST:
            request.url = request.url.copy_with(scheme=self._base.scheme, host=self._base.host, port=self._base.port)
        return await super().handle_async_request(request)


def _translator(base_url: Optional[str]) -> Translator:
    # The "gtx" API client that googletrans uses for translate.googleapis.com
    # needs no page token, so one request per text suffices.
    translator = Translator(service_urls=[GOOGLE_API_HOST], raise_exception=True, timeout=TIMEOUT_SECONDS)
    if base_url:
        translator.client = httpx.AsyncClient(transport=_RebasingTransport(base_url), timeout=TIMEOUT_SECONDS)
    return translator


async def _translate_all(texts: List[str], target: str, base_url: Optional[str]) -> List[Translation]:
    translator = _translator(base_url)
    results = []
    async with translator:
        for text in texts:
            try:
                translated = await translator.translate(text, dest=target)
            except Exception as error:  # googletrans raises bare Exception on HTTP errors
                logger.warning("Translation: failed (%s), the original is shown alone", type(error).__name__)
                results.append(Translation(original=text, text=None, source=None))
                continue
            results.append(Translation(original=text, text=translated.text, source=translated.src))
    return results


def translate_all(texts: List[str], target: str, base_url: Optional[str] = None) -> List[Translation]:
    """Translate each text into ``target``; a failure leaves that translation missing."""
    if not texts:
        return []
    return asyncio.run(_translate_all(texts, target, base_url))
