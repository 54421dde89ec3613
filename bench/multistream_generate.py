"""Multi-stream generation: frames/s of our delay-pattern and depth-transformer UnitLMs against HF of the same size.

- ``delay``: our UnitLM with linear heads over K codebooks with MusicGen's delays [0, 1, …, K-1] against HF
  ``MusicgenForCausalLM`` (which applies that delay pattern itself).
- ``depth``: our UnitLM with the depth head over text + 8 model + 8 user codebooks (Moshi's streams:
  delays 0 for text and codebook 0, 1 for the acoustic codebooks) against HF ``MoshiForConditionalGeneration``
  (its Mimi audio encoder shrunk to a toy: it only encodes one blank frame per call, outside the loop).

Every model is random-init from a config built here (nothing is downloaded). The HF feed-forward width is solved
for so that its parameter count is within 5 % of ours (both printed; Moshi's without its audio encoder).
Both sides run greedy decoding for the same number of decode steps; rounds are interleaved in one process
(HF, ours, HF, ours …) and ratios compare medians of frames/s.

Last, the per-frame latency of the depth model at that scaled-down Moshi shape, on one thread: ``step`` is timed
frame by frame after a prompt, and p50/p90 are printed against the 80 ms frame of a 12.5 Hz stream.

    python bench/multistream_generate.py
    python bench/multistream_generate.py --only depth --frames 64 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from timing import describe, interleaved

FRAME_RATE = 12.5  # Hz, Moshi's (Mimi) frame rate


def parameters(model: torch.nn.Module, skip: str = "") -> int:
    """Distinct parameters (tied ones once), leaving out the submodule named ``skip``."""
    unique = {id(p): p for name, p in model.named_parameters() if not (skip and name.startswith(skip))}
    return sum(p.numel() for p in unique.values())


def matched_ffn(build, target: int, skip: str = "") -> int:
    """The feed-forward width (a multiple of 8) at which ``build(ffn)`` (on the meta device) has ``target`` parameters."""
    with torch.device("meta"):
        low, high = parameters(build(64), skip), parameters(build(1024), skip)
    return max(8, round((64 + (target - low) * (1024 - 64) / (high - low)) / 8) * 8)


def delay_models(args: argparse.Namespace):
    """Ours (linear heads, delays [0, 1, …, K-1]) and a MusicGen decoder of about the same parameter count."""
    from transformers import GenerationConfig, MusicgenDecoderConfig, MusicgenForCausalLM

    from spokenlm.layouts.spec import StreamSpec
    from spokenlm.models import UnitLM, UnitLMConfig

    k, vocab = args.codebooks, args.audio_vocab
    streams = [StreamSpec("acoustic", vocab, 50.0, codebook=i, delay=i) for i in range(k)]  # MusicGen's pattern
    ours = UnitLM(UnitLMConfig(streams=streams, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                               max_seq_len=args.prompt + args.frames + 1, tie_embeddings=False)).eval()

    def build(ffn: int) -> MusicgenForCausalLM:
        config = MusicgenDecoderConfig(vocab_size=vocab, max_position_embeddings=args.prompt + args.frames + k + 8,
                                       num_hidden_layers=args.layers, ffn_dim=ffn, num_attention_heads=args.heads,
                                       hidden_size=args.dim, dropout=0.0, num_codebooks=k, pad_token_id=vocab, bos_token_id=vocab)
        return MusicgenForCausalLM(config)

    hf = build(matched_ffn(build, parameters(ours))).eval()
    hf.generation_config = GenerationConfig(pad_token_id=vocab, bos_token_id=vocab, decoder_start_token_id=vocab,
                                            num_return_sequences=1, num_beams=1)
    prompt = torch.randint(0, vocab, (args.batch, k, args.prompt), generator=torch.Generator().manual_seed(1))
    return ours, hf, prompt, lambda: hf.generate(input_ids=prompt.flatten(0, 1), max_new_tokens=args.frames + k - 1,
                                                 min_new_tokens=args.frames + k - 1, do_sample=False)


def moshi_streams(text_vocab: int, audio_vocab: int) -> list:
    """Text, 8 model codebooks, 8 user codebooks; delay 1 on the acoustic codebooks 1..7 (Moshi's pattern)."""
    from spokenlm.layouts.spec import StreamSpec

    audio = [StreamSpec("semantic" if i == 0 else "acoustic", audio_vocab, FRAME_RATE, channel=channel, codebook=i, delay=min(i, 1))
             for channel in ("model", "user") for i in range(8)]
    return [StreamSpec("text", text_vocab, FRAME_RATE), *audio]


def depth_model(args: argparse.Namespace, context: int):
    """Our depth-transformer UnitLM at the scaled-down Moshi shape of ``args``."""
    from spokenlm.models import UnitLM, UnitLMConfig
    from spokenlm.models.config import DepthConfig

    return UnitLM(UnitLMConfig(streams=moshi_streams(args.text_vocab, args.audio_vocab), head="depth", tie_embeddings=False,
                               depth=DepthConfig(dim=args.depth_dim, layers=args.depth_layers, heads=args.depth_heads),
                               dim=args.moshi_dim, n_layers=args.moshi_layers, n_heads=args.moshi_heads, max_seq_len=context)).eval()


def depth_models(args: argparse.Namespace):
    """Ours (depth head) and a HF Moshi whose depth decoder's feed-forward width matches our parameter count."""
    from transformers import MimiConfig, MoshiConfig, MoshiForConditionalGeneration

    ours = depth_model(args, args.prompt + args.frames + 1)
    toy_mimi = MimiConfig(hidden_size=32, num_filters=4, num_residual_layers=1, codebook_size=args.audio_vocab, codebook_dim=32,
                          vector_quantization_hidden_dimension=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                          intermediate_size=64, head_dim=16, num_quantizers=8, num_semantic_quantizers=1, upsample_groups=32)

    def build(ffn: int) -> MoshiForConditionalGeneration:
        depth = dict(hidden_size=args.depth_dim, num_hidden_layers=args.depth_layers, num_attention_heads=args.depth_heads,
                     num_key_value_heads=args.depth_heads, ffn_dim=ffn, audio_vocab_size=args.audio_vocab,
                     vocab_size=args.text_vocab, num_codebooks=8)
        config = MoshiConfig(vocab_size=args.text_vocab, hidden_size=args.moshi_dim, num_hidden_layers=args.moshi_layers,
                             num_attention_heads=args.moshi_heads, num_key_value_heads=args.moshi_heads,
                             audio_vocab_size=args.audio_vocab, ffn_dim=2 * ours.config.hidden, num_codebooks=8,
                             max_position_embeddings=args.prompt + args.frames + 8, sliding_window=args.prompt + args.frames + 8,
                             audio_encoder_config=toy_mimi.to_dict(), depth_decoder_config=depth)
        return MoshiForConditionalGeneration(config)

    hf = build(matched_ffn(build, parameters(ours), skip="audio_encoder")).eval()
    g = torch.Generator().manual_seed(1)
    text = torch.randint(0, args.text_vocab, (args.batch, args.prompt), generator=g)
    model_codes, user_codes = (torch.randint(0, args.audio_vocab, (args.batch, 8, args.prompt), generator=g) for _ in range(2))
    prompt = torch.cat([text[:, None], model_codes, user_codes], dim=1)  # ours: [B, 17, T]

    def run_hf():
        return hf.generate(input_ids=text, user_audio_codes=user_codes, moshi_audio_codes=model_codes, max_new_tokens=args.frames + 1,
                           min_new_tokens=args.frames + 1, do_sample=False, return_audio_waveforms=False, return_audio_codes=True,
                           concat_unconditional_inputs=False)

    return ours, hf, prompt, run_hf


def compare(name: str, build, args: argparse.Namespace) -> None:
    """Interleaved rounds of HF ``generate`` and our ``sample``; prints parameter counts, frames/s and the ratio."""
    from spokenlm.generate import sample

    ours, hf, prompt, run_hf = build(args)
    n_ours, n_hf = parameters(ours), parameters(hf, skip="audio_encoder")
    print(f"\n[{name}] {type(hf).__name__}: {n_hf / 1e6:.2f} M parameters"
          f"{' (without its audio encoder)' if hasattr(hf, 'audio_encoder') else ''}; ours: {n_ours / 1e6:.2f} M "
          f"({n_hf / n_ours - 1:+.1%})", flush=True)
    variants = {"hf generate": lambda: torch.inference_mode()(run_hf)(),
                "ours": lambda: sample(ours, list(prompt), args.frames, temperature=0, eos_id=-1)}
    if args.compile:
        variants["ours+compile"] = lambda: sample(ours, list(prompt), args.frames, temperature=0, eos_id=-1, compile=True)
    for fn in variants.values():  # warm-up (and compile)
        fn()
    frames = args.batch * args.frames
    times = interleaved(variants, args.rounds, lambda _, s: f"{frames / s:8.1f} frames/s")
    base = frames / statistics.median(times["hf generate"])
    for variant, values in times.items():
        speed = frames / statistics.median(values)
        print(f"[{name}] {variant:14s} {speed:8.1f} frames/s  ratio {speed / base:5.2f}")


def latency(args: argparse.Namespace) -> None:
    """Per-frame ``step`` latency (p50/p90) of the depth model on one thread, after a prompt of ``--prompt`` frames."""
    from spokenlm.generate.sampling import decoder

    torch.set_num_threads(1)
    model = depth_model(args, args.context)
    step = decoder(model, args.compile)
    choose = lambda k, logits: logits.argmax(-1)  # noqa: E731
    prompt = torch.stack([torch.randint(0, v.size, (args.prompt,)) for v in model.vocabs])[None]
    print(f"\n[latency] depth model, 1 thread: text vocab {model.vocabs[0].size} + 8 + 8 codebooks of {args.audio_vocab} at "
          f"{FRAME_RATE} Hz; backbone dim {args.moshi_dim} × {args.moshi_layers} layers ({args.moshi_heads} heads), depth "
          f"dim {args.depth_dim} × {args.depth_layers} layers ({args.depth_heads} heads) over the 17 streams, ring of "
          f"{args.context} frames; {parameters(model) / 1e6:.1f} M parameters; prompt {args.prompt} frames; "
          f"{'compiled' if args.compile else 'eager'} step", flush=True)
    with torch.inference_mode(), model.streaming(1):
        frame = model.step(prompt, choose)
        times, cpu = [], []
        for _ in range(args.latency_frames + 5):  # the first 5 warm up (and compile)
            start, start_cpu = time.perf_counter(), time.process_time()
            frame = step(frame[:, :, None], choose)
            times.append(1e3 * (time.perf_counter() - start))
            cpu.append(1e3 * (time.process_time() - start_cpu))
    times, cpu = sorted(times[5:]), sorted(cpu[5:])
    p50, p90 = times[len(times) // 2], times[int(0.9 * (len(times) - 1))]
    budget = 1e3 / FRAME_RATE
    print(f"[latency] per frame over {len(times)} frames: p50 {p50:.1f} ms, p90 {p90:.1f} ms "
          f"(frame budget {budget:.0f} ms; goal p50 <= {budget / 2:.0f} ms: {'met' if p50 <= budget / 2 else 'not met'}); "
          f"CPU time of this process p50 {cpu[len(cpu) // 2]:.1f} ms (what a core of its own would take, if it were not "
          f"memory-bound)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("delay", "depth", "latency"), default=None, help="run one part")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--prompt", type=int, default=16, help="prompt frames")
    parser.add_argument("--frames", type=int, default=32, help="generated frames per row")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the throughput comparisons")
    parser.add_argument("--compile", action="store_true", help="also time ours with the torch.compile'd one-frame steps "
                        "(the latency then uses them alone: give it a --context of a few hundred frames)")
    delay = parser.add_argument_group("delay-pattern model (vs MusicGen)")
    delay.add_argument("--codebooks", type=int, default=4)
    delay.add_argument("--dim", type=int, default=256)
    delay.add_argument("--layers", type=int, default=4)
    delay.add_argument("--heads", type=int, default=4)
    moshi = parser.add_argument_group("depth model (vs Moshi, and the latency shape)")
    moshi.add_argument("--text-vocab", type=int, default=2000)
    moshi.add_argument("--audio-vocab", type=int, default=1024, help="codebook size (both models)")
    moshi.add_argument("--moshi-dim", type=int, default=256)
    moshi.add_argument("--moshi-layers", type=int, default=6)
    moshi.add_argument("--moshi-heads", type=int, default=4)
    moshi.add_argument("--depth-dim", type=int, default=128)
    moshi.add_argument("--depth-layers", type=int, default=3)
    moshi.add_argument("--depth-heads", type=int, default=4)
    moshi.add_argument("--context", type=int, default=3000, help="latency: ring frames (4 min at 12.5 Hz, as Moshi)")
    moshi.add_argument("--latency-frames", type=int, default=100)
    args = parser.parse_args()

    from spokenlm.perf import configure_cpu_allocator

    configure_cpu_allocator()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(describe(), flush=True)
    print(f"batch {args.batch}, prompt {args.prompt} frames, {args.frames} generated frames, {args.threads} thread(s), "
          f"median of {args.rounds} interleaved rounds")
    if args.only in (None, "delay"):
        compare("delay", delay_models, args)
    if args.only in (None, "depth"):
        compare("depth", depth_models, args)
    if args.only in (None, "latency"):
        latency(args)
    print(describe().splitlines()[-1])


if __name__ == "__main__":
    main()
