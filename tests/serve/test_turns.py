"""Turn detection on real speech: onset, end after the hang-over, dropped clicks, frames of any size."""

from __future__ import annotations

import numpy as np

from spokenlm.serve.turns import Paused, Resumed, SpeechStarted, TurnConfig, TurnDetector, TurnDropped, TurnEnded


def feed(detector: TurnDetector, wav: np.ndarray, frame: int = 320) -> list:
    return [event for start in range(0, len(wav), frame) for event in detector.push(wav[start : start + frame])]


def test_a_spoken_sentence_makes_one_turn(speech):
    silence = np.zeros(8000, np.float32)
    wav = np.concatenate([silence, speech[0], silence, silence])
    events = feed(TurnDetector(TurnConfig(pause_s=0)), wav)
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    start, turn = events
    assert abs(start.at_sample - 8000) < 4000 and start.detected_sample > start.at_sample
    assert 0.8 * len(speech[0]) < len(turn.audio) < len(speech[0]) + 16000
    assert turn.at_sample - turn.speech_end_sample == round(0.192 * 16000 / 512) * 512  # the hang-over


def test_silence_never_makes_a_turn_and_a_click_is_dropped(speech):
    assert feed(TurnDetector(), np.zeros(48000, np.float32)) == []
    click = np.concatenate([np.zeros(8000, np.float32), speech[0][8000:12000], np.zeros(16000, np.float32)])
    events = feed(TurnDetector(TurnConfig(min_turn_s=0.6, pause_s=0)), click, frame=1000)
    assert [type(e) for e in events] in ([], [SpeechStarted, TurnDropped])


def test_pauses_inside_a_turn_come_with_the_turn_so_far(speech):
    gap = np.zeros(3200, np.float32)  # 200 ms: a pause, not an end of turn
    wav = np.concatenate([np.zeros(8000, np.float32), speech[0], gap, speech[1], np.zeros(16000, np.float32)])
    events = feed(TurnDetector(TurnConfig(pause_s=0.064, end_silence_s=0.4)), wav)
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-2:] == [Paused, TurnEnded]
    assert Resumed in kinds and kinds.count(TurnEnded) == 1
    pause, end = events[-2], events[-1]
    np.testing.assert_array_equal(pause.audio, end.audio[: len(pause.audio)])  # the turn so far, as it ended
    assert pause.speech_end_sample == end.speech_end_sample
