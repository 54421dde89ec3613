"""Hand-made stand-ins (scorer, tokenizer, continuer, voicer, ASR) whose behaviour the eval tests know exactly."""

from __future__ import annotations

import numpy as np
import torch

from spokenlm.tokens import Tokens


class UnigramScorer:
    """log p(unit) = log probs[unit]: the right answer is whichever side has likelier units."""

    def __init__(self, probs) -> None:
        self.logp = np.log(np.asarray(probs, dtype=np.float64))
        self.calls = 0

    def log_likelihood(self, sequences, batch_size):
        self.calls += 1
        return (torch.tensor([float(self.logp[np.asarray(s)].sum()) for s in sequences], dtype=torch.float64),
                torch.tensor([len(s) for s in sequences]))


class EnergyTokenizer:
    """A toy one-stream tokenizer: 20 ms frames → 8 log-energy buckets (16 kHz input)."""

    name, sample_rate, frame_rate, num_streams = "energy8", 16000, 50.0, 1

    def encode(self, wavs, sr):
        if isinstance(wavs, np.ndarray) and wavs.ndim == 1:
            wavs = [wavs]
        out = []
        for wav in wavs:
            frames = wav[: len(wav) // 320 * 320].reshape(-1, 320)
            db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
            out.append(Tokens(np.clip((db + 80) // 10, 0, 7).astype(np.int64), self.frame_rate, self.name))
        return out


class RepeatContinuer:
    """Continues a prompt by repeating its last units; above temperature 0.6, random units instead (seeded)."""

    def continue_units(self, prompts, max_units, temperature, seed):
        rng = np.random.default_rng(seed)
        out = []
        for prompt in prompts:
            tail = np.resize(prompt[-8:], max_units)
            if temperature > 0.6:
                tail = rng.integers(0, 8, max_units)
            out.append(tail)
        return out


class ClipVoicer:
    """Voices units with 1-2 s of a real speech clip, clip and length chosen by the unit sequence."""

    def __init__(self, clips) -> None:
        self.clips = clips

    def __call__(self, units):
        code = int(np.sum(np.asarray(units) * np.arange(1, len(units) + 1)))
        wav, sr = self.clips[code % len(self.clips)]
        return wav[: int((1.0 + 0.1 * (code % 11)) * sr)], sr


class LengthASR:
    """'Transcribes' by picking a sentence from the audio length: deterministic text for the text metrics."""

    SENTENCES = ["the cat sat on the mat the cat", "a dog ran a dog ran", "the cat the cat the cat sat", "on the mat a dog sat"]

    def transcribe(self, wav, sr):
        return self.SENTENCES[(len(wav) // 160) % len(self.SENTENCES)]
