"""The MODEL_DIR that ``spokenlm serve`` reads: the layout the quickstart writes.

    MODEL_DIR/
      tokenizer/            a speech tokenizer folder (config.json with "type")
      lm/model/  or lm/     a UnitLM folder (config.json + model.safetensors)
      vocoder/vocoder/  or vocoder/
                            a unit vocoder folder
      generation/text_lm/   optional: the word n-gram the cascade replies with

Each part is looked up in that order; a missing part raises one line naming what is missing and where it was looked for.
"""

from __future__ import annotations

from pathlib import Path

from spokenlm.errors import SpokenLMError

LAYOUT = {
    "tokenizer": ("tokenizer",),
    "unit LM": ("lm/model", "lm"),
    "vocoder": ("vocoder/vocoder", "vocoder"),
    "text LM": ("generation/text_lm",),
}
LAYOUT_HELP = ("MODEL_DIR holds tokenizer/, lm/model/ (or lm/), vocoder/vocoder/ (or vocoder/), each with a config.json, "
               "and optionally generation/text_lm/ (as `spokenlm quickstart` writes)")


def model_part(model_dir: Path | None, part: str, required: bool = True) -> Path | None:
    """The folder of ``part`` (a key of :data:`LAYOUT`) inside ``model_dir``; ``None`` when optional and absent."""
    if model_dir is None:
        if required:
            raise SpokenLMError(f"this pipeline needs a MODEL_DIR with a {part}; {LAYOUT_HELP}")
        return None
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise SpokenLMError(f"{model_dir}: MODEL_DIR not found; {LAYOUT_HELP}")
    for candidate in LAYOUT[part]:
        if (model_dir / candidate / "config.json").is_file():
            return model_dir / candidate
    if not required:
        return None
    looked = " or ".join(f"{c}/config.json" for c in LAYOUT[part])
    raise SpokenLMError(f"{model_dir}: no {part} (looked for {looked}); {LAYOUT_HELP}")


def write_random_model_dir(directory: str | Path, wavs: list, units: int = 20, seed: int = 0) -> Path:
    """A MODEL_DIR of tiny untrained models for smoke tests and benchmarks of the server (it babbles): an MFCC k-means
    tokenizer of ``units`` units fitted on ``wavs`` (float32 ``[samples]`` at 16 kHz), a random 1-layer
    :class:`~spokenlm.models.UnitLM` and a random causal unit-iSTFT vocoder (16 kHz, 50 Hz tokens)."""
    import torch

    from spokenlm.encoders import build_encoder
    from spokenlm.models import UnitLM
    from spokenlm.models.config import UnitLMConfig
    from spokenlm.tokenizers.fitting import fit_unit_tokenizer
    from spokenlm.tokenizers.quantizer import KMeansConfig
    from spokenlm.vocoders import UnitVocoder
    from spokenlm.vocoders.conditioning import ConditioningConfig
    from spokenlm.vocoders.istft import ISTFTConfig
    from spokenlm.vocoders.model import VocoderModelConfig

    root = Path(directory)
    torch.manual_seed(seed)
    kmeans = KMeansConfig(k=units, algorithm="full", n_init=1, seed=seed)
    fit_unit_tokenizer(build_encoder({"type": "mfcc"}), wavs, kmeans, f"mfcc-km{units}", dedup=True).save_pretrained(root / "tokenizer")
    UnitLM(UnitLMConfig(n_units=units, dim=32, n_layers=1, n_heads=2, max_seq_len=512)).save_pretrained(root / "lm" / "model")
    vocoder = VocoderModelConfig(kind="unit-istft", sample_rate=16000, frame_rate=50.0,
                                 conditioning=ConditioningConfig(vocab_size=units, dim=16),
                                 istft=ISTFTConfig(dim=16, intermediate_dim=32, num_layers=1, hop_length=320, n_fft=1280))
    UnitVocoder(vocoder).save_pretrained(root / "vocoder" / "vocoder")
    return root
