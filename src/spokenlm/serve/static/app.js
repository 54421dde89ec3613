// The spokenlm page: microphone → websocket (16-bit PCM frames), model audio → gapless playback,
// the live text, a latency readout and errors in plain words. No build step.
"use strict";
const $ = (id) => document.getElementById(id);
const LOUD = 0.01; // -40 dBFS
// What the page saw, for people debugging and for the browser test.
window.spokenlm = { received: [], texts: [], errors: [], states: [], summary: null, latencies: [] };

let ws = null, ctx = null, player = null, mic = null, ready = null;
let lastVoiced = 0, turnVoiced = 0, hangover = null;

function showError(text) {
  window.spokenlm.errors.push(text);
  const line = document.createElement("p");
  line.textContent = text;
  $("errors").appendChild(line);
}

function setState(state) {
  window.spokenlm.states.push(state);
  $("state").textContent = state.replace("_", " ");
  $("state").className = "state " + state;
  if (state === "thinking") turnVoiced = lastVoiced;
}

function addText(role, text) {
  window.spokenlm.texts.push({ role, text });
  const line = document.createElement("p");
  line.className = role;
  line.textContent = text || "(nothing heard)";
  $("transcript").appendChild(line);
}

function resample(samples, from, to) {
  if (from === to) return samples;
  const out = new Float32Array(Math.round(samples.length * to / from));
  for (let i = 0; i < out.length; i++) {
    const x = i * from / to, j = Math.floor(x), f = x - j;
    out[i] = (samples[j] || 0) * (1 - f) + (samples[j + 1] || samples[j] || 0) * f;
  }
  return out;
}

function onAudio(buffer) {
  const pcm = new Int16Array(buffer);
  const samples = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
  window.spokenlm.received.push(samples);
  if (player) player.port.postMessage({ samples: resample(samples, ready.output_rate, ctx.sampleRate) });
}

function onMessage(message) {
  switch (message.type) {
    case "ready":
      ready = message;
      $("pipeline").textContent = `${message.pipeline} · session ${message.session}`;
      startAudio().catch((err) => showError(`microphone not available: ${err.message}` +
        (window.isSecureContext ? "" : " (browsers give the microphone only to https pages or localhost)")));
      break;
    case "state": setState(message.state); break;
    case "text": addText(message.role, message.text); break;
    case "interrupted": if (player) player.port.postMessage({ flush: true }); break;
    case "turn": hangover = message.hangover_ms; break;
    case "error": showError(message.message); break;
    case "summary":
      window.spokenlm.summary = message;
      $("summary").textContent = `session ${message.session}: ${message.turns} turns, ${message.replies} replies, ` +
        `${message.barge_ins} interruptions, ${message.seconds.toFixed(1)} s`;
      break;
  }
}

async function startAudio() {
  ctx = new AudioContext({ sampleRate: ready.input_rate });
  await ctx.audioWorklet.addModule("/static/worklet.js");
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
  mic = ctx.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(ctx, "capture", { processorOptions: { frameSamples: ready.frame_samples } });
  capture.port.onmessage = (event) => {
    const frame = event.data;
    const pcm = new Int16Array(frame.length);
    let peak = 0;
    for (let i = 0; i < frame.length; i++) {
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(frame[i] * 32767)));
      peak = Math.max(peak, Math.abs(frame[i]));
    }
    if (peak > LOUD) lastVoiced = ctx.currentTime;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(pcm.buffer);
  };
  mic.connect(capture);
  player = new AudioWorkletNode(ctx, "player");
  player.port.onmessage = (event) => {
    if (event.data.loudAt === undefined || !turnVoiced) return;
    const ms = Math.round((event.data.loudAt - turnVoiced) * 1000);
    turnVoiced = 0;
    window.spokenlm.latencies.push(ms);
    $("latency").textContent = `latency: ${ms} ms from your last loud sample to the model's first` +
      (hangover !== null ? ` (includes ${hangover} ms of end-of-turn wait)` : "");
  };
  player.connect(ctx.destination);
}

function start() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws${location.search}`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => typeof event.data === "string" ? onMessage(JSON.parse(event.data)) : onAudio(event.data);
  ws.onerror = () => showError("could not reach the server (is `spokenlm serve` running, and is the token right?)");
  ws.onclose = (event) => {
    setState("not connected");
    if (event.code !== 1000 && event.code !== 1005) showError(`connection closed (code ${event.code}${event.reason ? ": " + event.reason : ""})`);
    stopAudio();
  };
  $("start").disabled = true;
  $("stop").disabled = false;
}

function stopAudio() {
  if (ctx) ctx.close();
  ctx = null;
  $("start").disabled = false;
  $("stop").disabled = true;
}

$("start").onclick = start;
$("stop").onclick = () => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "end" })); };
