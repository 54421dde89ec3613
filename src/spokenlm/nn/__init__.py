"""Neural building blocks shared by tokenizers, vocoders and models."""
