"""Acoustic and mixed tokenizers: a streaming SEANet + RVQ neural codec, semantic distillation, published-codec adapters.

Training is the codec task of :mod:`spokenlm.train.tasks.codec`.

* :class:`~spokenlm.tokenizers.codec.model.CodecModel` — causal encoder/decoder, optional transformer, RVQ.
* :class:`~spokenlm.tokenizers.codec.tokenizer.CodecTokenizer` (``"codec"``) and
  :class:`~spokenlm.tokenizers.codec.tokenizer.MixedTokenizer` (``"mixed"``).
* :class:`~spokenlm.tokenizers.codec.snac_adapter.SnacTokenizer` (``"snac"``) — published SNAC weights from a local folder
  (optional extra ``spokenlm[codecs]``, imported lazily).
"""

from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.model import CodecModel
from spokenlm.tokenizers.codec.tokenizer import CodecTokenizer, MixedTokenizer

__all__ = ["CodecConfig", "CodecModel", "CodecTokenizer", "MixedTokenizer"]
