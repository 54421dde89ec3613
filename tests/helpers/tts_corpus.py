"""A tiny paired TTS corpus for the tokenizer-eval tests: sentences × voices → FLAC + lhotse manifests."""

from __future__ import annotations

from pathlib import Path

from spokenlm.audio.io import save_audio
from spokenlm.data.manifests import CUTS, make_recording, make_supervision, write_corpus
from spokenlm.data.tts import synthesize_utterance

VOICES = ("espeak-ng:en-us+m3", "flite:slt", "festival:kal_diphone", "espeak-ng:en-us+f2")


def harvard_sentences(count: int) -> list[str]:
    """The first ``count`` Harvard sentences bundled with the package."""
    from importlib import resources

    text = resources.files("spokenlm.resources").joinpath("text/harvard-sentences.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip()][:count]


def build_tts_corpus(out_dir: Path, sentences: list[str], voices=VOICES, split: str = "train", sr: int = 16000) -> Path:
    """Every sentence in every voice; engine phone timings are kept where the engine gives them. Returns the cuts path."""
    items = []
    for v, voice in enumerate(voices):
        for s, text in enumerate(sentences):
            utt = f"v{v}-s{s:03d}"
            synthesis = synthesize_utterance(text, voice, sr)
            path = save_audio(out_dir / "audio" / f"{utt}.flac", synthesis.wav, sr)
            recording = make_recording(path, utt)
            supervision = make_supervision(
                utt, utt, 0.0, recording.duration, text, f"voice{v}", split,
                phonemes=synthesis.phones, alignment=synthesis.alignment,
            )
            items.append((recording, [supervision]))
    write_corpus(out_dir, items)
    return out_dir / CUTS


def add_broken_cut(cuts_path: Path) -> Path:
    """Write ``cuts_path`` + one cut whose audio file is missing, as ``…-with-broken.jsonl.gz``; returns its path."""
    from lhotse import CutSet

    cuts = list(CutSet.from_file(cuts_path))
    missing = cuts[0].recording.sources[0].source.replace(".flac", "-missing.flac")
    recording = cuts[0].recording
    broken_recording = type(recording).from_dict({**recording.to_dict(), "id": "broken", "sources": [{"type": "file", "channels": [0], "source": missing}]})
    broken = type(cuts[0]).from_dict({**cuts[0].to_dict(), "id": "broken", "recording": broken_recording.to_dict()})
    out = cuts_path.with_name("cuts-with-broken.jsonl.gz")
    CutSet.from_cuts([*cuts, broken]).to_file(out)
    return out
