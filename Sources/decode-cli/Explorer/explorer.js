// The vaert latent explorer: the page's controls over a Decoder (libvaert.js, before this file in the
// page's script), from the data block decode-cli explorer wrote. window.vaertExplorer is the hook the
// browser tests use.

const KIND_NAMES = { 1: "vae", 2: "ae", 3: "beta-vae", 4: "conv-vae", 5: "conv-ae", 6: "dae", 7: "sparse-ae", 8: "cae", 9: "cvae", 10: "vq-vae" };
const NORMAL_PRIOR_KINDS = new Set([1, 3, 4, 9]);
const KIND_VQ_VAE = 10;
const SLIDERS_PER_PAGE = 16;
const CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const $ = (id) => document.getElementById(id);
const hook = { ready: false, error: null };
window.vaertExplorer = hook;

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
/** A binary field of the data block: base64 of zlib-format deflate. */
async function unpack(base64) {
  const stream = new Blob([bytesOf(base64)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
const BINARY_FIELDS = ["wasm", "model", "images", "latents", "codes", "codebook"];

/** Draws `count` CHW images of `pixels` into `canvas` as tiles, `columns` to a row. */
function drawTiles(canvas, pixels, count, columns, decoder, low = decoder.low, high = decoder.high) {
  const { channels: c, height: h, width: w } = decoder;
  const rows = Math.ceil(count / columns);
  if (canvas.width !== columns * w) canvas.width = columns * w;
  if (canvas.height !== rows * h) canvas.height = rows * h;
  const image = new ImageData(columns * w, rows * h);
  const scale = 255 / (high - low);
  for (let i = 0; i < count; i++) {
    const [tx, ty] = [(i % columns) * w, Math.floor(i / columns) * h];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = 4 * ((ty + y) * columns * w + tx + x);
        for (let k = 0; k < 3; k++) {
          const v = pixels[i * c * h * w + (c === 3 ? k : 0) * h * w + y * w + x];
          image.data[o + k] = Math.round(Math.min(255, Math.max(0, (v - low) * scale)));
        }
        image.data[o + 3] = 255;
      }
    }
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
}

/** The test images of the map: 2-d points, labels, real pixels and the latent each one decodes from. */
class MapData {
  constructor(data, binary, decoder) {
    const map = data.map;
    [this.x, this.y, this.labels, this.names, this.projection] = [map.x, map.y, map.labels, map.classNames, map.projection];
    this.count = this.x.length;
    this.images = binary.images;
    this.d = decoder.latentDim;
    if (binary.codes) {
      // A VQ-VAE's test images as code grids: each one's decoder input is its codes' vectors, channel-major.
      this.codes = new Uint16Array(binary.codes.buffer);
      this.codebook = new Float32Array(binary.codebook.buffer);
      this.positions = this.codes.length / this.count;
      this.dimension = this.d / this.positions;
    } else {
      this.latents = new Float32Array(binary.latents.buffer);
    }
  }
  latent(i) {
    if (this.latents) return this.latents.slice(i * this.d, (i + 1) * this.d);
    const z = new Float32Array(this.d);
    for (let p = 0; p < this.positions; p++) {
      const code = this.codes[i * this.positions + p];
      for (let j = 0; j < this.dimension; j++) z[j * this.positions + p] = this.codebook[code * this.dimension + j];
    }
    return z;
  }
  realPixels(i, size) { return Float32Array.from(this.images.subarray(i * size, (i + 1) * size), (v) => v / 255); }
  className(label) { return this.names[label] ?? `class ${label}`; }
}

function fail(message) {
  hook.error = message;
  const banner = $("error");
  banner.textContent = message;
  banner.hidden = false;
  $("model-line").textContent = "The page could not run the model.";
}
window.addEventListener("error", (event) => fail(`explorer: ${event.message}`));
window.addEventListener("unhandledrejection", (event) => fail(`explorer: ${event.reason?.message ?? event.reason}`));

async function main() {
  const data = JSON.parse($("vaert-data").textContent);
  const binary = {};
  for (const key of BINARY_FIELDS) if (data[key]) binary[key] = await unpack(data[key]);
  const lib = await Library.load(binary.wasm);
  let lastTiming = "";
  const decoder = new Decoder(lib, binary.model, (ms, batch) => {
    lastTiming = `decode ${(ms / batch).toFixed(3)} ms/image (batch ${batch}, wasm32)`;
  });
  const map = new MapData(data, binary, decoder);
  const app = new Explorer(decoder, map, data, binary.model);
  app.start();
  Object.assign(hook, app.testHooks(), { ready: true });
  const showTiming = () => { $("timing").textContent = lastTiming; requestAnimationFrame(showTiming); };
  requestAnimationFrame(showTiming);
}

class Explorer {
  constructor(decoder, map, data, modelBytes) {
    this.decoder = decoder;
    this.modelBytes = modelBytes;
    this.map = map;
    this.data = data;
    this.d = decoder.latentDim;
    this.isVQ = decoder.kind === KIND_VQ_VAE;
    this.hasNormalPrior = NORMAL_PRIOR_KINDS.has(decoder.kind);
    this.label = 0;
    this.dimPage = 0;
    this.pending = new Set();
    this.selected = -1;
    this.ranges = this.sliderRanges();
    this.z = this.origin();
    this.pixels = null;
  }

  /** Each dimension's slider range: the prior's +-3 for a VAE, the test latents' range and a tenth for others. */
  sliderRanges() {
    const ranges = [];
    for (let j = 0; j < this.d; j++) {
      if (this.hasNormalPrior || this.isVQ) { ranges.push([-3, 3]); continue; }
      let [lo, hi] = [Infinity, -Infinity];
      for (let i = 0; i < this.map.count; i++) { const v = this.map.latents[i * this.d + j]; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const pad = Math.max(0.1 * (hi - lo), 1e-3);
      ranges.push([+(lo - pad).toPrecision(3), +(hi + pad).toPrecision(3)]);
    }
    return ranges;
  }
  /** The reset point: the prior's mean, or the test latents' mean when there is no prior. */
  origin() {
    const z = new Float32Array(this.d);
    if (this.hasNormalPrior || this.isVQ) return z;
    for (let i = 0; i < this.map.count; i++) for (let j = 0; j < this.d; j++) z[j] += this.map.latents[i * this.d + j] / this.map.count;
    return z;
  }
  labelsFor(batch, label = this.label) { return new Int32Array(batch).fill(label); }

  start() {
    const dec = this.decoder;
    const kind = KIND_NAMES[dec.kind] ?? `kind ${dec.kind}`;
    const title = document.title.replace(/^vaert explorer: /, "");
    const latent = this.isVQ ? `codes: a grid of ${this.map.positions} from ${this.map.codebook.length / this.map.dimension}` : `latent ${this.d}`;
    $("model-line").textContent = `${title}: ${kind}, ${latent}, images ${dec.channels}×${dec.height}×${dec.width}; ` +
      `decoder in ${this.data.dtype} (${Math.round(this.data.modelBytes / 1024)} KB), libvaert wasm32 (${Math.round(this.data.wasmBytes / 1024)} KB)`;
    for (const id of ["decoded", "map-real", "map-decoded", "interp-real-a", "interp-real-b"]) {
      $(id).width = dec.width; $(id).height = dec.height;
    }
    this.setUpClasses();
    this.setUpSampling();
    this.setUpSliders();
    this.setUpGrid();
    this.setUpInterpolation();
    this.setUpMap();
    $("reset").addEventListener("click", () => this.setZ(this.origin()));
    if (!this.isVQ) $("z-note").textContent = this.hasNormalPrior ? "z = 0, the prior's mean" : "to the test latents' mean";
    $("reset").hidden = this.isVQ;
    $("app").hidden = false;
    // Start on something worth looking at: sample 0 of seed 0 where there is a prior, else test image 0.
    if (this.canSample()) this.sampleTyped(); else this.loadPoint(0);
    this.schedule("interp");
  }

  setUpClasses() {
    if (!this.decoder.conditional) return;
    const picker = $("class-picker");
    for (let k = 0; k < this.decoder.classes; k++) picker.add(new Option(`${k}: ${this.map.className(k)}`, k));
    picker.addEventListener("change", () => { this.label = +picker.value; this.schedule("main", "grid", "interp"); });
    $("class-row").hidden = false;
  }

  setUpSampling() {
    const note = $("sample-note");
    let reason = null;
    if (!this.hasNormalPrior && !this.isVQ) {
      reason = "An autoencoder's latent space has no prior, so there is nothing to sample from: sampling is off. Start from a test image on the map, or move the sliders.";
    } else if (this.isVQ) {
      try { this.decoder.samplePixels(0n, 0n, 1, this.labelsFor(1)); } catch (e) { reason = e.message; }
    }
    if (reason) {
      for (const id of ["seed", "sample-index", "sample", "next-sample"]) $(id).disabled = true;
      note.textContent = reason;
      return;
    }
    $("sample").addEventListener("click", () => this.sampleTyped());
    $("next-sample").addEventListener("click", () => { $("sample-index").value = String(+$("sample-index").value + 1); this.sampleTyped(); });
    $("seed").addEventListener("keydown", (e) => { if (e.key === "Enter") this.sampleTyped(); });
  }
  canSample() { return !$("sample").disabled; }
  sampleTyped() {
    const text = $("seed").value.trim();
    const index = $("sample-index").value.trim();
    if (!/^\d+$/.test(text) || BigInt(text) >= 1n << 64n) { $("sample-note").textContent = `seed must be an integer from 0 to 2^64 − 1, not "${text}"`; return; }
    if (!/^\d+$/.test(index)) { $("sample-note").textContent = `index must be a whole number, not "${index}"`; return; }
    this.sample(BigInt(text), BigInt(index));
    const command = document.createElement("code");
    command.textContent = `decode-cli sample --seed ${text}`;
    const how = this.isVQ ? "codes from the PixelCNN prior" : "z from vaert_sample_latent";
    $("sample-note").replaceChildren(`sample ${index} of seed ${text}` + (this.decoder.conditional ? `, class ${this.label}` : "") +
      ` (${how}): image ${index} of `, command);
  }
  sample(seed, index) {
    if (this.isVQ) {
      this.showMain(this.decoder.samplePixels(seed, index, 1, this.labelsFor(1)));
    } else {
      this.setZ(this.decoder.sampleLatent(seed, index, 1));
    }
  }

  setUpSliders() {
    if (this.isVQ) {
      $("sliders-card").hidden = true;
      $("grid-card").hidden = true;
      $("z-note").textContent = `A VQ-VAE's latent is a grid of ${this.map.positions} codes, not a vector, so it has no sliders or traversal grid: sample from its prior, or pick test images on the map.`;
      return;
    }
    const pages = Math.ceil(this.d / SLIDERS_PER_PAGE);
    if (pages > 1) {
      const select = $("dim-pages");
      for (let p = 0; p < pages; p++) {
        select.add(new Option(`z${p * SLIDERS_PER_PAGE}–z${Math.min(this.d, (p + 1) * SLIDERS_PER_PAGE) - 1} of ${this.d}`, p));
      }
      select.addEventListener("change", () => { this.dimPage = +select.value; this.syncSliders(); });
      $("dim-pages-row").hidden = false;
    }
    this.sliders = [];
    for (let s = 0; s < Math.min(SLIDERS_PER_PAGE, this.d); s++) {
      const row = document.createElement("div");
      row.className = "slider";
      const label = document.createElement("label");
      const input = document.createElement("input");
      const output = document.createElement("output");
      input.type = "range";
      input.id = label.htmlFor = `slider-${s}`;
      row.append(label, input, output);
      $("sliders").append(row);
      input.addEventListener("input", () => {
        const j = this.dimPage * SLIDERS_PER_PAGE + s;
        // Back at the value it was given, a slider gives back the exact z (a slider's own values are its steps).
        this.z[j] = input.value === input.dataset.given ? +input.dataset.givenZ : +input.value;
        output.value = this.z[j].toFixed(2);
        this.schedule("main");
      });
      input.addEventListener("change", () => this.schedule("grid"));
      this.sliders.push({ row, label, input, output });
    }
    this.syncSliders();
  }
  syncSliders() {
    if (!this.sliders) return;
    this.sliders.forEach((slider, s) => {
      const j = this.dimPage * SLIDERS_PER_PAGE + s;
      slider.row.style.visibility = j < this.d ? "visible" : "hidden";
      if (j >= this.d) return;
      const [lo, hi] = this.ranges[j];
      slider.label.textContent = `z${j}`;
      Object.assign(slider.input, { min: lo, max: hi, step: (hi - lo) / 200 });
      slider.input.setAttribute("aria-label", `latent dimension ${j}`);
      slider.input.value = this.z[j];
      slider.input.dataset.given = slider.input.value;
      slider.input.dataset.givenZ = this.z[j];
      slider.output.value = this.z[j].toFixed(2);
    });
  }
  setZ(z) {
    this.z = Float32Array.from(z);
    this.syncSliders();
    this.schedule("main", "grid");
  }

  setUpGrid() {
    if (this.isVQ) return;
    for (const id of ["grid-x", "grid-y"]) for (let j = 0; j < this.d; j++) $(id).add(new Option(String(j), j));
    $("grid-y").value = String(Math.min(1, this.d - 1));
    for (const n of [3, 5, 7, 9, 11, 13, 15]) $("grid-n").add(new Option(`${n}×${n}`, n));
    $("grid-n").value = "7";
    if (!this.hasNormalPrior) {
      const spans = this.ranges.map(([lo, hi]) => (hi - lo) / 2);
      $("grid-range").value = (spans.reduce((a, b) => a + b, 0) / spans.length).toPrecision(2);
    }
    for (const id of ["grid-x", "grid-y", "grid-range", "grid-n"]) $(id).addEventListener("input", () => this.schedule("grid"));
  }
  /** The N x N traversal: x left to right and y top to bottom over centre +- range, the other dimensions from z. */
  gridLatents() {
    const n = +$("grid-n").value, jx = +$("grid-x").value, jy = +$("grid-y").value;
    const r = Math.abs(+$("grid-range").value) || 1;
    const centre = this.hasNormalPrior ? new Float32Array(this.d) : this.origin();
    const z = new Float32Array(n * n * this.d);
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        const t = (row * n + col) * this.d;
        z.set(this.z, t);
        z[t + jx] = centre[jx] - r + (2 * r * col) / (n - 1);
        z[t + jy] = centre[jy] + r - (2 * r * row) / (n - 1);
      }
    }
    return { n, z, jx, jy, r };
  }

  setUpInterpolation() {
    for (const id of ["interp-a", "interp-b"]) $(id).max = String(this.map.count - 1);
    for (const id of ["interp-a", "interp-b", "interp-mode", "interp-frames"]) $(id).addEventListener("input", () => this.schedule("interp"));
  }
  interpolationLatents() {
    const clampIndex = (v) => Math.min(this.map.count - 1, Math.max(0, Math.round(+v) || 0));
    const a = clampIndex($("interp-a").value), b = clampIndex($("interp-b").value);
    const frames = Math.min(16, Math.max(2, Math.round(+$("interp-frames").value) || 10));
    const za = this.map.latent(a), zb = this.map.latent(b);
    const spherical = $("interp-mode").value === "spherical";
    const norm = (v) => Math.hypot(...v);
    const cos = za.reduce((s, v, j) => s + v * zb[j], 0) / (norm(za) * norm(zb) || 1);
    const omega = Math.acos(Math.min(1, Math.max(-1, cos)));
    const z = new Float32Array(frames * this.d);
    for (let f = 0; f < frames; f++) {
      const t = f / (frames - 1);
      // Spherical: along the great circle (slerp), which keeps a Gaussian sample's norm; linear when A and B are parallel.
      const [wa, wb] = spherical && omega > 1e-4 ? [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)] : [1 - t, t];
      for (let j = 0; j < this.d; j++) z[f * this.d + j] = wa * za[j] + wb * zb[j];
    }
    return { a, b, frames, z };
  }

  setUpMap() {
    const map = this.map, canvas = $("map");
    canvas.width = canvas.height = 960;
    $("map-note").textContent = `${map.count} test images, ${map.projection}. Hover or tap a point to decode it beside the real image.`;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < map.count; i++) {
      [x0, x1] = [Math.min(x0, map.x[i]), Math.max(x1, map.x[i])];
      [y0, y1] = [Math.min(y0, map.y[i]), Math.max(y1, map.y[i])];
    }
    // Each axis stretched to the canvas: a projection's axes carry no common unit.
    const margin = 24, size = canvas.width - 2 * margin;
    this.mapPoints = Array.from({ length: map.count }, (_, i) => [
      margin + ((map.x[i] - x0) / (x1 - x0 || 1)) * size, margin + ((y1 - map.y[i]) / (y1 - y0 || 1)) * size,
    ]);
    this.mapBase = document.createElement("canvas");
    this.mapBase.width = this.mapBase.height = canvas.width;
    const g = this.mapBase.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.globalAlpha = 0.8;
    this.mapPoints.forEach(([px, py], i) => {
      g.fillStyle = CLASS_COLOURS[map.labels[i] % CLASS_COLOURS.length];
      g.beginPath(); g.arc(px, py, 5, 0, 2 * Math.PI); g.fill();
    });
    const legend = $("legend");
    const labels = [...new Set(map.labels)].sort((p, q) => p - q);
    for (const label of labels) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.style.background = CLASS_COLOURS[label % CLASS_COLOURS.length];
      item.append(swatch, map.className(label));
      legend.append(item);
    }
    const nearest = (event) => {
      const rect = canvas.getBoundingClientRect();
      const [px, py] = [(event.clientX - rect.left) * (canvas.width / rect.width), (event.clientY - rect.top) * (canvas.height / rect.height)];
      let [best, bestDistance] = [-1, 18 * 18];
      this.mapPoints.forEach(([qx, qy], i) => { const dd = (qx - px) ** 2 + (qy - py) ** 2; if (dd < bestDistance) [best, bestDistance] = [i, dd]; });
      return best;
    };
    canvas.addEventListener("pointermove", (event) => { const i = nearest(event); if (i >= 0) this.showPoint(i); });
    canvas.addEventListener("click", (event) => {
      const i = nearest(event);
      if (i < 0) return;
      this.selected = i;
      this.showPoint(i);
      for (const id of ["map-use", "map-a", "map-b"]) $(id).disabled = false;
    });
    $("map-use").addEventListener("click", () => this.loadPoint(this.selected));
    $("map-a").addEventListener("click", () => { $("interp-a").value = String(this.selected); this.schedule("interp"); });
    $("map-b").addEventListener("click", () => { $("interp-b").value = String(this.selected); this.schedule("interp"); });
    this.showPoint(0);
  }
  drawMap(highlight) {
    const g = $("map").getContext("2d");
    g.drawImage(this.mapBase, 0, 0);
    for (const [i, colour] of [[this.selected, "#000"], [highlight, "#2f62d8"]]) {
      if (i < 0) continue;
      const [px, py] = this.mapPoints[i];
      g.strokeStyle = colour; g.lineWidth = 3;
      g.beginPath(); g.arc(px, py, 11, 0, 2 * Math.PI); g.stroke();
    }
  }
  /** Shows test image i beside its decoding (with its own class for a conditional model). */
  showPoint(i) {
    const dec = this.decoder, size = dec.pixelsPerImage, label = this.map.labels[i];
    drawTiles($("map-real"), this.map.realPixels(i, size), 1, 1, dec, 0, 1);
    drawTiles($("map-decoded"), dec.decode(this.map.latent(i), this.labelsFor(1, label), 1), 1, 1, dec);
    $("map-point").textContent = `test image ${i}: ${this.map.className(label)}`;
    this.drawMap(i);
  }
  /** Test image i's latent into the decoder panel (and its class into the picker). */
  loadPoint(i) {
    if (this.decoder.conditional) { this.label = this.map.labels[i]; $("class-picker").value = String(this.label); }
    if (this.isVQ) { this.showMain(this.decoder.decode(this.map.latent(i), this.labelsFor(1), 1)); return; }
    this.setZ(this.map.latent(i));
  }

  /** Marks parts to redraw at the next frame: input events only record what changed. */
  schedule(...parts) {
    if (this.pending.size === 0) requestAnimationFrame(() => this.render());
    for (const part of parts) this.pending.add(part);
  }
  render() {
    const parts = this.pending;
    this.pending = new Set();
    if (parts.has("main") && !this.isVQ) this.showMain(this.decoder.decode(this.z, this.labelsFor(1), 1));
    if (parts.has("grid") && !this.isVQ) {
      const { n, z, jx, jy, r } = this.gridLatents();
      drawTiles($("grid"), this.decoder.decode(z, this.labelsFor(n * n), n * n), n * n, n, this.decoder);
      $("grid-note").textContent = `z${jx} from ${(-r).toFixed(2)} to ${r.toFixed(2)} left to right, z${jy} top to bottom` +
        (this.hasNormalPrior ? "" : ", around the test latents' mean") + "; other dimensions from the sliders.";
    }
    if (parts.has("interp")) {
      const { a, b, frames, z } = this.interpolationLatents();
      const size = this.decoder.pixelsPerImage;
      drawTiles($("interp"), this.decoder.decode(z, this.labelsFor(frames), frames), frames, frames, this.decoder);
      $("interp").style.aspectRatio = `${frames} / 1`;
      drawTiles($("interp-real-a"), this.map.realPixels(a, size), 1, 1, this.decoder, 0, 1);
      drawTiles($("interp-real-b"), this.map.realPixels(b, size), 1, 1, this.decoder, 0, 1);
      $("interp-note").textContent = `test images ${a} (${this.map.className(this.map.labels[a])}) to ${b} (${this.map.className(this.map.labels[b])})` +
        (this.isVQ ? "; between their quantised decoder inputs, which the decoder never saw mixed" : ", between their latent means") +
        (this.decoder.conditional ? `, decoded as class ${this.label}` : "") + ".";
    }
  }
  showMain(pixels) {
    this.pixels = pixels;
    drawTiles($("decoded"), pixels, 1, 1, this.decoder);
  }

  testHooks() {
    const dec = this.decoder;
    return {
      info: { kind: dec.kind, latentDim: this.d, shape: [dec.channels, dec.height, dec.width], classes: dec.classes, canSample: this.canSample() },
      decode: (z, label = 0) => Array.from(dec.decode(Float32Array.from(z), this.labelsFor(1, label), 1)),
      current: () => ({ z: Array.from(this.z), pixels: Array.from(this.pixels ?? []) }),
      sampleLatent: (seed, index) => Array.from(dec.sampleLatent(BigInt(seed), BigInt(index), 1)),
      render: () => { if (this.pending.size) this.render(); },
      grid: () => ({ n: +$("grid-n").value, width: $("grid").width, height: $("grid").height, tile: [dec.width, dec.height] }),
      /** Where map point i is drawn, in CSS pixels from the map canvas's centre (for pointer tests). */
      mapPointOffset: (i) => {
        const rect = $("map").getBoundingClientRect(), [px, py] = this.mapPoints[i], scale = rect.width / $("map").width;
        return [px * scale - rect.width / 2, py * scale - rect.height / 2];
      },
      modelBase64: () => { let text = ""; for (const b of this.modelBytes) text += String.fromCharCode(b); return btoa(text); },
      /** Milliseconds per batch-1 decode of z, over `iterations` calls. */
      benchmark: (iterations) => {
        const labels = this.labelsFor(1), start = performance.now();
        for (let k = 0; k < iterations; k++) dec.decode(this.z, labels, 1);
        return (performance.now() - start) / iterations;
      },
    };
  }
}

main().catch((error) => fail(error instanceof LibraryError ? `libvaert: ${error.message}` : `explorer: ${error.message}`));
