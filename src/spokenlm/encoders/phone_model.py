"""A small frame phone classifier over log-mel: strided convolutions + bidirectional GRU.

Input: waveforms at ``sample_rate`` → log-mel ``[B, n_mels, T_mel]`` at
``sample_rate / hop_length`` Hz, normalised per utterance and mel bin (mean 0,
variance 1 over its valid frames, which removes channel and much of the speaker
colouring). Output: phone logits ``[B, T, outputs]`` at
``sample_rate / (hop_length * stride)`` Hz (50 Hz by default): one per phone, plus a last CTC
blank when the classifier is trained with CTC (``blank``), whose frames belong to the phone
emitted before them (:meth:`PhoneClassifier.frame_phones`). Frame ids are the argmax, or with a
``switch_penalty`` the most likely path that pays that many nats per change of output
(:func:`smoothed_path`: a Viterbi segmentation that removes one-frame flicker).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spokenlm.audio.features import MelConfig, log_mel
from spokenlm.checkpoint import load_state
from spokenlm.config import from_dict


@dataclass
class PhoneClassifierConfig:
    """Architecture. Sizes in channels, ``hop_length`` in samples, rates in Hz.

    Attributes:
        sample_rate: input rate, Hz.
        n_mels: mel bands.
        hop_length: mel hop, samples (160 → 100 Hz at 16 kHz).
        stride: temporal downsampling of the convolution stack (2 → 50 Hz).
        channels: convolution channels.
        conv_layers: convolutions after the strided one (kernel 5, residual).
        hidden: GRU units per direction (the bottleneck is ``2 * hidden`` wide).
        num_phones: phone classes (silence + 39 ARPAbet phones).
        blank: one more output, the CTC blank (a classifier trained with ``objective: ctc``).
    """

    sample_rate: int = 16000
    n_mels: int = 80
    hop_length: int = 160
    stride: int = 2
    channels: int = 192
    conv_layers: int = 2
    hidden: int = 128
    num_phones: int = 40
    blank: bool = False

    @property
    def outputs(self) -> int:
        """Logits per frame: the phones, and the blank last when there is one."""
        return self.num_phones + int(self.blank)

    @property
    def mel(self) -> MelConfig:
        return MelConfig(sample_rate=self.sample_rate, n_fft=400, hop_length=self.hop_length, n_mels=self.n_mels)

    @property
    def frame_rate(self) -> float:
        """Output frames per second (Hz)."""
        return self.sample_rate / (self.hop_length * self.stride)

    def output_frames(self, samples: int) -> int:
        """Output frames of a waveform of ``samples`` samples."""
        mel_frames = 1 + samples // self.hop_length
        return -(-mel_frames // self.stride)


def normalized_log_mel(wavs: list[np.ndarray], config: PhoneClassifierConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded, per-utterance normalised log-mel ``[B, n_mels, T_mel]`` and valid lengths ``[B]`` (mel frames)."""
    mels = [log_mel(torch.from_numpy(np.asarray(w, np.float32)), config.mel) for w in wavs]
    lengths = torch.tensor([m.shape[1] for m in mels])
    batch = torch.zeros(len(mels), config.n_mels, int(lengths.max()))
    for i, mel in enumerate(mels):
        mean = mel.mean(dim=1, keepdim=True)
        std = mel.std(dim=1, keepdim=True).clamp_min(1e-3) if mel.shape[1] > 1 else torch.ones_like(mean)
        batch[i, :, : mel.shape[1]] = (mel - mean) / std
    return batch, lengths


def smoothed_path(log_probs: torch.Tensor, switch_penalty: float) -> torch.Tensor:
    """Output ids ``[T]`` maximising ``sum_t log_probs[t, id_t] - switch_penalty * #{t: id_t != id_(t-1)}`` over frame
    log-probabilities ``[T, C]`` (nats). Penalty 0 gives the frame argmax; larger penalties give fewer, longer segments."""
    if switch_penalty <= 0 or len(log_probs) < 2:
        return log_probs.argmax(dim=-1)
    scores = log_probs.double().numpy()
    frames, classes = scores.shape
    came_from = np.zeros((frames, classes), dtype=np.int64)  # the id at t - 1 on the best path ending in id at t
    best = scores[0].copy()
    stay = np.arange(classes)
    for t in range(1, frames):
        leader = int(best.argmax())
        switch = best[leader] - switch_penalty
        moved = switch > best
        came_from[t] = np.where(moved, leader, stay)
        best = np.maximum(best, switch) + scores[t]
    path = np.empty(frames, dtype=np.int64)
    path[-1] = int(best.argmax())
    for t in range(frames - 1, 0, -1):
        path[t - 1] = came_from[t, path[t]]
    return torch.from_numpy(path)


class PhoneClassifier(nn.Module):
    """Log-mel ``[B, n_mels, T_mel]`` → (phone logits ``[B, T, P]``, bottleneck ``[B, T, 2·hidden]``)."""

    def __init__(self, config: PhoneClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.inp = nn.Conv1d(config.n_mels, c, kernel_size=5, stride=config.stride, padding=2)
        self.convs = nn.ModuleList(nn.Conv1d(c, c, kernel_size=5, padding=2) for _ in range(config.conv_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(c) for _ in range(config.conv_layers))
        self.gru = nn.GRU(c, config.hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * config.hidden, config.outputs)

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``lengths`` ``[B]`` in mel frames; padding never changes the outputs of valid frames (batched == one by one)."""
        lengths = lengths.to(mel.device)
        mel = mel * (torch.arange(mel.shape[2], device=mel.device) < lengths[:, None])[:, None, :]
        x = torch.nn.functional.gelu(self.inp(mel))
        frames = torch.div(lengths + self.config.stride - 1, self.config.stride, rounding_mode="floor").clamp(max=x.shape[2])
        valid = (torch.arange(x.shape[2], device=mel.device) < frames[:, None])[:, None, :]
        x = x * valid
        for conv, norm in zip(self.convs, self.norms):
            x = x + torch.nn.functional.gelu(conv(norm(x.transpose(1, 2)).transpose(1, 2))) * valid
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), frames.cpu(), batch_first=True, enforce_sorted=False)
        hidden, _ = self.gru(packed)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(hidden, batch_first=True, total_length=x.shape[2])
        return self.out(hidden), hidden

    def frame_phones(self, logits: torch.Tensor, switch_penalty: float = 0.0) -> torch.Tensor:
        """Phone ids ``[T]`` of one utterance's logits ``[T, outputs]``: the argmax (or the :func:`smoothed_path` with
        ``switch_penalty`` nats per change), where a blank frame takes the phone emitted before it (frames before the first
        emission take the first one; all blank: silence)."""
        ids = smoothed_path(logits.float().log_softmax(dim=-1), switch_penalty)
        if not self.config.blank:
            return ids
        emitted = ids != self.config.num_phones
        if not bool(emitted.any()):
            return torch.zeros_like(ids)
        positions = torch.where(emitted, torch.arange(len(ids)), torch.zeros_like(ids))
        last = torch.cummax(positions, dim=0).values  # the latest emitting frame at or before each frame
        first = int(emitted.nonzero()[0])
        last[:first] = first
        return ids[last]

    @torch.no_grad()
    def frame_outputs(self, wavs: list[np.ndarray]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per utterance: (logits ``[T, outputs]``, bottleneck ``[T, 2·hidden]``) of mono waveforms ``[samples]`` at ``config.sample_rate``."""
        mel, lengths = normalized_log_mel(list(wavs), self.config)
        logits, hidden = self(mel, lengths)
        frames = [self.config.output_frames(len(w)) for w in wavs]
        return [(logits[i, :t], hidden[i, :t]) for i, t in enumerate(frames)]


def load_phone_classifier(directory: str | Path) -> tuple[PhoneClassifier, dict]:
    """The classifier of a saved phone tokenizer folder (``config.json`` with ``"model"`` + ``model.safetensors``), in eval mode,
    and that folder's whole config."""
    config, state = load_state(directory)
    model = PhoneClassifier(from_dict(PhoneClassifierConfig, config["model"]))
    model.load_state_dict(state)
    return model.eval(), config
