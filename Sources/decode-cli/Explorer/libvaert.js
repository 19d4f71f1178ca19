"use strict";
// libvaert's wasm32 build as the page calls it: the module's exports and memory (Library), and one model
// opened in place with buffers and a workspace (Decoder), through the same C API as a C program:
// vaert_open_memory_in_place, vaert_workspace_size, vae_decode_ws, vaert_sample_latent, vaert_sample_ws.

const KIND_CVAE = 9;
const OP_DECODE = 2, OP_SAMPLE = 3;
const MAX_BATCH = 256;          // the largest call the page makes: a 15 x 15 grid

class LibraryError extends Error {}

/** libvaert's wasm32 module: its exports, memory and error message. */
class Library {
  static async load(wasm) {
    const unexpected = { get: (_, name) => () => { throw new Error(`libvaert called an import it should not need: ${String(name)}`); } };
    const { instance } = await WebAssembly.instantiate(wasm, { env: new Proxy({}, unexpected) });
    return new Library(instance.exports);
  }
  constructor(api) { this.api = api; }
  bytes() { return new Uint8Array(this.api.memory.buffer); }
  floats(at, count) { return new Float32Array(this.api.memory.buffer, at, count); }
  u32(at) { return new DataView(this.api.memory.buffer).getUint32(at, true); }
  f32(at) { return new DataView(this.api.memory.buffer).getFloat32(at, true); }
  alloc(bytes, alignment = 64) {
    const p = this.api.malloc(bytes + alignment);
    if (!p) throw new LibraryError(`the page could not get ${bytes} bytes of wasm memory`);
    return p + ((alignment - (p % alignment)) % alignment);
  }
  string(at) { const m = this.bytes(); return new TextDecoder().decode(m.subarray(at, m.indexOf(0, at))); }
  check(status) {
    if (status !== 0) throw new LibraryError(this.string(this.api.vaert_last_error()) || this.string(this.api.vaert_status_string(status)));
  }
}

/** One model opened in place in wasm memory, with buffers and a workspace for MAX_BATCH images. */
class Decoder {
  constructor(lib, modelBytes, onTiming) {
    this.lib = lib;
    this.onTiming = onTiming;
    const api = lib.api;
    const at = lib.alloc(modelBytes.length);
    lib.bytes().set(modelBytes, at);
    const out = lib.alloc(16);
    lib.check(api.vaert_open_memory_in_place(at, modelBytes.length, out));
    this.handle = lib.u32(out);
    lib.check(api.vaert_get_kind(this.handle, out)); this.kind = lib.u32(out);
    lib.check(api.vaert_get_latent_dim(this.handle, out)); this.latentDim = lib.u32(out);
    lib.check(api.vaert_get_image_shape(this.handle, out, out + 4, out + 8));
    [this.channels, this.height, this.width] = [lib.u32(out), lib.u32(out + 4), lib.u32(out + 8)];
    lib.check(api.vaert_get_image_range(this.handle, out, out + 4)); [this.low, this.high] = [lib.f32(out), lib.f32(out + 4)];
    lib.check(api.vaert_get_class_count(this.handle, out)); this.classes = lib.u32(out);
    this.pixelsPerImage = this.channels * this.height * this.width;
    lib.check(api.vaert_workspace_size(this.handle, OP_DECODE, MAX_BATCH, out));
    let workspace = lib.u32(out);
    this.canSample = api.vaert_workspace_size(this.handle, OP_SAMPLE, MAX_BATCH, out) === 0;
    if (this.canSample) workspace = Math.max(workspace, lib.u32(out));
    [this.workspaceBytes, this.workspaceAt] = [workspace, lib.alloc(workspace)];
    this.zAt = lib.alloc(MAX_BATCH * this.latentDim * 4);
    this.labelsAt = lib.alloc(MAX_BATCH * 4);
    this.pixelsAt = lib.alloc(MAX_BATCH * this.pixelsPerImage * 4);
  }
  get conditional() { return this.kind === KIND_CVAE; }

  /** Pixels of `batch` latent vectors (and labels for a conditional model). */
  decode(z, labels, batch) {
    this.lib.floats(this.zAt, batch * this.latentDim).set(z.subarray(0, batch * this.latentDim));
    this.setLabels(labels, batch);
    const start = performance.now();
    this.lib.check(this.lib.api.vae_decode_ws(this.handle, this.zAt, this.conditional ? this.labelsAt : 0, batch, this.pixelsAt,
                                              this.workspaceAt, this.workspaceBytes));
    this.onTiming(performance.now() - start, batch);
    return this.lib.floats(this.pixelsAt, batch * this.pixelsPerImage).slice();
  }
  /** vaert_sample_latent: latent vectors first..first+count-1 of `seed` (BigInts). */
  sampleLatent(seed, first, count) {
    this.lib.check(this.lib.api.vaert_sample_latent(this.handle, seed, first, count, this.zAt));
    return this.lib.floats(this.zAt, count * this.latentDim).slice();
  }
  /** vaert_sample_ws: decoded samples (a VQ-VAE's from its prior). */
  samplePixels(seed, first, count, labels) {
    this.setLabels(labels, count);
    const start = performance.now();
    this.lib.check(this.lib.api.vaert_sample_ws(this.handle, seed, first, count, this.conditional ? this.labelsAt : 0, this.pixelsAt,
                                                this.workspaceAt, this.workspaceBytes));
    this.onTiming(performance.now() - start, count);
    return this.lib.floats(this.pixelsAt, count * this.pixelsPerImage).slice();
  }
  setLabels(labels, batch) {
    if (this.conditional) new Int32Array(this.lib.api.memory.buffer, this.labelsAt, batch).set(labels.subarray(0, batch));
  }
}
