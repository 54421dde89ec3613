"""TWIST and Slam unit LMs from tiny random replicas in their published layouts: unit u → token id per family, and
log-likelihoods equal to the transformers model's own logits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from helpers.hf_unit_lms import write_slam, write_twist
from spokenlm.errors import SpokenLMError
from spokenlm.models.hf_unit_lm import hf_unit_lm_family, load_hf_unit_lm

transformers = pytest.importorskip("transformers")
NUM_UNITS = 20


def _reference(model, ids):
    """Summed log p(ids[t] | ids[:t]) over t >= 1, from the transformers model's logits."""
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0, :-1].double(), -1)
    return float(logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())


@pytest.fixture(scope="module")
def twist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twist")
    return folder, write_twist(folder, NUM_UNITS)


@pytest.fixture(scope="module")
def slam_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slam")
    return folder, write_slam(folder, NUM_UNITS)


def test_twist_maps_unit_u_to_u_plus_offset_and_scores_all_but_the_first(twist_dir):
    folder, model = twist_dir
    lm = load_hf_unit_lm(folder)
    assert hf_unit_lm_family(folder) == "twist" and lm.num_units == NUM_UNITS
    units = np.array([3, 5, 7, 7, 19])
    assert lm.convention.encode(units).tolist() == [7, 9, 11, 11, 23]
    totals, counts = lm.log_likelihood([units, units[:2]], batch_size=2)
    assert counts.tolist() == [4, 1]
    assert totals[0].item() == pytest.approx(_reference(model, [7, 9, 11, 11, 23]), abs=1e-5)
    assert totals[1].item() == pytest.approx(_reference(model, [7, 9]), abs=1e-5)  # right padding changes nothing


def test_slam_maps_unit_u_to_u_plus_2_between_bos_and_eos(slam_dir):
    folder, inner = slam_dir
    lm = load_hf_unit_lm(folder)
    assert hf_unit_lm_family(folder) == "slam" and lm.num_units == NUM_UNITS
    units = np.array([0, 4, 4, 9])
    assert lm.convention.encode(units).tolist() == [1, 2, 6, 6, 11, 1]  # <S> units <S>; pad 0
    totals, counts = lm.log_likelihood([units])
    assert counts.tolist() == [5]  # the units and the closing <S>
    assert totals[0].item() == pytest.approx(_reference(inner, [1, 2, 6, 6, 11, 1]), abs=1e-5)


def test_hf_unit_lm_continues_prompts_with_units_only(twist_dir, slam_dir):
    for folder, _ in (twist_dir, slam_dir):
        lm = load_hf_unit_lm(folder)
        first = lm.continue_units([np.array([1, 2, 3])], max_units=6, temperature=1.0, seed=3)
        assert first[0].tolist() == lm.continue_units([np.array([1, 2, 3])], max_units=6, temperature=1.0, seed=3)[0].tolist()
        assert len(first[0]) <= 6 and all(0 <= u < NUM_UNITS for u in first[0])


def test_hf_unit_lm_rejects_other_folders(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 10}))
    with pytest.raises(SpokenLMError, match="not a TWIST"):
        load_hf_unit_lm(tmp_path)
    with pytest.raises(SpokenLMError, match="missing key 'offset'"):
        load_hf_unit_lm(tmp_path, family="twist")
