// Microphone widget (anywidget): capture with getUserMedia + an AudioWorklet, down-sample to
// 16 kHz mono float32 in the browser, send chunks to the kernel as binary buffers.
// No build step: the worklet is a Blob URL made from the string below.

const WORKLET = `
class WorkbenchCapture extends AudioWorkletProcessor {
  process(inputs) {
    const input = inputs[0];
    if (input && input.length && input[0].length) {
      const n = input[0].length;
      const mono = new Float32Array(n);
      for (let c = 0; c < input.length; c++) {
        const d = input[c];
        for (let i = 0; i < n; i++) mono[i] += d[i] / input.length;
      }
      this.port.postMessage(mono, [mono.buffer]);
    }
    return true;
  }
}
registerProcessor("workbench-capture", WorkbenchCapture);
`;

// Windowed-sinc low-pass (cut-off 0.45 x the output rate) evaluated only where an output
// sample falls, with linear interpolation between the two nearest filtered input samples.
export class Downsampler {
  constructor(inRate, outRate) {
    this.ratio = inRate / outRate;
    const half = this.ratio > 1 ? Math.ceil(6 * this.ratio) : 0;
    const fc = this.ratio > 1 ? 0.45 / this.ratio : 0.5;
    const h = new Float32Array(2 * half + 1);
    let sum = 0;
    for (let k = -half; k <= half; k++) {
      const x = 2 * fc * k;
      const sinc = k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = half ? 0.42 + 0.5 * Math.cos((Math.PI * k) / (half + 1)) +
        0.08 * Math.cos((2 * Math.PI * k) / (half + 1)) : 1;
      h[k + half] = sinc * w;
      sum += h[k + half];
    }
    for (let k = 0; k < h.length; k++) h[k] /= sum;
    this.h = h;
    this.half = half;
    this.buf = new Float32Array(half); // zeros before the first sample
    this.bufStart = -half;
    this.next = 0;
  }
  fir(j) {
    const o = j - this.half - this.bufStart;
    let y = 0;
    for (let k = 0; k < this.h.length; k++) y += this.h[k] * this.buf[o + k];
    return y;
  }
  process(block, flush = false) {
    if (block.length) {
      const merged = new Float32Array(this.buf.length + block.length);
      merged.set(this.buf);
      merged.set(block, this.buf.length);
      this.buf = merged;
    }
    if (flush) {
      const merged = new Float32Array(this.buf.length + this.half + 1);
      merged.set(this.buf);
      this.buf = merged;
    }
    const end = this.bufStart + this.buf.length;
    const out = [];
    while (true) {
      const i0 = Math.floor(this.next);
      if (i0 + 1 + this.half >= end) break;
      const f = this.next - i0;
      const y0 = this.fir(i0);
      out.push(f ? y0 + f * (this.fir(i0 + 1) - y0) : y0);
      this.next += this.ratio;
    }
    const keepFrom = Math.floor(this.next) - this.half;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf = this.buf.slice(drop);
      this.bufStart = keepFrom;
    }
    return Float32Array.from(out);
  }
}

function message(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "Microphone permission was denied. Allow microphone access for this page (the icon " +
      "at the left of the address bar, or the browser's site settings), then press Start again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No microphone was found. Connect one (or enable it in the system's sound settings), " +
      "then press Start again.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "The microphone could not be opened: another program may be using it. Close that " +
      "program, then press Start again.";
  }
  if (name === "NoMediaDevices") {
    return "This page cannot use a microphone: browsers allow it only on https:// pages or " +
      "http://localhost. Open JupyterLab through localhost or https, then press Start again.";
  }
  return `The microphone could not be started (${name || "error"}: ${(err && err.message) || err}).`;
}

function clock(seconds) {
  const s = Math.floor(seconds);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function median(values) {
  if (!values.length) return NaN;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function render({ model, el }) {
  const OUT_RATE = model.get("sample_rate");
  const root = document.createElement("div");
  root.className = "workbench-mic";
  root.innerHTML = `
    <div class="workbench-mic-row">
      <button class="workbench-mic-start" type="button">● Start</button>
      <button class="workbench-mic-stop" type="button" disabled>■ Stop</button>
      <div class="workbench-mic-meter" title="input level"><div class="workbench-mic-level"></div></div>
      <span class="workbench-mic-elapsed">00:00</span>
      <span class="workbench-mic-delay"></span>
    </div>
    <div class="workbench-mic-error" role="alert"></div>
    <div class="workbench-mic-status"></div>`;
  el.appendChild(root);
  const startBtn = root.querySelector(".workbench-mic-start");
  const stopBtn = root.querySelector(".workbench-mic-stop");
  const level = root.querySelector(".workbench-mic-level");
  const elapsed = root.querySelector(".workbench-mic-elapsed");
  const delayEl = root.querySelector(".workbench-mic-delay");
  const errorEl = root.querySelector(".workbench-mic-error");
  const statusEl = root.querySelector(".workbench-mic-status");

  let ctx = null, stream = null, node = null, down = null;
  let pending = [], pendingN = 0, seq = 0, sent = 0, peak = 0, lastDraw = 0;
  let checkpoints = []; // {end: 16-kHz samples sent, t: performance.now() when the last arrived}
  const delays = [];
  root.dataset.samples = "0";
  root.dataset.delays = "[]";
  root.dataset.state = "idle";

  const showError = (text) => {
    errorEl.textContent = text;
    errorEl.style.display = text ? "block" : "none";
  };
  showError(model.get("error"));
  statusEl.textContent = model.get("status");

  function send(samples, now) {
    const chunk = Float32Array.from(samples);
    let sq = 0;
    for (let i = 0; i < chunk.length; i++) sq += chunk[i] * chunk[i];
    sent += chunk.length;
    checkpoints.push({ end: sent, t: now });
    model.send(
      { type: "chunk", seq: seq++, rate: OUT_RATE, n: chunk.length, t: Date.now(),
        level: Math.sqrt(sq / Math.max(chunk.length, 1)) },
      undefined,
      [chunk.buffer],
    );
    root.dataset.samples = String(sent);
  }

  function take(out, now) {
    if (out.length) {
      pending.push(out);
      pendingN += out.length;
    }
    const size = Math.round(model.get("chunk_s") * OUT_RATE);
    while (pendingN >= size) {
      const all = new Float32Array(pendingN);
      let o = 0;
      for (const p of pending) { all.set(p, o); o += p.length; }
      send(all.subarray(0, size), now);
      pending = [all.slice(size)];
      pendingN = pending[0].length;
    }
  }

  async function start() {
    showError("");
    model.set("error", "");
    model.save_changes();
    startBtn.disabled = true;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        const e = new Error("navigator.mediaDevices is missing");
        e.name = "NoMediaDevices";
        throw e;
      }
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false,
                 autoGainControl: false },
      });
      // Nothing is played back, so latency does not matter: larger render buffers let a busy
      // machine (the kernel decoding on the same cores) keep up without dropping capture frames.
      ctx = new AudioContext({ latencyHint: "playback" });
      const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
      await ctx.audioWorklet.addModule(url);
      URL.revokeObjectURL(url);
      const source = ctx.createMediaStreamSource(stream);
      node = new AudioWorkletNode(ctx, "workbench-capture");
      const mute = ctx.createGain();
      mute.gain.value = 0;
      source.connect(node).connect(mute).connect(ctx.destination);
      down = new Downsampler(ctx.sampleRate, OUT_RATE);
      seq = 0; sent = 0; pending = []; pendingN = 0; checkpoints = []; delays.length = 0;
      model.send({ type: "start", rate: OUT_RATE, capture_rate: ctx.sampleRate, t: Date.now() });
      node.port.onmessage = (ev) => {
        const now = performance.now();
        const block = ev.data;
        for (let i = 0; i < block.length; i++) peak = Math.max(peak, Math.abs(block[i]));
        take(down.process(block), now);
        if (now - lastDraw > 50) {
          level.style.width = `${Math.min(100, Math.round(100 * Math.sqrt(peak)))}%`;
          elapsed.textContent = clock((sent + pendingN) / OUT_RATE);
          peak = 0;
          lastDraw = now;
        }
      };
      if (ctx.state === "suspended") await ctx.resume();
      stopBtn.disabled = false;
      root.dataset.state = "recording";
      model.set("recording", true);
      model.save_changes();
    } catch (err) {
      cleanup();
      const text = message(err);
      showError(text);
      root.dataset.state = "error";
      model.set("error", text);
      model.set("recording", false);
      model.save_changes();
      startBtn.disabled = false;
    }
  }

  function cleanup() {
    if (node) { node.port.onmessage = null; node.disconnect(); }
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ctx) ctx.close();
    node = null; stream = null; ctx = null;
  }

  function stop() {
    if (!ctx) return;
    const now = performance.now();
    cleanup();
    const tail = down.process(new Float32Array(0), true);
    take(tail, now);
    if (pendingN) {
      const all = new Float32Array(pendingN);
      let o = 0;
      for (const p of pending) { all.set(p, o); o += p.length; }
      send(all, now);
    }
    pending = []; pendingN = 0;
    model.send({ type: "stop", seq, t: Date.now() });
    level.style.width = "0%";
    stopBtn.disabled = true;
    startBtn.disabled = false;
    root.dataset.state = "stopped";
    model.set("recording", false);
    model.save_changes();
  }

  // Confirmed words come back with their end in stream seconds: the delay is the time they
  // arrive here minus the time that audio was captured here.
  function captured(endS) {
    const s = endS * OUT_RATE;
    for (const c of checkpoints) {
      if (c.end >= s) return c.t - ((c.end - s) / OUT_RATE) * 1000;
    }
    return null;
  }

  function onCustom(msg) {
    if (!msg || msg.type !== "confirmed" || !Array.isArray(msg.ends)) return;
    const now = performance.now();
    for (const end of msg.ends) {
      const t = captured(end);
      if (t !== null && msg.live !== false) delays.push((now - t) / 1000);
    }
    // Keep only the checkpoints a later word can still need (bounded in a long session).
    const last = msg.ends.length ? msg.ends[msg.ends.length - 1] * OUT_RATE : 0;
    while (checkpoints.length > 2 && checkpoints[1].end < last - 60 * OUT_RATE) checkpoints.shift();
    root.dataset.delays = JSON.stringify(delays.slice(-5000));
    if (delays.length) {
      delayEl.textContent = `confirmed after ${median(delays).toFixed(1)} s (median)`;
    }
  }

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  model.on("msg:custom", onCustom);
  model.on("change:error", () => showError(model.get("error")));
  model.on("change:status", () => { statusEl.textContent = model.get("status"); });
  model.on("change:recording", () => { if (!model.get("recording") && ctx) stop(); });
  return () => {
    cleanup();
    model.off("msg:custom", onCustom);
  };
}

export default { render };
