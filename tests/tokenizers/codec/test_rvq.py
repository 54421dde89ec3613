"""Residual VQ: k-means init, EMA updates, dead-code restarts, quantizer dropout, more codebooks → less error."""

import torch

from spokenlm.audio.features import MelConfig, log_mel
from spokenlm.audio.io import load_audio
from spokenlm.tokenizers.codec.rvq import EMAVectorQuantizer, ResidualVectorQuantizer, kmeans


def test_kmeans_finds_separated_clusters() -> None:
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.cat([c + 0.1 * torch.randn(50, 2, generator=generator) for c in centres])
    found = kmeans(points, 3, iters=10, generator=torch.Generator().manual_seed(1))
    nearest = torch.cdist(centres, found).min(dim=1).values
    assert nearest.max() < 0.1


def test_ema_update_moves_codes_to_the_mean_of_their_vectors() -> None:
    torch.manual_seed(0)
    quantizer = EMAVectorQuantizer(dim=2, size=2, decay=0.5, dead_code_threshold=0.0, kmeans_iters=0)
    quantizer.initialized.fill_(True)
    quantizer.embedding.copy_(torch.tensor([[0.0, 0.0], [5.0, 5.0]]))
    quantizer.embed_sum.copy_(quantizer.embedding)
    data = torch.tensor([[1.0, 1.0], [1.0, 1.0], [4.0, 4.0], [4.0, 4.0]])
    quantizer.train()
    for _ in range(30):
        quantizer(data)
    torch.testing.assert_close(quantizer.embedding, torch.tensor([[1.0, 1.0], [4.0, 4.0]]), atol=1e-3, rtol=0)


def test_dead_codes_are_restarted_from_the_batch() -> None:
    torch.manual_seed(0)
    quantizer = EMAVectorQuantizer(dim=2, size=4, decay=0.5, dead_code_threshold=0.5, kmeans_iters=0).train()
    quantizer.initialized.fill_(True)
    quantizer.embedding.copy_(torch.tensor([[0.0, 0.0], [100.0, 100.0], [-100.0, 50.0], [50.0, -100.0]]))
    data = torch.randn(64, 2) * 0.1
    for _ in range(3):
        quantizer(data)
    assert torch.cdist(quantizer.embedding, data).min(dim=1).values.max() < 1.0  # no code left far from the data


def test_first_training_batch_initialises_codebooks_by_kmeans() -> None:
    torch.manual_seed(0)
    quantizer = EMAVectorQuantizer(dim=3, size=8, decay=0.99, dead_code_threshold=0.0, kmeans_iters=5).train()
    data = torch.randn(200, 3) * 7 + 20
    quantizer(data)
    assert bool(quantizer.initialized)
    assert (quantizer.embedding.mean(dim=0) - 20).abs().max() < 3


def test_quantizer_dropout_draws_every_count_and_full_often() -> None:
    rvq = ResidualVectorQuantizer(dim=4, num_codebooks=4, size=8, decay=0.9, dead_code_threshold=0.0, kmeans_iters=0, dropout=0.5)
    generator = torch.Generator().manual_seed(0)
    draws = [rvq.sample_num_codebooks(generator) for _ in range(400)]
    assert set(draws) == {1, 2, 3, 4}
    assert 0.55 < draws.count(4) / len(draws) < 0.7  # 0.5 + 0.5 / 4


def test_more_codebooks_quantize_real_speech_features_better(data_dir) -> None:
    """Trained on log-mel frames of real speech, each extra level lowers the error, and decode(codes) == quantized."""
    torch.manual_seed(0)
    wav, _ = load_audio(data_dir / "ljspeech" / "LJ001-0001.flac", 16000)
    frames = log_mel(wav, MelConfig(n_mels=16))  # [16, T]
    latent = ((frames - frames.mean()) / frames.std())[None]  # [1, 16, T]
    rvq = ResidualVectorQuantizer(dim=16, num_codebooks=4, size=32, decay=0.8, dead_code_threshold=0.1, kmeans_iters=5, dropout=0.0).train()
    for _ in range(10):
        rvq(latent)
    rvq.eval()
    errors = []
    for n_q in range(1, 5):
        out = rvq(latent, n_q)
        assert out.codes.shape == (1, n_q, latent.shape[-1])
        torch.testing.assert_close(rvq.decode(out.codes), out.quantized)
        errors.append(float((out.quantized - latent).pow(2).mean()))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
