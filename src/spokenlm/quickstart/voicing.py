"""Voice LM continuations through a trained unit vocoder (the generative evaluation's ``Voicer``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spokenlm.tokens import Tokens


class VocoderVoicer:
    """Deduplicated units ``[T]`` → waveform, with durations from the vocoder's duration predictor.

    Args:
        vocoder_dir: a saved unit vocoder folder (``spokenlm train-vocoder`` output ``vocoder/``).
        frame_rate: the tokenizer's frame rate, Hz.
        speaker: what :class:`~spokenlm.vocoders.vocoder.UnitVocoder` takes as a speaker: a d-vector
            ``[256]`` (see :func:`spokenlm.audio.speaker.speaker_embedding`), a table name or row, or ``None``.
    """

    def __init__(self, vocoder_dir: str | Path, frame_rate: float, speaker: np.ndarray | str | int | None = None) -> None:
        from spokenlm.vocoders import load_vocoder

        self.vocoder = load_vocoder(vocoder_dir)
        self.frame_rate = frame_rate
        self.speaker = speaker

    def __call__(self, units: np.ndarray) -> tuple[np.ndarray, int]:
        tokens = Tokens(np.asarray(units, dtype=np.int64)[None, :], self.frame_rate, durations=np.ones(len(units), dtype=np.int64))
        wav = self.vocoder(tokens, speaker=self.speaker, predict_durations=True)
        return wav, self.vocoder.sample_rate
