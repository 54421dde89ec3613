"""Our own HuBERT-style encoder: model, extractor and the masked-prediction training iterations."""
