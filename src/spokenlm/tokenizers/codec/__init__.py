"""Acoustic and mixed tokenizers: a streaming SEANet + RVQ neural codec, semantic distillation, published-codec adapters.

* :class:`~spokenlm.tokenizers.codec.model.CodecModel` — causal encoder/decoder, optional transformer, RVQ.
* :class:`~spokenlm.tokenizers.codec.tokenizer.CodecTokenizer` (``"codec"``) and
  :class:`~spokenlm.tokenizers.codec.tokenizer.MixedTokenizer` (``"mixed"``).
* :mod:`~spokenlm.tokenizers.codec.train` — the ``"codec"`` and ``"mixed"`` trainers.
* :class:`~spokenlm.tokenizers.codec.snac_adapter.SnacTokenizer` (``"snac"``) — published SNAC weights from a local folder
  (optional extra ``spokenlm[codecs]``, imported lazily).
"""

from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.model import CodecModel
from spokenlm.tokenizers.codec.tokenizer import CodecTokenizer, MixedTokenizer
from spokenlm.tokenizers.codec.train import CodecTrainConfig, train_codec  # registers the "codec" and "mixed" trainers

__all__ = ["CodecConfig", "CodecModel", "CodecTokenizer", "CodecTrainConfig", "MixedTokenizer", "train_codec"]
