"""Training examples for vocoders: utterances → (ids, target, F0 bins, speaker), and random crops.

Direct kinds pair token ids ``[K, T]`` with waveforms ``[T · hop]``; kinds that output mels (``unit-mel``)
pair ids resampled to the mel rate ``[K, T_mel]`` with log-mels ``[80, T_mel]``.
Bad files are skipped and counted, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import save

from spokenlm.atomic import atomic_write_bytes
from spokenlm.checkpoint import read_stamped_cache
from spokenlm.errors import AudioError, ConfigError
from spokenlm.audio.loader import AudioDataConfig, AudioItem, audio_items
from spokenlm.tokenizers.base import SpeechTokenizer
from spokenlm.tokens import Tokens
from spokenlm.vocoders.conditioning import quantize_f0
from spokenlm.vocoders.frames import resample_frames
from spokenlm.audio.mel import HIFIGAN_MEL, vocoder_log_mel
from spokenlm.vocoders.model import VocoderModelConfig


PREPARE_CHUNK = 32  # utterances tokenized and embedded in one batch
CACHE_SAVE_EVERY = 512  # new cache entries between saves


@dataclass
class Utterance:
    """One prepared utterance (arrays at the acoustic model's input rate ``T``)."""

    ids: np.ndarray  # [K, T]
    target: np.ndarray  # [T * hop] waveform (direct) or [n_mels, T] log-mel (unit-mel)
    token_ids: np.ndarray  # [K, T_tok] at the token rate, for the duration predictor
    f0_bins: np.ndarray | None  # [T]
    speaker: int | np.ndarray | None  # table row or d-vector [256]


def speaker_name(item: AudioItem, pattern: str) -> str:
    """Speaker of an utterance: the lhotse supervision's speaker, else group 1 of ``pattern`` on the file stem."""
    supervisions = getattr(item.cut, "supervisions", None) or []
    if supervisions and supervisions[0].speaker:
        return str(supervisions[0].speaker)
    match = re.search(pattern, item.id)
    return match.group(1) if match else item.id


class PreparationCache:
    """Token ids and d-vectors of a vocoder corpus, kept in one safetensors file so a rerun skips tokenizing.

    Entries are keyed ``"<item id or path>/tokens"`` (``[K, T]`` at the token rate) and ``"<item id or path>/dvector"``;
    the file is valid only for the tokenizer it names (another tokenizer starts an empty cache).
    """

    def __init__(self, path: Path | None, tokenizer_key: str) -> None:
        self.path, self.tokenizer_key, self.added = path, tokenizer_key, 0
        self.entries = read_stamped_cache(path, "tokenizer", tokenizer_key, "np") if path is not None else {}

    def put(self, key: str, value: np.ndarray) -> None:
        self.entries[key] = np.ascontiguousarray(value)
        self.added += 1

    def save(self) -> None:
        """Write the file atomically if anything was added."""
        if self.path is not None and self.added:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, save(self.entries, metadata={"tokenizer": self.tokenizer_key}))
            self.added = 0


def prepare_utterance(
    wav_model: np.ndarray, token_ids: np.ndarray, config: VocoderModelConfig, speaker: int | np.ndarray | None
) -> Utterance:
    """Build targets from ``wav_model`` (at the vocoder rate) for ``token_ids`` ``[K, T]`` (frame-level, at the token rate)."""
    from spokenlm.audio.f0 import extract_f0

    c = config.conditioning
    if config.kind_spec.outputs_mel:
        target = vocoder_log_mel(wav_model).numpy()
        ids = resample_frames(token_ids, config.frame_rate, HIFIGAN_MEL.frame_rate, target.shape[1])
        rate = HIFIGAN_MEL.frame_rate
    else:
        ids = token_ids
        target = np.pad(wav_model, (0, max(0, ids.shape[1] * config.hop_length - len(wav_model))))[: ids.shape[1] * config.hop_length]
        rate = config.frame_rate
    f0_bins = None
    if c.f0_bins:
        f0 = extract_f0(wav_model, config.sample_rate, frame_rate=rate)
        f0 = np.pad(f0, (0, max(0, ids.shape[1] - len(f0))), mode="edge")[: ids.shape[1]]
        f0_bins = quantize_f0(f0, c.f0_bins, c.f0_min, c.f0_max)
    return Utterance(ids, target.astype(np.float32), token_ids, f0_bins, speaker)


def _fill_cache(cache: PreparationCache, loaded: list[tuple[Any, str, np.ndarray]], tokenizer: SpeechTokenizer, sample_rate: int, dvectors: bool) -> None:
    """Tokenize (frame-level ids ``[K, T]``) and, with ``dvectors``, embed the ``(item, key, wav)`` not cached yet, in one batch each."""
    from spokenlm.audio.io import resample

    todo = [(key, wav) for _, key, wav in loaded if f"{key}/tokens" not in cache.entries]
    if todo:
        encoded = tokenizer.encode([resample(wav, sample_rate, tokenizer.sample_rate) for _, wav in todo], tokenizer.sample_rate)
        for (key, _), tokens in zip(todo, encoded):
            cache.put(f"{key}/tokens", tokens.expanded().ids)
    todo = [(key, wav) for _, key, wav in loaded if dvectors and f"{key}/dvector" not in cache.entries]
    if todo:
        from spokenlm.audio.speaker import speaker_embeddings

        for (key, _), vector in zip(todo, speaker_embeddings([wav for _, wav in todo], sample_rate)):
            cache.put(f"{key}/dvector", vector)


def load_vocoder_corpus(
    data: AudioDataConfig,
    tokenizer: SpeechTokenizer,
    config: VocoderModelConfig,
    speaker_mode: str,
    speaker_pattern: str,
    cache_path: Path | None = None,
) -> tuple[list[Utterance], list[str], list[AudioError]]:
    """Prepare every usable utterance; returns (utterances, speaker table names, skipped errors).

    With ``cache_path``, token ids and d-vectors are read from / added to a :class:`PreparationCache`
    there (saved every few hundred new entries and at the end), so an interrupted or extended run
    does not tokenize the corpus again.
    """
    from rich.progress import Progress

    items = audio_items(data)
    names = sorted({speaker_name(item, speaker_pattern) for item in items}) if speaker_mode == "table" else []
    utterances, skipped = [], []
    cache = PreparationCache(cache_path, f"{tokenizer.name}:{tokenizer.vocab_size}:{tokenizer.frame_rate}")
    with Progress(transient=True) as progress:
        task = progress.add_task("preparing vocoder corpus", total=len(items))
        for first in range(0, len(items), PREPARE_CHUNK):
            chunk = items[first : first + PREPARE_CHUNK]
            loaded = []
            for item in chunk:
                try:
                    loaded.append((item, str(item.path) if item.path is not None else item.id, item.load(config.sample_rate)))
                except AudioError as err:
                    skipped.append(err)
            _fill_cache(cache, loaded, tokenizer, config.sample_rate, dvectors=speaker_mode == "dvector")
            for item, key, wav in loaded:
                speaker: int | np.ndarray | None = None
                if speaker_mode == "table":
                    speaker = names.index(speaker_name(item, speaker_pattern))
                elif speaker_mode == "dvector":
                    speaker = cache.entries[f"{key}/dvector"]
                utterances.append(prepare_utterance(wav, cache.entries[f"{key}/tokens"], config, speaker))
            if cache.added >= CACHE_SAVE_EVERY:
                cache.save()
            progress.update(task, advance=len(chunk))
    cache.save()
    if not utterances:
        raise ConfigError(f"no usable training audio ({len(skipped)} file(s) skipped)")
    return utterances, names, skipped


@dataclass
class Batch:
    """Random crops: ids ``[B, K, S]``, target ``[B, 1, S·hop]`` or ``[B, n_mels, S]``, mask ``[B, S]``,
    f0 bins ``[B, S]`` or None, speaker ``[B]`` / ``[B, 256]`` or None, and deduplicated
    ids ``[B, K, N]`` with durations / mask ``[B, N]`` for the duration predictor."""

    ids: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor
    f0_bins: torch.Tensor | None
    speaker: torch.Tensor | None
    dedup_ids: torch.Tensor
    durations: torch.Tensor
    dedup_mask: torch.Tensor


def sample_batch(utterances: list[Utterance], size: int, frames: int, hop: int, generator: torch.Generator) -> Batch:
    """Crop ``frames`` input frames (``hop`` target samples each; 0 = mel targets) from random utterances."""
    picks = [utterances[int(torch.randint(len(utterances), (), generator=generator))] for _ in range(size)]
    k = picks[0].ids.shape[0]
    ids = torch.zeros(size, k, frames, dtype=torch.long)
    mask = torch.zeros(size, frames, dtype=torch.bool)
    f0 = torch.zeros(size, frames, dtype=torch.long) if picks[0].f0_bins is not None else None
    target = torch.zeros(size, 1, frames * hop) if hop else torch.full((size, picks[0].target.shape[0], frames), float(np.log(1e-5)))
    dedup: list[Tokens] = []
    for b, utt in enumerate(picks):
        length = utt.ids.shape[1]
        start = int(torch.randint(max(length - frames, 0) + 1, (), generator=generator))
        used = min(frames, length - start)
        ids[b, :, :used] = torch.from_numpy(utt.ids[:, start : start + used])
        mask[b, :used] = True
        if f0 is not None:
            f0[b, :used] = torch.from_numpy(utt.f0_bins[start : start + used])
        if hop:
            target[b, 0, : used * hop] = torch.from_numpy(utt.target[start * hop : (start + used) * hop])
        else:
            target[b, :, :used] = torch.from_numpy(utt.target[:, start : start + used])
        tok_start = int(round(start * utt.token_ids.shape[1] / max(length, 1)))
        dedup.append(Tokens(utt.token_ids[:, tok_start : tok_start + max(frames, 8)], 1.0).deduplicated())
    speaker = None
    if picks[0].speaker is not None:
        speaker = torch.tensor([p.speaker for p in picks]) if isinstance(picks[0].speaker, int) else torch.from_numpy(np.stack([p.speaker for p in picks]))
    longest = max(len(t) for t in dedup)
    dedup_ids = torch.zeros(size, k, longest, dtype=torch.long)
    durations = torch.ones(size, longest, dtype=torch.long)
    dedup_mask = torch.zeros(size, longest, dtype=torch.bool)
    for b, tokens in enumerate(dedup):
        dedup_ids[b, :, : len(tokens)] = torch.from_numpy(tokens.ids)
        durations[b, : len(tokens)] = torch.from_numpy(tokens.durations)
        dedup_mask[b, : max(len(tokens) - 1, 1)] = True  # the crop cuts the last run short
    return Batch(ids, target, mask, f0, speaker, dedup_ids, durations, dedup_mask)
