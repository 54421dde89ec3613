"""Generation throughput: UnitLM ``sample`` (preallocated KV cache) against HF ``generate`` on the same weights.

Our model is exported to a HF ``LlamaForCausalLM`` directory and loaded back, so both sides
run identical weights, prompts and greedy decoding of exactly ``--new`` tokens. Rounds are
interleaved in one process (HF, ours, HF, ours …) and the ratio compares medians.

    python bench/lm_generate.py
    python bench/lm_generate.py --dim 512 --layers 8 --batch 4 --new 256
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--prompt", type=int, default=64, help="prompt tokens")
    parser.add_argument("--new", type=int, default=128, help="generated tokens per sequence")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also time ours with a torch.compile'd decode step")
    args = parser.parse_args()

    from transformers import LlamaForCausalLM

    from spokenlm.generate import sample
    from spokenlm.models import UnitLM, UnitLMConfig
    from spokenlm.models.hf_llama import export_llama
    from spokenlm.perf import configure_cpu_allocator

    configure_cpu_allocator()
    torch.manual_seed(0)
    ours = UnitLM(UnitLMConfig(n_units=args.units, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                               max_seq_len=args.prompt + args.new)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        export_llama(ours, tmp)
        hf = LlamaForCausalLM.from_pretrained(tmp, attn_implementation="sdpa").eval()
    vocab = ours.vocab
    prompts = torch.randint(vocab.unit_offset, vocab.text_offset, (args.batch, args.prompt), generator=torch.Generator().manual_seed(1))

    def run_hf() -> torch.Tensor:
        with torch.inference_mode():
            out = hf.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=args.new, min_new_tokens=args.new,
                              do_sample=False, eos_token_id=None, pad_token_id=vocab.pad_id)
        return out[:, args.prompt :]

    def run_ours(compile: bool = False) -> torch.Tensor:
        return torch.stack(sample(ours, list(prompts), args.new, temperature=0, eos_id=-1, compile=compile))

    variants = {"hf generate": run_hf, "ours": run_ours}
    if args.compile:
        variants["ours+compile"] = lambda: run_ours(compile=True)
    reference = run_hf()
    start = time.perf_counter()
    same = all(torch.equal(reference, fn()) for fn in list(variants.values())[1:])  # also warms up (and compiles)
    print(f"warm-up (includes torch.compile): {time.perf_counter() - start:.1f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(args.rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            print(f"round {round_index + 1} {name:13s} {args.batch * args.new / times[name][-1]:8.1f} tok/s", flush=True)
    base = args.batch * args.new / statistics.median(times["hf generate"])
    print(f"\nshape dim={args.dim} layers={args.layers} heads={args.heads} vocab={vocab.size} batch={args.batch} "
          f"prompt={args.prompt} new={args.new}; greedy outputs identical: {same}; median of {args.rounds} interleaved rounds")
    for name, values in times.items():
        speed = args.batch * args.new / statistics.median(values)
        print(f"{name:13s} {speed:8.1f} generated tok/s  ratio {speed / base:5.2f}")


if __name__ == "__main__":
    main()
