"""TwiML documents of a call: a question waiting for an answer, or a goodbye."""

from typing import Iterable, List, Mapping, Optional

from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.language.catalogue import Language, languages

# Seconds Twilio waits for the caller to start answering.
GATHER_TIMEOUT_SECONDS = 6


def _speak(target, utterance: Mapping, audio_url) -> None:
    """Add one utterance to ``target``: recorded audio if it has some, else speech."""
    language = languages().get(utterance.get("language") or "", None) or languages()["en"]
    if utterance.get("audio"):
        target.play(audio_url(language.code, utterance["audio"]))
    else:
        target.say(utterance["text"], language=language.say_language, voice=language.say_voice)


def question(
    utterances: Iterable[Mapping],
    language: Language,
    action_url: str,
    silence_url: str,
    audio_url,
    keypad: Optional[Mapping[str, str]] = None,
    keypad_only: bool = False,
) -> VoiceResponse:
    """Ask, and wait for speech or keys; on silence Twilio follows the redirect."""
    response = VoiceResponse()
    attributes = {
        "input": "dtmf" if keypad_only else "dtmf speech",
        "action": action_url,
        "method": "POST",
        "timeout": GATHER_TIMEOUT_SECONDS,
        "action_on_empty_result": False,
    }
    if not keypad_only:
        attributes.update(
            language=language.speech_language,
            speech_timeout="auto",
            # A worker describing abuse may swear; the filter would mask their words.
            profanity_filter=False,
        )
    if keypad and (len(keypad) > 1 or keypad_only):
        # A menu answers with one key. A prompt that offers a single key
        # beside speech ("or press 0") also takes longer input, such as a code.
        attributes["num_digits"] = 1
    gather = Gather(**attributes)
    for utterance in utterances:
        _speak(gather, utterance, audio_url)
    response.append(gather)
    response.redirect(silence_url, method="POST")
    return response


def goodbye(utterances: Iterable[Mapping], audio_url) -> VoiceResponse:
    """Say the last words and hang up."""
    response = VoiceResponse()
    for utterance in utterances:
        _speak(response, utterance, audio_url)
    response.hangup()
    return response


def language_menu(options: List[Mapping], action_url: str, silence_url: str, audio_url) -> VoiceResponse:
    """Offer every language, each option spoken in its own language."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=action_url, method="POST", timeout=GATHER_TIMEOUT_SECONDS)
    for option in options:
        _speak(gather, option, audio_url)
    response.append(gather)
    response.redirect(silence_url, method="POST")
    return response
