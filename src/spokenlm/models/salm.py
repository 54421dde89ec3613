"""A speech-aware text LM (SALM): encoder features → adapter → speech embeddings inside a chat prompt → HF text LM → text.

The user turn of the chat template is ``"<speech>\\n" + instruction``; the adapter's speech embeddings ``[N, D_lm]`` take
the place of ``<speech>`` (:data:`SPEECH`), so the LM reads ``prefix ids · speech · suffix ids`` and is trained to write
the answer and the tokenizer's end token after it (the loss covers the answer only). A text-only model (``speech:
false``, the first stage of the tiny recipe) reads the transcript in that place instead and has no adapter.

A saved SALM folder (:meth:`SALM.save_pretrained`) holds ``salm.json`` and only what training changed:
``adapter/`` (``config.json`` + ``model.safetensors``), ``lora/`` (``peft``'s ``adapter_config.json`` +
``adapter_model.safetensors``) for ``text_lm.mode: lora``, or ``text_lm/`` (a whole HF folder with its tokenizer) for
``mode: full``; a frozen or LoRA base is read from ``text_lm.path``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spokenlm.atomic import atomic_directory
from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict, to_dict
from spokenlm.errors import SpokenLMError
from spokenlm.models.adapters import Adapter, AdapterConfig, build_adapter
from spokenlm.models.text_lm import TextLMConfig, load_base_lm, load_tokenizer, with_training_mode

SPEECH = "<speech>"
CONFIG = "salm.json"
IGNORE = -100


@dataclass
class SALMConfig:
    """A SALM's parts.

    Attributes:
        adapter: the modality adapter.
        text_lm: the text LM and how it trains.
        encoder: the encoder spec (:func:`spokenlm.encoders.build_encoder`) whose features the adapter reads.
        encoder_dim / frame_rate: its feature size D_enc and frame rate (Hz), filled in from the encoder.
        speech: False for a text-only model (the transcript in place of the speech; no adapter).
    """

    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    text_lm: TextLMConfig = field(default_factory=TextLMConfig)
    encoder: dict[str, Any] = field(default_factory=lambda: {"type": "ct2-whisper"})
    encoder_dim: int = 0
    frame_rate: float = 50.0
    speech: bool = True


@dataclass
class Turn:
    """One prompt: the instruction, and the speech features ``[T, D_enc]`` (``None``: empty audio) or the transcript
    standing in for them (text-only models)."""

    instruction: str
    features: torch.Tensor | None = None
    transcript: str = ""


class SALM(nn.Module):
    """Adapter + text LM. ``forward(turns, answers)`` is the training loss, ``answer(turns)`` for greedy answers (see the module docstring)."""

    def __init__(self, config: SALMConfig, lm: nn.Module, tokenizer: Any, adapter: Adapter | None = None) -> None:
        super().__init__()
        self.config, self.lm, self.tokenizer = config, lm, tokenizer
        dim = lm.get_input_embeddings().weight.shape[1]
        if config.speech and adapter is None:
            adapter = build_adapter(config.adapter, config.encoder_dim, dim, config.frame_rate)
        self.adapter = adapter
        self.context = int(getattr(lm.config, "max_position_embeddings", 1 << 30))
        self._prompts: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def build(cls, config: SALMConfig) -> SALM:
        """A new SALM on the base text LM ``config.text_lm.path`` (new LoRA weights where ``mode: lora``)."""
        lm = with_training_mode(load_base_lm(config.text_lm.path), config.text_lm)
        return cls(config, lm, load_tokenizer(config.text_lm.path))

    # ------------------------------------------------------------ sequences
    def _ids(self, text: str) -> torch.Tensor:
        return torch.tensor(self.tokenizer(text, add_special_tokens=False).input_ids, dtype=torch.long)

    def prompt_pieces(self, instruction: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The chat prompt's ids before and after the speech: ``[P]``, ``[S]`` (rendered once per instruction)."""
        if instruction not in self._prompts:
            messages = [{"role": "user", "content": f"{SPEECH}\n{instruction}"}]
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            before, after = text.split(SPEECH)
            self._prompts[instruction] = self._ids(before), self._ids(after)
        return self._prompts[instruction]

    def answer_ids(self, answer: str) -> torch.Tensor:
        """The target ids of ``answer``: its tokens then the end token ``[A + 1]``."""
        return torch.cat([self._ids(" " + answer.strip()), torch.tensor([self.tokenizer.eos_token_id])])

    def padded_features(self, turns: list[Turn]) -> tuple[torch.Tensor, torch.Tensor]:
        """The turns' features as a padded batch ``[B, T, D_enc]`` and their frame counts ``[B]`` (0 for empty audio)."""
        device = self.lm.get_input_embeddings().weight.device
        has = [t.features is not None and len(t.features) > 0 for t in turns]
        rows = [t.features if h else torch.zeros(1, self.config.encoder_dim) for t, h in zip(turns, has)]
        lengths = torch.tensor([len(r) if h else 0 for r, h in zip(rows, has)], device=device)
        return nn.utils.rnn.pad_sequence([r.to(device) for r in rows], batch_first=True), lengths

    def speech_embeddings(self, turns: list[Turn]) -> list[torch.Tensor]:
        """Per turn, what stands in the place of ``<speech>``: adapter outputs ``[N, D_lm]`` (or the transcript's embeddings)."""
        embed = self.lm.get_input_embeddings()
        if not self.config.speech:
            return [embed(self._ids(" " + t.transcript).to(embed.weight.device)) for t in turns]
        padded, lengths = self.padded_features(turns)
        out, counts = self.adapter(padded, lengths.clamp(min=1))
        return [out[b, : int(n)] if lengths[b] else out[b, :0] for b, n in enumerate(counts)]

    def sequences(self, turns: list[Turn], answers: list[str] | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per turn, the LM input embeddings ``[L, D_lm]`` and labels ``[L]`` (answer ids, ``-100`` elsewhere)."""
        embed = self.lm.get_input_embeddings()
        device = embed.weight.device
        out = []
        for i, (turn, speech) in enumerate(zip(turns, self.speech_embeddings(turns))):
            before, after = (p.to(device) for p in self.prompt_pieces(turn.instruction))
            answer = self.answer_ids(answers[i]).to(device) if answers is not None else before[:0]
            inputs = torch.cat([embed(before), speech.to(embed.weight.dtype), embed(after), embed(answer)])
            if len(inputs) > self.context:
                raise SpokenLMError(
                    f"prompt of {len(inputs)} tokens ({len(before) + len(after)} text, {len(speech)} speech, {len(answer)} answer) "
                    f"is over the text LM's context of {self.context}"
                )
            labels = torch.full((len(inputs),), IGNORE, dtype=torch.long, device=device)
            labels[len(inputs) - len(answer):] = answer
            out.append((inputs, labels))
        return out

    # ------------------------------------------------------------ training and answers
    def forward(self, turns: list[Turn], answers: list[str], transcripts: list[str] | None = None) -> tuple[torch.Tensor, int, torch.Tensor | None]:
        """Training loss: the answer tokens' mean cross-entropy (nats) given the prompts, plus the adapter's own loss
        against ``transcripts`` where it has one; also the number of answer tokens and that adapter loss (or ``None``)."""
        rows = self.sequences(turns, answers)
        inputs = nn.utils.rnn.pad_sequence([r[0] for r in rows], batch_first=True)
        labels = nn.utils.rnn.pad_sequence([r[1] for r in rows], batch_first=True, padding_value=IGNORE)
        mask = nn.utils.rnn.pad_sequence([torch.ones(len(r[0]), dtype=torch.long) for r in rows], batch_first=True).to(inputs.device)
        logits = self.lm(inputs_embeds=inputs, attention_mask=mask).logits[:, :-1].float()
        targets = labels[:, 1:]
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)
        extra = None
        if self.adapter is not None and transcripts is not None:
            extra = self.adapter.auxiliary_loss(*self.padded_features(turns), transcripts)
        return (loss if extra is None else loss + extra), int((targets != IGNORE).sum()), extra

    def logits(self, turns: list[Turn]) -> list[torch.Tensor]:
        """The LM's next-token logits after each prompt ``[V]`` (one forward per turn)."""
        return [self.lm(inputs_embeds=inputs[None]).logits[0, -1] for inputs, _ in self.sequences(turns)]

    @torch.no_grad()
    def answer(self, turns: list[Turn], max_tokens: int = 32) -> list[str]:
        """Greedy answers to ``turns`` (HF ``generate`` from the prompt embeddings, stopping at the end token or after
        ``max_tokens`` or at the LM's context)."""
        answers = []
        eos, pad = self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
        for inputs, _ in self.sequences(turns):
            budget = min(max_tokens, self.context - len(inputs))
            if budget <= 0:
                answers.append("")
                continue
            ids = self.lm.generate(inputs_embeds=inputs[None], attention_mask=torch.ones(1, len(inputs), dtype=torch.long, device=inputs.device),
                                   max_new_tokens=budget, do_sample=False, eos_token_id=eos, pad_token_id=pad if pad is not None else eos)[0]
            answers.append(self.tokenizer.decode(ids.tolist(), skip_special_tokens=True).strip())
        return answers

    # ------------------------------------------------------------ folders
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``salm.json`` and what training changed (``adapter/``, ``lora/`` or ``text_lm/``) into ``directory`` atomically."""
        directory = Path(directory)
        config = dataclasses.replace(self.config, text_lm=dataclasses.replace(self.config.text_lm))
        with atomic_directory(directory) as tmp:
            if self.adapter is not None:
                save_module(tmp / "adapter", self.adapter, to_dict(self.config.adapter))
            if config.text_lm.mode == "lora":
                self.lm.save_pretrained(str(tmp / "lora"), safe_serialization=True)
            elif config.text_lm.mode == "full":
                self.lm.save_pretrained(str(tmp / "text_lm"))
                self.tokenizer.save_pretrained(str(tmp / "text_lm"))
                config.text_lm.path = "text_lm"
            if config.text_lm.path != "text_lm":
                config.text_lm.path = str(Path(config.text_lm.path).resolve())
            (tmp / CONFIG).write_text(json.dumps(to_dict(config), indent=2) + "\n")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> SALM:
        """Load a folder written by :meth:`save_pretrained` (the base text LM from ``text_lm.path``) in eval mode."""
        directory = Path(directory)
        path = directory / CONFIG
        if not path.is_file():
            raise SpokenLMError(f"{directory}: not a SALM folder (no {CONFIG})")
        config = from_dict(SALMConfig, json.loads(path.read_text()))
        lm_path = directory / "text_lm" if config.text_lm.path == "text_lm" else Path(config.text_lm.path)
        lm = load_base_lm(lm_path)
        lm = with_training_mode(lm, config.text_lm, directory / "lora" if config.text_lm.mode == "lora" else None)
        adapter = None
        if config.speech:
            adapter_config, state = load_state(directory / "adapter")
            adapter = build_adapter(from_dict(AdapterConfig, adapter_config), config.encoder_dim, lm.get_input_embeddings().weight.shape[1], config.frame_rate)
            adapter.load_state_dict(state)
        return cls(config, lm, load_tokenizer(lm_path), adapter).eval()


def ask(model: SALM, audio: str | Path, question: str, max_tokens: int = 32) -> str:
    """The model's answer to ``question`` about the audio file ``audio`` (read at the encoder's rate; Whisper encoders
    take any length in 30 s windows), or an error naming the file."""
    from spokenlm.audio.io import load_audio
    from spokenlm.audio.validate import validate_waveform
    from spokenlm.encoders import build_encoder

    encoder = build_encoder(model.config.encoder)
    wav, sr = load_audio(audio, encoder.sample_rate)
    features = encoder.extract(validate_waveform(wav, sr, audio))
    return model.answer([Turn(question, features)], max_tokens)[0]
