"""What a TTS voice sounds like, from the engines' own voice metadata: gender and accent (``None`` where unknown).

espeak-ng: the variant's letter (``m3`` male, ``f2`` female; ``espeak-ng --voices=variant`` lists them so) and the
accent of the voice name (``en-us`` American, ``en-gb*`` British, ``en-gb-scotland`` Scottish, ``en-029`` Caribbean).
flite and festival: the recorded speakers of the Debian voices (CMU ARCTIC slt, awb, rms; kal, ked).
"""

from __future__ import annotations

from dataclasses import dataclass

from spokenlm.data.tts.voice import Voice

ESPEAK_ACCENTS = {
    "en-us": "american", "en-us-nyc": "american", "en-gb": "british", "en-gb-x-rp": "british", "en-gb-x-gbclan": "british",
    "en-gb-x-gbcwmd": "british", "en-gb-scotland": "scottish", "en-029": "caribbean",
}
RECORDED = {  # engine voice name → (gender, accent)
    "slt": ("female", "american"), "cmu_us_slt_arctic_hts": ("female", "american"), "awb": ("male", "scottish"),
    "awb_time": ("male", "scottish"), "rms": ("male", "american"), "kal": ("male", "american"), "kal16": ("male", "american"),
    "kal_diphone": ("male", "american"), "ked_diphone": ("male", "american"),
}
GENDERS = {"m": "male", "f": "female"}


@dataclass(frozen=True)
class VoiceAttributes:
    """``gender`` (``male`` / ``female``) and ``accent`` (``american``, ``british`` …) of a voice; ``None`` where unknown."""

    gender: str | None
    accent: str | None


def voice_attributes(voice: str | Voice) -> VoiceAttributes:
    """The attributes of ``voice`` (``"espeak-ng:en-gb+f2"`` → female, british)."""
    voice = Voice.parse(voice)
    if voice.engine == "espeak-ng":
        accent, _, variant = voice.name.partition("+")
        gender = GENDERS.get(variant[:1]) if variant[1:].isdigit() else None
        return VoiceAttributes(gender, ESPEAK_ACCENTS.get(accent))
    if voice.engine in ("flite", "festival") and voice.name in RECORDED:
        return VoiceAttributes(*RECORDED[voice.name])
    return VoiceAttributes(None, None)
