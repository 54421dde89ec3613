"""Generation throughput: UnitLM ``sample`` (streaming ring KV cache) against HF ``generate`` on the same weights.

Our model is exported to a HF ``LlamaForCausalLM`` directory and loaded back, so both sides
run identical weights, prompts and greedy decoding of exactly ``--new`` tokens. Rounds are
interleaved in one process (HF, ours, ours+compile, HF, …) and the ratios compare medians.

Then the decode step at batch 1: ms per one-frame ``step`` (after the prompt) beside its bound,
max(FLOPs ÷ the fp32 GEMM rate, weight bytes ÷ the copy bandwidth), both rates measured in this run.

    python bench/lm_generate.py
    python bench/lm_generate.py --dim 512 --layers 8 --batch 4 --new 256 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from timing import copy_bandwidth, describe, gemm_rate, interleaved


def decode_step_ms(model, step, prompt: torch.Tensor, steps: int) -> float:
    """Median ms of one ``step`` (one frame, batch 1) after streaming ``prompt`` ``[T]``."""
    choose = lambda k, logits: logits.argmax(-1)  # noqa: E731
    with torch.inference_mode(), model.streaming(1):
        frame = model.step(prompt[None, None], choose)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            frame = step(frame[:, :, None], choose)
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--prompt", type=int, default=64, help="prompt tokens")
    parser.add_argument("--new", type=int, default=128, help="generated tokens per sequence")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of both sides")
    parser.add_argument("--no-compile", action="store_true", help="skip ours with the torch.compile'd backbone step")
    args = parser.parse_args()

    from transformers import LlamaForCausalLM

    from spokenlm.generate import sample
    from spokenlm.generate.sampling import decoder
    from spokenlm.models import UnitLM, UnitLMConfig
    from spokenlm.models.hf_llama import export_llama
    from spokenlm.perf import configure_cpu_allocator

    configure_cpu_allocator()
    torch.set_num_threads(args.threads)
    print(describe(), flush=True)
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
    if not args.no_compile:
        variants["ours+compile"] = lambda: run_ours(compile=True)
    reference = run_hf()
    start = time.perf_counter()
    same = {name: torch.equal(reference, fn()) for name, fn in list(variants.items())[1:]}  # also warms up (and compiles)
    print(f"warm-up (includes torch.compile): {time.perf_counter() - start:.1f} s", flush=True)
    tokens = args.batch * args.new
    times = interleaved(variants, args.rounds, lambda name, s: f"{tokens / s:8.1f} tok/s")
    base = tokens / statistics.median(times["hf generate"])
    print(f"\nshape dim={args.dim} layers={args.layers} heads={args.heads} vocab={vocab.size} batch={args.batch} "
          f"prompt={args.prompt} new={args.new} threads={args.threads}; greedy outputs identical to HF: {same}; "
          f"median of {args.rounds} interleaved rounds")
    for name, values in times.items():
        speed = tokens / statistics.median(values)
        print(f"{name:14s} {speed:8.1f} generated tok/s  ratio {speed / base:5.2f}")

    # --- the decode step at batch 1 against its bound -----------------------------------
    matmul = ours.backbone.matmul_weights() + ours.heads.matmul_weights()
    context = args.prompt + args.new // 2  # mean keys attended per step
    flops = 2 * matmul + 4 * args.layers * context * args.dim
    weight_bytes = 4 * matmul
    steps = {"ours": ours.step, **({"ours+compile": decoder(ours, True)} if not args.no_compile else {})}
    prompt = prompts[0]
    rates = {"gemm": [], "copy": []}
    step_ms: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):  # rates and steps interleaved, so the bound sees the same machine load
        rates["gemm"].append(gemm_rate())
        rates["copy"].append(copy_bandwidth())
        for name, step in steps.items():
            step_ms[name].append(decode_step_ms(ours, step, prompt, args.new))
    gemm, copy = statistics.median(rates["gemm"]), statistics.median(rates["copy"])
    bound = 1e3 * max(flops / gemm, weight_bytes / copy)
    print(f"\ndecode step, batch 1: {flops / 1e6:.1f} MFLOP and {weight_bytes / 2**20:.1f} MiB of fp32 weights per step; "
          f"GEMM {gemm / 1e9:.1f} GFLOP/s, copy {copy / 1e9:.1f} GB/s (read+write) in this run → bound "
          f"max({1e3 * flops / gemm:.2f}, {1e3 * weight_bytes / copy:.2f}) = {bound:.2f} ms")
    for name, values in step_ms.items():
        ms = statistics.median(values)
        print(f"{name:14s} {ms:6.2f} ms/step  = {ms / bound:4.1f}× the bound")
    print(describe().splitlines()[-1])


if __name__ == "__main__":
    main()
