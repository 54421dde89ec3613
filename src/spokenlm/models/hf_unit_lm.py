"""Published HF unit LMs (TWIST, Slam) scored and sampled with their own unit-id conventions.

How each family maps a unit ``u`` (``0 … num_units-1``) to a token id, and what is scored:

- ``twist`` (Hassid et al. 2023; the SALMon baselines): a plain HF causal LM (``LlamaForCausalLM``,
  ``OPTForCausalLM`` …) whose ``config.json`` carries ``offset``: token ``= u + offset``; no BOS or
  EOS; the first unit is context only, so a sequence of ``T`` units scores ``T - 1`` tokens
  (``logits[:-1]`` against ``ids[1:]``, as SALMon's ``SLMInferenceModel.log_likelihood``).
- ``slam`` (slamkit, Maimon et al. 2025): a slamkit ``UnitLM`` folder (``model_type:
  speech_language_model``, the inner LM's config under ``base_config``, weights prefixed ``lm.``):
  pad = 0, BOS = EOS = 1, token ``= u + 2``; a sequence is ``<S> u_1 … u_T <S>`` and its ``T``
  units plus the closing ``<S>`` are scored (``T + 1`` tokens), as slamkit's ``UnitTokeniser`` and
  ``UnitLM.log_likelihood`` do.

:func:`load_hf_unit_lm` opens either (the family is read from ``config.json`` unless given);
:class:`HFUnitLM` is a pair scorer (``log_likelihood``) and a continuer (``continue_units``).
Weights are read from safetensors, or by transformers' own ``weights_only`` loader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.checkpoint import read_json, read_weights
from spokenlm.errors import MissingDependencyError, SpokenLMError
from spokenlm.models.scoring import length_batches, pad_right
from spokenlm.registry import Registry

SLAM_MODEL_TYPE = "speech_language_model"


@dataclass(frozen=True)
class UnitIdConvention:
    """Unit ↔ token ids of one family: token ``= u + offset``, optional ``bos`` (context only) and ``eos`` (scored)."""

    offset: int
    pad: int
    bos: int | None = None
    eos: int | None = None

    def encode(self, units: np.ndarray) -> torch.Tensor:
        """Unit ids ``[T]`` → token ids ``[T']`` (BOS and EOS added where the family has them)."""
        ids = torch.as_tensor(np.asarray(units, dtype=np.int64)) + self.offset
        head = [] if self.bos is None else [torch.tensor([self.bos])]
        tail = [] if self.eos is None else [torch.tensor([self.eos])]
        return torch.cat([*head, ids, *tail])

    def decode(self, ids: torch.Tensor, num_units: int) -> np.ndarray:
        """Token ids → unit ids, dropping every id that is not a unit (special tokens, text tokens)."""
        units = ids.long() - self.offset
        return units[(units >= 0) & (units < num_units)].numpy()


@dataclass(frozen=True)
class UnitLMFamily:
    """A published family: how to read its convention from ``config.json``, and how to build its model."""

    convention: Callable[[dict[str, Any]], UnitIdConvention]
    build: Callable[[Path, dict[str, Any]], tuple[Any, int]]  # → (transformers causal LM, number of units)


FAMILIES: Registry[UnitLMFamily] = Registry("HF unit-LM family")


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as err:
        raise MissingDependencyError("transformers", "hf", "TWIST / Slam unit LMs") from err
    return transformers


def _build_twist(folder: Path, config: dict[str, Any]) -> tuple[Any, int]:
    model = _transformers().AutoModelForCausalLM.from_pretrained(str(folder))
    return model, int(config["vocab_size"]) - int(config["offset"])


def _build_slam(folder: Path, config: dict[str, Any]) -> tuple[Any, int]:
    transformers = _transformers()
    base = dict(config["base_config"])
    inner_config = transformers.AutoConfig.for_model(base.pop("model_type"), **base)
    model = transformers.AutoModelForCausalLM.from_config(inner_config)
    model.resize_token_embeddings(int(config["vocab_size"]))
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise SpokenLMError(f"{weights}: missing (a slamkit UnitLM folder holds model.safetensors)")
    state = {k.removeprefix("lm."): v for k, v in read_weights(weights).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and model.config.tie_word_embeddings)]
    if missing or unexpected:
        raise SpokenLMError(f"{weights}: weights do not fit the base_config model (first missing {missing[:1]}, first unexpected {unexpected[:1]})")
    if model.config.tie_word_embeddings:
        model.tie_weights()
    return model, int(config["vocab_size"]) - 2


def _twist_convention(config: dict[str, Any]) -> UnitIdConvention:
    return UnitIdConvention(offset=int(config["offset"]), pad=int(config.get("pad_token_id") or 0))


def _slam_convention(config: dict[str, Any]) -> UnitIdConvention:
    base = config.get("base_config", {})
    pad, bos = int(base.get("pad_token_id", 0)), int(base.get("bos_token_id", 1))
    return UnitIdConvention(offset=max(pad, bos) + 1, pad=pad, bos=bos, eos=int(base.get("eos_token_id", bos)))


FAMILIES.register("twist")(UnitLMFamily(_twist_convention, _build_twist))
FAMILIES.register("slam")(UnitLMFamily(_slam_convention, _build_slam))


class HFUnitLM:
    """A HF causal LM over units with its family's :class:`UnitIdConvention`.

    Attributes: ``model`` (transformers), ``convention``, ``num_units``, ``family``.
    """

    def __init__(self, model: Any, convention: UnitIdConvention, num_units: int, family: str) -> None:
        self.model = model.eval()
        self.convention = convention
        self.num_units = num_units
        self.family = family

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def log_likelihood(self, sequences: Sequence[np.ndarray], batch_size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit sequences ``[T_i]`` → (summed log-probs ``[N]`` float64 in nats, scored token counts ``[N]``).

        Every token after the first of the encoded sequence is scored (see the module docstring for
        what that is per family); right padding is masked out.
        """
        encoded = [self.convention.encode(s) for s in sequences]
        totals = torch.zeros(len(encoded), dtype=torch.float64)
        counts = torch.tensor([max(len(e) - 1, 0) for e in encoded], dtype=torch.long)
        for rows in length_batches([len(e) for e in encoded], batch_size):
            ids, lengths = pad_right([encoded[i] for i in rows], self.convention.pad)
            mask = (torch.arange(ids.shape[1])[None] < lengths[:, None]).long()
            ids, mask = ids.to(self.device), mask.to(self.device)
            logits = self.model(input_ids=ids, attention_mask=mask).logits[:, :-1].double()
            picked = F.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
            totals[rows] = (picked * mask[:, 1:]).sum(1).cpu()
        return totals, counts

    @torch.inference_mode()
    def continue_units(self, prompts: Sequence[np.ndarray], max_units: int, temperature: float, seed: int) -> list[np.ndarray]:
        """Sample ``max_units`` new tokens after each prompt (closing EOS left off) and return the units among them."""
        torch.manual_seed(seed)
        out = []
        for prompt in prompts:
            ids = self.convention.encode(prompt)
            if self.convention.eos is not None:
                ids = ids[:-1]
            generated = self.model.generate(
                ids[None].to(self.device), attention_mask=torch.ones_like(ids)[None].to(self.device),
                max_new_tokens=max_units, min_new_tokens=max_units, do_sample=temperature > 0,
                temperature=max(temperature, 1e-5), top_k=0, pad_token_id=self.convention.pad,
            )
            out.append(self.convention.decode(generated[0, len(ids):].cpu(), self.num_units))
        return out


def hf_unit_lm_family(folder: str | Path) -> str | None:
    """``slam`` or ``twist`` for a HF unit-LM folder, ``None`` when ``config.json`` is neither (e.g. our UnitLM)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        return None
    config = read_json(path)
    if config.get("model_type") == SLAM_MODEL_TYPE:
        return "slam"
    return "twist" if "offset" in config and "vocab_size" in config else None


def load_hf_unit_lm(folder: str | Path, family: str | None = None) -> HFUnitLM:
    """Open a TWIST or Slam folder; ``family`` defaults to :func:`hf_unit_lm_family`."""
    folder = Path(folder)
    family = family or hf_unit_lm_family(folder)
    if family is None:
        raise SpokenLMError(f"{folder}: not a TWIST (config.json with 'offset') or Slam (model_type {SLAM_MODEL_TYPE!r}) folder")
    spec = FAMILIES.get(family)
    config = read_json(folder / "config.json")
    try:
        convention = spec.convention(config)
        model, num_units = spec.build(folder, config)
    except KeyError as err:
        raise SpokenLMError(f"{folder / 'config.json'}: missing key {err.args[0]!r} for a {family} model") from err
    return HFUnitLM(model, convention, num_units, family)
