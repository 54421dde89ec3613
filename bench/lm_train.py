"""Training throughput of UnitLM against HF LlamaForCausalLM of the same shape, same data and batch.

MFU is against the peak of the variant's matmul dtype (fp32 AVX-512, or bf16 AMX tiles).
Each configuration runs in its own subprocess (allocator settings only take effect per
process, and peak RSS is per process); rounds are interleaved (HF, ours, HF, ours …) so
machine contention hits both sides alike, and the printed ratios compare medians.

    python bench/lm_train.py                    # default tiny shape
    python bench/lm_train.py --dim 512 --layers 8 --seq-len 512 --rounds 3
    python bench/lm_train.py --variants ours,ours+attn-dropout   # cost of attention-probability dropout
    python bench/lm_train.py --avx2-only        # cap torch/oneDNN/MKL at AVX2 (an AVX2-only CPU on an AVX-512/AMX one)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from timing import AVX2_ONLY, describe

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"

# name → (implementation, torch.compile, bf16 autocast, environment added to the child)
VARIANTS = {
    "hf": ("hf", False, False, {"SPOKENLM_MALLOC": "default"}),
    "hf+malloc": ("hf", False, False, {}),
    "hf+bf16": ("hf", False, True, {}),
    "ours-glibc": ("ours", False, False, {"SPOKENLM_MALLOC": "default"}),
    "ours": ("ours", False, False, {}),
    "ours+attn-dropout": ("ours-attn-dropout", False, False, {}),
    "ours+compile": ("ours", True, False, {}),
    "ours+bf16": ("ours", False, True, {}),
    "ours+compile+bf16": ("ours", True, True, {}),
    "ours+jemalloc": ("ours", False, False, {"LD_PRELOAD": JEMALLOC}),
    "ours+tcmalloc": ("ours", False, False, {"LD_PRELOAD": TCMALLOC}),
}


def build(impl: str, args: argparse.Namespace):
    import torch

    from spokenlm.models import UnitLM, UnitLMConfig

    torch.manual_seed(0)
    attention_dropout = 0.1 if impl == "ours-attn-dropout" else 0.0  # what the unfused attention path costs
    config = UnitLMConfig(n_units=args.units, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                          ffn_dim=args.ffn, max_seq_len=args.seq_len, tie_embeddings=True, attention_dropout=attention_dropout)
    ours = UnitLM(config)
    if impl.startswith("ours"):
        return ours, config
    from transformers import LlamaConfig, LlamaForCausalLM

    hf = LlamaForCausalLM(LlamaConfig(vocab_size=config.vocab.size, hidden_size=args.dim, intermediate_size=config.hidden,
                                      num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.heads,
                                      max_position_embeddings=args.seq_len, tie_word_embeddings=True, attn_implementation="sdpa"))
    return hf, config


def worker(name: str, args: argparse.Namespace) -> dict:
    """Run one variant in this process; returns tokens/s, MFU and peak RSS."""
    import torch
    import torch.nn.functional as F

    from spokenlm.perf import configure_cpu_allocator, cpu_peak_flops
    from spokenlm.models import UnitLM

    impl, compile_model, bf16, _ = VARIANTS[name]
    configure_cpu_allocator()
    model, config = build(impl, args)
    flops_per_token = UnitLM(config).flops_per_token(args.seq_len)
    step_model = torch.compile(model) if compile_model else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(1)
    data = torch.randint(config.vocab.unit_offset, config.vocab.text_offset, (args.steps + args.warmup, args.batch, args.seq_len + 1), generator=generator)

    def step(ids: torch.Tensor) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = step_model(ids[:, :-1])
        logits = out if isinstance(out, torch.Tensor) else out.logits
        loss = F.cross_entropy(logits.flatten(0, 1).float(), ids[:, 1:].flatten())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for i in range(args.warmup):
        step(data[i])
    start = time.perf_counter()
    for i in range(args.steps):
        step(data[args.warmup + i])
    elapsed = time.perf_counter() - start
    tokens_per_s = args.steps * args.batch * args.seq_len / elapsed
    return {"tokens_per_s": tokens_per_s, "mfu": tokens_per_s * flops_per_token / cpu_peak_flops(torch.bfloat16 if bf16 else torch.float32),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, argv: list[str]) -> dict:
    env = {**os.environ, **VARIANTS[name][3]}
    if "SPOKENLM_MALLOC" not in VARIANTS[name][3]:
        env.pop("SPOKENLM_MALLOC", None)
    out = subprocess.run([sys.executable, __file__, "--worker", name, *argv], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500, help="speech units (vocabulary = units + 5 specials)")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn", type=int, default=None, help="SwiGLU width (default 8/3·dim rounded to 64)")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every variant")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument("--avx2-only", action="store_true", help="run the variants with the ISA capped at AVX2")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return
    argv = [a for a in sys.argv[1:]]
    names = args.variants.split(",")
    if args.avx2_only:
        os.environ.update(AVX2_ONLY)  # the children inherit it; describe() prints it
    print(describe(), flush=True)
    results: dict[str, list[dict]] = {n: [] for n in names}
    for round_index in range(args.rounds):
        for name in names:
            results[name].append(run_child(name, argv))
            print(f"round {round_index + 1} {name:18s} {results[name][-1]['tokens_per_s']:9.0f} tok/s", flush=True)
    base = statistics.median(r["tokens_per_s"] for r in results[names[0]])
    print(f"\nshape dim={args.dim} layers={args.layers} heads={args.heads} seq={args.seq_len} batch={args.batch} "
          f"vocab={args.units + 5}; median of {args.rounds} interleaved rounds; baseline = {names[0]}")
    print(f"{'variant':18s} {'tok/s':>9s} {'ratio':>6s} {'MFU':>6s} {'peak RSS MiB':>12s}")
    for name in names:
        speed = statistics.median(r["tokens_per_s"] for r in results[name])
        mfu = statistics.median(r["mfu"] for r in results[name])
        rss = max(r["peak_rss_mib"] for r in results[name])
        print(f"{name:18s} {speed:9.0f} {speed / base:6.2f} {mfu:6.1%} {rss:12.0f}")
    print(describe().splitlines()[-1])


if __name__ == "__main__":
    main()
