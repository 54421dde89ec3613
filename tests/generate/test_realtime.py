"""The three-call loop (codec ``encode_step`` → LM ``step`` → ``decode_step``) equals the offline pipeline on real speech."""

import numpy as np
import pytest
import torch

from helpers.paths import ASSETS, REPO
from spokenlm.audio.io import load_audio
from spokenlm.errors import SpokenLMError
from spokenlm.generate.realtime import RealtimeLoop, greedy_units
from spokenlm.models import UnitLM, UnitLMConfig
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokens import Tokens


@pytest.fixture(scope="module")
def codec():
    return load_tokenizer(REPO / "tests" / "golden" / "checkpoints" / "codec")


def lm_for(codec, **kw) -> UnitLM:
    torch.manual_seed(0)
    return UnitLM(UnitLMConfig(streams=list(codec.streams), dim=32, n_layers=2, n_heads=4, max_seq_len=128, **kw)).eval()


@pytest.mark.parametrize("head", ["linear", "depth"])
def test_three_calls_per_frame_equal_the_offline_pipeline(codec, head):
    wav = load_audio(ASSETS / "ljspeech" / "LJ001-0001.flac", codec.sample_rate)[0][: codec.hop_length * 60]
    depth = {"head": "depth", "tie_embeddings": False} if head == "depth" else {}
    model = lm_for(codec, **depth)
    choose = greedy_units(model)
    # Offline: encode the file, predict every next frame greedily from the true frames before it, decode.
    codes = torch.from_numpy(codec.encode(wav, codec.sample_rate)[0].ids)  # [K, T]
    offsets = torch.tensor([v.unit_offset for v in model.vocabs])[:, None]
    ids = (codes + offsets)[None]
    predicted = torch.zeros_like(ids)  # the full forward, stream by stream (a depth head reads the streams chosen before)
    with torch.no_grad():
        for k, vocab in enumerate(model.vocabs):
            logits = model(ids, targets=predicted)[k][0, :, vocab.unit_offset : vocab.text_offset]
            predicted[0, k] = logits.argmax(-1) + vocab.unit_offset
    predicted = predicted[0]
    offline = codec.decode(Tokens((predicted - offsets).numpy(), codec.frame_rate))
    # Online: two sessions (the second hears silence), one frame per call.
    loop = RealtimeLoop(codec, model, choose)
    frames = torch.stack([torch.from_numpy(wav), torch.zeros(len(wav))]).view(2, -1, codec.hop_length)
    with loop.streaming(2):
        online = torch.cat([loop.step(frames[:, t]) for t in range(frames.shape[1])], 1)
    np.testing.assert_allclose(online[0].numpy(), offline, atol=1e-4)
    assert not torch.allclose(online[1], online[0])  # rows are separate sessions


def test_the_loop_refuses_delayed_lms_and_chunks(codec):
    delayed = [s.__class__(**{**s.to_dict(), "delay": min(k, 1)}) for k, s in enumerate(codec.streams)]
    torch.manual_seed(0)
    model = UnitLM(UnitLMConfig(streams=delayed, dim=32, n_layers=1, n_heads=4, max_seq_len=32))
    with pytest.raises(SpokenLMError, match="without stream delays"):
        RealtimeLoop(codec, model, greedy_units(model))
    loop = RealtimeLoop(codec, lm_for(codec), greedy_units(lm_for(codec)))
    with loop.streaming(1), pytest.raises(SpokenLMError, match="one frame per step"):
        loop.step(torch.zeros(1, 3 * codec.hop_length))
