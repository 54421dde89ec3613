"""``UnitVocoder``: tokens → waveform, the public face of every vocoder kind, plus :func:`load_vocoder`.

    vocoder = load_vocoder("runs/voc/vocoder")
    wav = vocoder(tokens)                       # [samples] at vocoder.sample_rate Hz
    wav = vocoder(tokens, speaker="george", f0=f0_hz)
    for piece in vocoder.stream(tokens, chunk_frames=10): ...   # causal kinds exactly; unit-mel + HiFi-GAN with look-ahead
    with vocoder.streaming(batch_size=3):                        # causal kinds, frame by frame, each row its own stream
        wav = vocoder.decode_step(ids)                           # [B, K, n] frame-level ids → [B, n · hop] samples

Deduplicated tokens are voiced with their ``durations`` when present; with
``predict_durations=True`` the duration predictor supplies them instead (for
LM output, which has one token per run and no durations).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict, to_dict
from spokenlm.errors import SpokenLMError
from spokenlm.tokens import Tokens
from spokenlm.vocoders.conditioning import DVECTOR_DIM, quantize_f0
from spokenlm.vocoders.frames import frames_at_rate, resample_frames
from spokenlm.audio.mel import HIFIGAN_MEL
from spokenlm.vocoders.mel_vocoders import MEL_VOCODERS, MelVocoderFn, build_mel_vocoder
from spokenlm.vocoders.model import VocoderModelConfig, VocoderNet

Speaker = int | str | np.ndarray | None
VOCODER_SUBDIR = "vocoder"


class UnitVocoder:
    """Tokens → mono waveform. Attributes: ``config``, ``net`` (the trainable :class:`VocoderNet`), ``sample_rate``."""

    def __init__(self, config: VocoderModelConfig, net: VocoderNet | None = None) -> None:
        self.config = config.validate()
        self.net = (net or VocoderNet(config)).eval()
        self._mel_vocoder: MelVocoderFn | None = None

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def streamable(self) -> bool:
        return self.config.streamable

    @property
    def mel_vocoder(self) -> MelVocoderFn:
        """The pretrained mel vocoder of a kind that outputs mels, loaded on first use."""
        if self._mel_vocoder is None:
            self._mel_vocoder = build_mel_vocoder(self.config.mel_vocoder)
        return self._mel_vocoder

    # ----------------------------------------------------------------- inputs
    def speaker_tensor(self, speaker: Speaker) -> torch.Tensor | None:
        """``int`` row / ``str`` name of the speaker table, or a d-vector ``[256]`` → a batch-of-one tensor."""
        if speaker is None:
            return None
        if isinstance(speaker, str):
            if speaker not in self.config.speakers:
                raise SpokenLMError(f"unknown speaker {speaker!r}; known: {', '.join(self.config.speakers) or 'none'}")
            speaker = self.config.speakers.index(speaker)
        if isinstance(speaker, (int, np.integer)):
            if not 0 <= int(speaker) < self.config.conditioning.num_speakers:
                raise SpokenLMError(f"speaker index {speaker} is outside the table of {self.config.conditioning.num_speakers}")
            return torch.tensor([int(speaker)])
        vector = np.asarray(speaker, dtype=np.float32)
        if vector.shape != (DVECTOR_DIM,):
            raise SpokenLMError(f"a d-vector speaker must have shape [{DVECTOR_DIM}], got {list(vector.shape)}")
        return torch.from_numpy(vector)[None]

    def frame_tokens(self, tokens: Tokens, predict_durations: bool = False) -> Tokens:
        """Frame-level tokens: durations predicted (if asked) and expanded; the frame rate is checked."""
        if abs(tokens.frame_rate - self.config.frame_rate) > 1e-3:
            raise SpokenLMError(f"tokens are at {tokens.frame_rate} Hz but this vocoder reads {self.config.frame_rate} Hz tokens")
        if tokens.num_streams != self.config.conditioning.num_streams:
            raise SpokenLMError(f"tokens have {tokens.num_streams} streams, this vocoder reads {self.config.conditioning.num_streams}")
        if predict_durations:
            tokens = self.net.duration.predict(Tokens(tokens.ids, tokens.frame_rate, tokens.tokenizer))
        if len(tokens.expanded()) == 0:
            raise SpokenLMError("cannot synthesize an empty token sequence")
        return tokens.expanded()

    def f0_bins(self, f0: np.ndarray | None, num_frames: int) -> torch.Tensor | None:
        """F0 ``[T]`` Hz at the token rate → quantized bins ``[1, num_frames]`` (cut or edge-padded)."""
        c = self.config.conditioning
        if f0 is None or not c.f0_bins:
            return None
        f0 = np.asarray(f0, dtype=np.float32)[:num_frames]
        f0 = np.pad(f0, (0, num_frames - len(f0)), mode="edge") if len(f0) else np.zeros(num_frames, np.float32)
        return torch.from_numpy(quantize_f0(f0, c.f0_bins, c.f0_min, c.f0_max))[None]

    # -------------------------------------------------------------- synthesis
    @torch.inference_mode()
    def __call__(self, tokens: Tokens, speaker: Speaker = None, f0: np.ndarray | None = None, predict_durations: bool = False) -> np.ndarray:
        """Synthesize ``tokens`` → float32 ``[samples]`` in [-1, 1] at :attr:`sample_rate` Hz.

        ``f0``: optional F0 track ``[T]`` in Hz at the (undeduplicated) token rate, 0 = unvoiced.
        """
        frames = self.frame_tokens(tokens, predict_durations)
        ids = torch.from_numpy(frames.ids)[None]
        spk, bins = self.speaker_tensor(speaker), self.f0_bins(f0, len(frames))
        if not self.config.kind_spec.outputs_mel:
            wav = self.net.acoustic(ids, spk, bins)[0, 0]
        else:
            mel_rate = HIFIGAN_MEL.frame_rate
            count = frames_at_rate(len(frames), self.config.frame_rate, mel_rate)
            ids_m = torch.from_numpy(resample_frames(frames.ids, self.config.frame_rate, mel_rate, count))[None]
            bins_m = None if bins is None else torch.from_numpy(resample_frames(bins.numpy(), self.config.frame_rate, mel_rate, count))
            wav = self.mel_vocoder(self.net.acoustic(ids_m, spk, bins_m))[0]
        return wav.clamp(-1.0, 1.0).numpy().astype(np.float32)

    def streaming(self, batch_size: int = 1) -> contextlib.AbstractContextManager:
        """The context of :meth:`decode_step`: ``batch_size`` independent streams through a causal vocoder."""
        if not self.streamable:
            raise SpokenLMError(f"a {self.config.kind} vocoder has non-causal layers: it cannot decode frame by frame")
        return self.net.streaming(batch_size)

    @torch.inference_mode()
    def decode_step(self, ids: torch.Tensor, speaker: torch.Tensor | None = None, f0_bins: torch.Tensor | None = None) -> torch.Tensor:
        """Inside :meth:`streaming`: the next token frames ``[B, K, n]`` (frame level, at the vocoder's token rate)
        → samples ``[B, n · hop]`` (not clamped); ``speaker`` ``[B]`` rows or ``[B, 256]`` d-vectors (:meth:`speaker_tensor`),
        ``f0_bins`` ``[B, n]`` (:meth:`f0_bins`)."""
        return self.net.acoustic(torch.as_tensor(ids, dtype=torch.long), speaker, f0_bins)[:, 0]

    @torch.inference_mode()
    def decode_flush(self, last_ids: torch.Tensor, speaker: torch.Tensor | None = None, f0_bins: torch.Tensor | None = None) -> torch.Tensor:
        """Inside :meth:`streaming`, after a stream's last frame ``last_ids`` ``[B, K, 1]`` (its last F0 bins ``[B, 1]``):
        the samples ``[B, lookahead_frames · hop]`` a look-ahead vocoder still owes (none for others), as offline synthesis
        voices them (the last frame repeated)."""
        frames = self.config.lookahead_frames
        ids = torch.as_tensor(last_ids, dtype=torch.long).expand(*last_ids.shape[:-1], frames)
        bins = None if f0_bins is None else f0_bins.expand(*f0_bins.shape[:-1], frames)
        return self.decode_step(ids, speaker, bins)

    @property
    def lookahead_streamable(self) -> bool:
        """Whether :meth:`stream` works with bounded look-ahead (non-causal unit→mel + HiFi-GAN, all local)."""
        return self.config.kind_spec.outputs_mel and MEL_VOCODERS.get(self.config.mel_vocoder).lookahead_streamable

    @torch.inference_mode()
    def stream(
        self,
        tokens: Tokens,
        chunk_frames: int = 10,
        speaker: Speaker = None,
        f0: np.ndarray | None = None,
        predict_durations: bool = False,
        lookahead: int = 24,
    ) -> Iterator[np.ndarray]:
        """Yield waveform pieces as token chunks of ``chunk_frames`` arrive; together they make :meth:`__call__`'s output.

        Causal direct kinds stream exactly (equal to offline before clamping to [-1, 1]); with ``lookahead_frames`` the
        pieces run that many frames late and a last piece flushes them.
        A unit-mel vocoder voiced by HiFi-GAN waits for ``2 * lookahead`` mel frames (11.6 ms each) of
        future context and runs both non-causal stages on windows with ``lookahead`` frames of
        context per side, so joins match offline within a small tolerance. Griffin-Lim cannot stream.
        """
        if not (self.streamable or self.lookahead_streamable):
            why = self.config.mel_vocoder if self.config.kind_spec.outputs_mel else "non-causal layers"
            raise SpokenLMError(f"a {self.config.kind} vocoder with {why} cannot stream")
        frames = self.frame_tokens(tokens, predict_durations)
        ids = torch.from_numpy(frames.ids)[None]
        spk, bins = self.speaker_tensor(speaker), self.f0_bins(f0, len(frames))
        if self.lookahead_streamable:
            yield from self._stream_with_lookahead(ids, spk, bins, chunk_frames, lookahead)
            return
        with self.streaming(1):
            for start in range(0, ids.shape[-1], chunk_frames):
                chunk_bins = None if bins is None else bins[:, start : start + chunk_frames]
                yield self.decode_step(ids[..., start : start + chunk_frames], spk, chunk_bins)[0].numpy().astype(np.float32)
            if self.config.lookahead_frames:
                yield self.decode_flush(ids[..., -1:], spk, None if bins is None else bins[:, -1:])[0].numpy().astype(np.float32)

    def _stream_with_lookahead(
        self, ids: torch.Tensor, spk: torch.Tensor | None, bins: torch.Tensor | None, chunk_frames: int, lookahead: int
    ) -> Iterator[np.ndarray]:
        """unit-mel streaming on the mel grid: mel frame ``m`` reads token ``round(m · token_rate / mel_rate)``."""
        total_tokens = ids.shape[-1]
        total_mels = frames_at_rate(total_tokens, self.config.frame_rate, HIFIGAN_MEL.frame_rate)
        index = resample_frames(np.arange(total_tokens), self.config.frame_rate, HIFIGAN_MEL.frame_rate, total_mels)
        ids_m, bins_m = ids[..., index], None if bins is None else bins[:, index]
        done = 0
        for arrived in range(chunk_frames, total_tokens + chunk_frames, chunk_frames):
            final = arrived >= total_tokens
            known = total_mels if final else int(np.searchsorted(index, arrived))  # mel frames whose token is in
            ready = known if final else known - 2 * lookahead
            if ready <= done:
                continue
            lo, hi = max(done - 2 * lookahead, 0), min(ready + 2 * lookahead, known)
            mel = self.net.acoustic(ids_m[..., lo:hi], spk, None if bins_m is None else bins_m[:, lo:hi])
            m_lo, m_hi = max(done - lookahead, 0), min(ready + lookahead, known)
            wav = self.mel_vocoder(mel[..., m_lo - lo : m_hi - lo])[0]
            hop = HIFIGAN_MEL.hop_length
            yield wav[(done - m_lo) * hop : (ready - m_lo) * hop].numpy().astype(np.float32)
            done = ready

    # ------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` (``{"type": "unit-vocoder", "model": ...}``) and ``model.safetensors`` atomically."""
        return save_module(directory, self.net, {"type": "unit-vocoder", "model": to_dict(self.config)})

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> UnitVocoder:
        kind = json.loads((Path(directory) / "config.json").read_text()).get("type")
        if kind != "unit-vocoder":
            raise SpokenLMError(f"{directory}: not a spokenlm vocoder (type {kind!r})")
        config_dict, state = load_state(directory)
        config = from_dict(VocoderModelConfig, config_dict["model"])
        vocoder = cls(config)
        vocoder.net.load_state_dict(state)
        return vocoder


def load_vocoder(directory: str | Path) -> UnitVocoder:
    """Open a saved vocoder folder (or a ``train-vocoder`` run folder holding ``vocoder/``)."""
    directory = Path(directory)
    if not (directory / "config.json").is_file() and (directory / VOCODER_SUBDIR / "config.json").is_file():
        directory = directory / VOCODER_SUBDIR
    if not (directory / "config.json").is_file():
        raise SpokenLMError(f"{directory}: not a vocoder folder (no config.json)")
    return UnitVocoder.from_pretrained(directory)


def vocoder_summary(vocoder: UnitVocoder) -> dict[str, Any]:
    """Short description for logs and reports."""
    params = sum(p.numel() for p in vocoder.net.acoustic.parameters())
    return {"kind": vocoder.config.kind, "sample_rate": vocoder.sample_rate, "parameters": params, "streamable": vocoder.streamable}
