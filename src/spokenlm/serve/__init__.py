"""``spokenlm serve``: talk to a spoken LM in real time, in a browser or over a websocket.

- :mod:`.protocol`  the wire format: int16 PCM frames in and out, JSON control messages;
- :mod:`.limits`    message size, frame rate, session length, idle time, concurrent sessions;
- :mod:`.turns`     turn taking from a live stream with silero-vad (onset, end of turn after a hang-over);
- :mod:`.pipelines` what answers: ``half-duplex`` (tokenizer → unit LM → streaming vocoder) and ``cascade``
  (Whisper → word n-gram → espeak-ng), one interface, a registry by name, the MODEL_DIR layout;
- :mod:`.session`   one connection: validation, barge-in, paced audio out, its summary;
- :mod:`.app`       the aiohttp application (page, ``/ws``, ``/health``), TLS, token, a background server;
- :mod:`.latency`   the latency probe that measures every pipeline as a listener hears it;
- ``static/``       the web page (plain JS and audio worklets, no build step).
"""
