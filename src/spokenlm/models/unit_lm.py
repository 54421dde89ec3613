"""``UnitLM``: backbone + heads over one or many token streams (GSLM/TWIST at K=1, codebook LMs at K>1).

Input ids are model ids (see :class:`spokenlm.data.vocab.Vocabulary`), ``[B, T]`` for
one stream or ``[B, K, T]`` for K streams: each stream has an embedding table sized to
its own vocabulary, the embeddings are summed, the backbone is the one transformer of
:mod:`spokenlm.nn.transformer`, and a head from :data:`~spokenlm.models.heads.HEADS`
gives one logit tensor per stream. Inside ``model.streaming(batch_size)`` the model
runs one frame at a time (:meth:`UnitLM.step`), each batch row an independent stream.
Checkpoints are HF-style directories: ``config.json`` + ``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict, to_dict
from spokenlm.data.vocab import Vocabulary, decode_frames, encode_frames
from spokenlm.errors import SpokenLMError
from spokenlm.layouts.flatten import flatten, unflatten
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.heads import HEADS, Choose, LinearHeads
from spokenlm.nn.streaming import StreamingModule
from spokenlm.nn.transformer import Transformer

MODEL_TYPE = "spokenlm-unit-lm"
_BACKBONE_KEYS = ("blocks.", "norm.")  # checkpoints written before the backbone was its own module


class UnitLM(StreamingModule):
    """Per-stream embeddings → :class:`~spokenlm.nn.transformer.Transformer` backbone → a head per config.

    ``embeddings`` has one table per stream, ``backbone`` is the transformer, ``heads`` the head
    (for ``linear`` heads, ``heads[k]`` is stream k's projection).
    """

    def __init__(self, config: UnitLMConfig) -> None:
        super().__init__()
        self.config = config
        self.vocabs: list[Vocabulary] = config.vocabs
        self.vocab: Vocabulary = self.vocabs[0]
        self.embeddings = nn.ModuleList(nn.Embedding(vocab.size, config.dim) for vocab in self.vocabs)
        self.backbone = Transformer(config.transformer)
        self.heads = HEADS.get(config.head)(config)
        self.reset_parameters()
        self.tie_weights()

    def reset_parameters(self) -> None:
        """Normal(0, init_std) weights; residual output projections scaled by 1/sqrt(2·n_layers)."""
        std = self.config.init_std
        for name, param in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(param)
            elif name.endswith(".bias"):
                nn.init.zeros_(param)
            elif name.endswith(("attn.out.weight", "mlp.down.weight")):
                nn.init.normal_(param, std=std / (2 * self.config.n_layers) ** 0.5)
            else:
                nn.init.normal_(param, std=std)

    def tie_weights(self) -> None:
        """Share each stream's linear head with its embedding when ``tie_embeddings``."""
        if self.config.tie_embeddings and isinstance(self.heads, LinearHeads):
            for head, embedding in zip(self.heads, self.embeddings):
                head.weight = embedding.weight

    # --- forward pieces -------------------------------------------------------------------
    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Ids ``[B, K, T]`` → summed stream embeddings ``[B, T, D]``."""
        x = self.embeddings[0](ids[:, 0])
        for k in range(1, ids.shape[1]):
            x = x + self.embeddings[k](ids[:, k])
        return x

    def hidden(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        valid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Ids ``[B, K, T]`` → final-normed backbone states ``[B, T, D]`` (arguments as :meth:`forward`)."""
        if ids.shape[1] != self.config.num_streams:
            raise SpokenLMError(f"model has {self.config.num_streams} streams, got ids of shape {tuple(ids.shape)}")
        return self.backbone(self.embed(ids), positions, mask, valid)

    def forward(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        valid: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> torch.Tensor | list[torch.Tensor]:
        """Model ids ``[B, T]`` → logits ``[B, T, V]``; ``[B, K, T]`` → one ``[B, T, V_k]`` per stream.

        Args:
            positions: offline, ``[T]`` or ``[B, T]`` rotary positions (default ``arange(T)``).
            mask: offline, ``[B or 1, 1, T, T]`` bool attention mask (True = attend), with the causal rule.
            valid: streaming, bool ``[B, T]``: frames to store (False: left padding of a batch of prompts).
            targets: ``[B, K, T]`` the frames predicted, for heads that are fed them (``depth``).
        """
        single = ids.dim() == 2
        streams = ids[:, None] if single else ids
        logits = self.heads(self.hidden(streams, positions, mask, valid), targets)
        return logits[0] if single else logits

    # --- unit frames ↔ model ids ----------------------------------------------------------
    @property
    def tokens_per_frame(self) -> int:
        """Model tokens per frame of the tokenizer's streams (K for a flat layout, else 1)."""
        return len(self.config.streams) if self.config.layout == "flat" else 1

    def encode_frames(self, units: np.ndarray | torch.Tensor) -> torch.Tensor:
        """The tokenizer's unit frames ``[K, T]`` (or ``[T]``) → model ids with a BOS first: ``[K, 1 + T]``, or
        ``[1, 1 + K·T]`` for a flat layout."""
        units = torch.as_tensor(np.asarray(units), dtype=torch.long)
        units = units[None] if units.dim() == 1 else units
        if self.config.layout == "flat":
            return self.vocab.encode_units(flatten(units, self._flat_sizes))[None]
        return encode_frames(self.vocabs, units)

    def decode_frames(self, ids: torch.Tensor) -> torch.Tensor:
        """Model ids ``[K, n]`` (``[n]`` or ``[1, n]`` for one model stream, as :func:`~spokenlm.generate.sample`
        returns them) → unit frames ``[K, n']``; frames with a non-unit id, and a flat layout's incomplete last
        frame, are dropped."""
        ids = torch.as_tensor(ids)
        ids = ids[None] if ids.dim() == 1 else ids
        if self.config.layout == "flat":
            units = self.vocab.ids_to_units(ids[0])
            k = len(self._flat_sizes)
            return unflatten(units[: len(units) - len(units) % k], self._flat_sizes)
        return decode_frames(self.vocabs, ids)

    def unit_spans(self) -> list[list[tuple[int, int]]]:
        """The model ids ``[start, end)`` of the speech units that may come next: per token phase of a frame
        (K phases for a flat layout, whose token ``k`` of a frame is codebook ``k``; 1 otherwise), per stream."""
        if self.config.layout == "flat":
            start = self.vocab.unit_offset + np.concatenate([[0], np.cumsum(self._flat_sizes)])
            return [[(int(start[k]), int(start[k + 1]))] for k in range(len(self._flat_sizes))]
        return [[(v.unit_offset, v.text_offset) for v in self.vocabs]]

    @property
    def _flat_sizes(self) -> list[int]:
        return [s.vocab_size for s in self.config.streams]

    @torch.inference_mode()
    def step(self, frame: torch.Tensor, choose: Choose, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Streaming: feed frames ``[B, K, T]`` (``T >= 1``, e.g. a prompt then one frame per call) and
        return the next frame ``[B, K]``, each stream's id picked by ``choose(k, logits [B, V_k])``.

        Must run inside ``model.streaming(batch_size)``; ``valid`` as in :meth:`forward`.
        """
        if not self.is_streaming:
            raise SpokenLMError("UnitLM.step() runs inside `with model.streaming(batch_size):`")
        return self.heads.next_frame(self.hidden(frame, valid=valid)[:, -1], choose)

    # --- sizes ----------------------------------------------------------------------------
    def num_parameters(self) -> int:
        """Distinct trainable parameters (tied matrices counted once)."""
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token (forward + backward): 6 × matmul weights + 12·L·T·H·Dh for attention."""
        c = self.config
        matmul = self.backbone.matmul_weights() + self.heads.matmul_weights()
        return 6.0 * matmul + 12.0 * c.n_layers * seq_len * c.n_heads * c.per_head

    # --- checkpoints ----------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path) -> Path:
        """Atomically write ``config.json`` + ``model.safetensors`` into ``directory``."""
        return save_module(directory, self, {"model_type": MODEL_TYPE, **to_dict(self.config)})

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str | torch.device = "cpu") -> UnitLM:
        """Load a directory written by :meth:`save_pretrained` (no training code or pickle needed)."""
        config_dict, state = load_state(directory)
        if config_dict.pop("model_type", None) != MODEL_TYPE:
            raise SpokenLMError(f"{directory}: not a {MODEL_TYPE} checkpoint")
        model = cls(from_dict(UnitLMConfig, config_dict))
        model.load_weights(state, str(directory))
        return model.to(map_location)

    def load_weights(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Load ``state`` (tied heads may be absent); raises naming ``source`` on any mismatch."""
        state = {f"backbone.{k}" if k.startswith(_BACKBONE_KEYS) else k: v for k, v in state.items()}
        try:
            missing, unexpected = self.load_state_dict(state, strict=False)
        except RuntimeError as err:
            detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err).splitlines()[0])
            raise SpokenLMError(f"{source}: weights do not fit the config ({detail})") from err
        tied = {f"heads.{k}.weight" for k in range(self.config.num_streams)} if self.config.tie_embeddings else set()
        missing = [m for m in missing if m not in tied]
        if missing or unexpected:
            raise SpokenLMError(f"{source}: weights do not fit the config (missing {missing}, unexpected {unexpected})")
        self.tie_weights()

    @classmethod
    def from_text_lm(cls, hf_dir: str | Path, n_units: int, keep_text: bool = True, seed: int = 0) -> UnitLM:
        """TWIST warm start from a HF causal LM directory (LLaMA/Qwen2/Mistral families).

        The transformer weights are kept; the vocabulary becomes specials + ``n_units`` units
        (+ the text LM's tokens when ``keep_text``). See :mod:`spokenlm.models.warm_start`.
        """
        from spokenlm.models.warm_start import unit_lm_from_text_lm

        return unit_lm_from_text_lm(hf_dir, n_units, keep_text=keep_text, seed=seed)
