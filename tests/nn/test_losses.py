"""Reconstruction, distillation and adversarial losses against hand-worked values and real speech."""

from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.nn.discriminators import MultiScaleSTFTDiscriminator
from spokenlm.nn.gan import hinge_discriminator_loss, hinge_generator_loss, relative_feature_matching_loss
from spokenlm.nn.losses import MultiScaleMelLoss, MultiScaleSTFTLoss, semantic_distillation_loss


def test_stft_loss_is_zero_for_identical_audio_and_grows_with_noise(data_dir: Path) -> None:
    wav, _ = load_audio(data_dir / "speechbrain" / "ASR" / "spk2_snt1.wav", 16000)
    x = torch.from_numpy(wav)[None]
    loss = MultiScaleSTFTLoss()
    torch.manual_seed(0)
    small, large = [float(loss(x + s * torch.randn_like(x), x)) for s in (0.001, 0.05)]
    assert float(loss(x, x)) == 0.0 and 0.0 < small < large


def test_mel_loss_is_zero_for_identical_audio_and_log_gain_for_scaled_audio(data_dir: Path) -> None:
    wav, _ = load_audio(data_dir / "speechbrain" / "ASR" / "spk2_snt1.wav", 16000)
    x = torch.from_numpy(wav)[None]
    loss = MultiScaleMelLoss(16000)
    assert float(loss(x, x)) == 0.0
    torch.manual_seed(0)
    noise = 0.1 * torch.randn(1, 16000)  # every mel band well above the floor
    # mel magnitudes are linear in the waveform: doubling it shifts every log-mel by log 2
    assert float(loss(2 * noise, noise)) == pytest.approx(np.log(2.0), rel=1e-4)


def test_distillation_loss_hand_worked() -> None:
    student = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # [B=1, D=2, T=2]: frames (1, 0) and (0, 1)
    teacher = torch.tensor([[[2.0, 3.0], [0.0, 0.0]]])  # frames (2, 0) and (3, 0)
    assert float(semantic_distillation_loss(student, teacher)) == pytest.approx(0.5)  # (0 + 1) / 2


def test_stft_discriminator_hinge_losses_hand_worked() -> None:
    torch.manual_seed(0)
    discriminator = MultiScaleSTFTDiscriminator((128, 256), channels=4)
    wav = torch.randn(2, 1, 4000) * 0.1
    outputs = discriminator(wav)
    assert len(outputs) == 2 and all(len(features) == 5 for _, features in outputs)
    fake = [(torch.full_like(logits, -1.0), features) for logits, features in outputs]
    real = [(torch.full_like(logits, 1.0), features) for logits, features in outputs]
    assert float(hinge_discriminator_loss(real, fake)) == 0.0
    adversarial, matching = hinge_generator_loss(fake), relative_feature_matching_loss(real, fake)
    assert float(adversarial) == 2.0 and float(matching) == 0.0
