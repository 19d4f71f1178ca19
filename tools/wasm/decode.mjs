// Decodes with libvaert compiled to wasm32 (Embedded Swift), under node:
//   node decode.mjs VAERT.wasm MODEL.vaert Z.bin OUT.bin
// Z.bin holds float32 latent vectors; OUT.bin receives the float32 pixels. Uses the device path: the
// model in place in wasm memory, a workspace of vaert_workspace_size bytes, vae_decode_ws. It prints the
// RAM a 32-bit device needs for the model: the handle's bytes (vaert_model_size) and the workspace's.
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, modelPath, zPath, outPath] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
    env: new Proxy({}, { get: (_, name) => () => { throw new Error(`unexpected import ${String(name)}`); } }),
});
const api = instance.exports;
const memory = () => new Uint8Array(api.memory.buffer);
const alloc = (bytes, alignment = 64) => {
    const p = api.malloc(bytes + alignment);
    return p + ((alignment - (p % alignment)) % alignment);
};
const check = (status, what) => {
    if (status !== 0) {
        const p = api.vaert_last_error();
        const bytes = memory().subarray(p, memory().indexOf(0, p));
        throw new Error(`${what}: status ${status}: ${new TextDecoder().decode(bytes)}`);
    }
};
const u32 = (p) => new DataView(api.memory.buffer).getUint32(p, true);

const model = readFileSync(modelPath);
const modelAt = alloc(model.length);
memory().set(model, modelAt);
const out = alloc(8);
check(api.vaert_model_size(modelAt, model.length, out), "model size");
const handleBytes = u32(out);
check(api.vaert_open_memory_in_place(modelAt, model.length, out), "open");
const handle = u32(out);
check(api.vaert_get_latent_dim(handle, out), "latent");
const latent = u32(out);
const [c, h, w] = [alloc(4), alloc(4), alloc(4)];
check(api.vaert_get_image_shape(handle, c, h, w), "shape");
const pixels = u32(c) * u32(h) * u32(w);

const z = readFileSync(zPath);
const batch = z.length / 4 / latent;
const zAt = alloc(z.length);
memory().set(z, zAt);
check(api.vaert_workspace_size(handle, 2, batch, out), "workspace size");
const workspace = alloc(u32(out));
const pixelsAt = alloc(batch * pixels * 4);
check(api.vae_decode_ws(handle, zAt, 0, batch, pixelsAt, workspace, u32(out)), "decode");
writeFileSync(outPath, memory().slice(pixelsAt, pixelsAt + batch * pixels * 4));
console.log(`wasm decode: ${batch} images of ${pixels} pixels; handle ${handleBytes} bytes, workspace ${u32(out)} bytes`);
