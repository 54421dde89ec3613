"""Audio I/O, validation, features and VAD splitting."""

from spokenlm.audio.io import load_audio, resample, save_audio
from spokenlm.audio.validate import ValidationConfig, validate_waveform

__all__ = ["load_audio", "resample", "save_audio", "ValidationConfig", "validate_waveform"]
