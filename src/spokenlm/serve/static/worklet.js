// Audio worklets of the spokenlm page: "capture" posts the microphone in frames of `frameSamples`;
// "player" plays queued model audio gaplessly, drops it on {flush: true}, and reports when loud audio starts.
class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frame = new Float32Array(options.processorOptions.frameSamples);
    this.filled = 0;
  }
  process(inputs) {
    const input = inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.frame[this.filled++] = input[i];
      if (this.filled === this.frame.length) {
        this.port.postMessage(this.frame.slice());
        this.filled = 0;
      }
    }
    return true;
  }
}

const LOUD = 0.01; // -40 dBFS

class Player extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.quiet = true; // nothing loud played since the last flush or underrun
    this.port.onmessage = (event) => {
      if (event.data.flush) { this.queue = []; this.offset = 0; this.quiet = true; }
      else this.queue.push(event.data.samples);
    };
  }
  process(inputs, outputs) {
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      if (!this.queue.length) { out[i] = 0; continue; }
      const chunk = this.queue[0];
      out[i] = chunk[this.offset++];
      if (this.quiet && Math.abs(out[i]) > LOUD) {
        this.quiet = false;
        this.port.postMessage({ loudAt: currentTime + i / sampleRate });
      }
      if (this.offset >= chunk.length) { this.queue.shift(); this.offset = 0; }
    }
    if (!this.queue.length && !this.quiet) { this.quiet = true; this.port.postMessage({ drained: currentTime }); }
    return true;
  }
}

registerProcessor("capture", Capture);
registerProcessor("player", Player);
