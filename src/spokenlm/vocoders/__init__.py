"""Vocoders: tokens → waveform.

- input-enhanced: units → mel (:mod:`.unit2mel`) → pretrained HiFi-GAN V1 (:mod:`.hifigan`)
  or Griffin-Lim (:mod:`.griffinlim`);
- direct: units (+ speaker, + quantized F0) → HiFi-GAN or iSTFT generator (:mod:`.istft`),
  trained with MPD/MSD discriminators (:mod:`spokenlm.nn.discriminators`, :mod:`spokenlm.nn.gan`);
- durations for deduplicated units (:mod:`.duration`); streaming for causal kinds;
- the kinds and the mel vocoders by name (:mod:`.kinds`, :mod:`.mel_vocoders`).

``load_vocoder(dir)`` opens any saved vocoder.
"""

from spokenlm.vocoders.vocoder import UnitVocoder, load_vocoder

__all__ = ["UnitVocoder", "load_vocoder"]
