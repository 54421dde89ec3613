"""Evaluation: metrics for tokenizers, resynthesis, pair benchmarks and generation."""
