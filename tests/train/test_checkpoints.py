"""Loop checkpoints without pickle: optimizer state round trip, atomic folders, clear errors on broken ones."""

import json

import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.train.checkpoints import flatten_optimizer_state, latest_checkpoint, load_checkpoint, save_checkpoint, unflatten_optimizer_state


def trained_linear() -> tuple[torch.nn.Linear, dict]:
    """A linear layer after one AdamW step, and the optimizer's state keyed by parameter names (as the loop saves it)."""
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    return model, {"state": {f"p{i}": v for i, v in state["state"].items()},
                   "param_groups": [{**g, "params": [f"p{i}" for i in g["params"]]} for g in state["param_groups"]]}


def test_optimizer_state_round_trip():
    _, state = trained_linear()
    tensors, structure = flatten_optimizer_state(state)
    json.dumps(structure)
    back = unflatten_optimizer_state(tensors, structure)
    assert back["param_groups"] == state["param_groups"]
    for name, values in state["state"].items():
        for key, value in values.items():
            assert torch.equal(back["state"][name][key], value)


def test_checkpoint_round_trip_and_broken_checkpoints_name_the_file(tmp_path):
    model, named = trained_linear()
    rng = {"cpu.0": torch.get_rng_state(), "generator.batches": torch.Generator().manual_seed(3).get_state()}
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, {"model": model.state_dict(), "critic": model.state_dict()}, {"model": named}, rng, {"items_seen": step}, {"a": 1}, keep=2)
    latest = latest_checkpoint(tmp_path)
    assert latest.name == "step-00000003" and sorted(p.name for p in tmp_path.glob("step-*")) == ["step-00000002", "step-00000003"]
    modules, optimizers, loaded_rng, trainer = load_checkpoint(latest)
    assert set(modules) == {"model", "critic"} and torch.equal(modules["critic"]["weight"], model.weight.detach())
    assert trainer["items_seen"] == 3 and json.loads((latest / "config.json").read_text()) == {"a": 1}
    assert torch.equal(loaded_rng["generator.batches"], rng["generator.batches"])
    assert optimizers["model"]["param_groups"] == json.loads(json.dumps(named["param_groups"]))
    (latest / "model.safetensors").write_bytes((latest / "model.safetensors").read_bytes()[:20])
    with pytest.raises(SpokenLMError, match="model.safetensors: unreadable weights, truncated or not a safetensors file"):
        load_checkpoint(latest)
    (latest / "trainer.json").unlink()
    with pytest.raises(SpokenLMError, match="not a complete checkpoint"):
        latest_checkpoint(tmp_path)
