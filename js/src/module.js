// module.js: loads the WebAssembly core once per JS realm and reads everything JS needs to know
// about C from C itself: result codes, limits, enum values and VFS flags (valori_constants_json)
// and the size/offset of every struct JS reads (vw_layout_json, wasm/bindings.c).
//
// The core is the package's own dist/valori.mjs + dist/valori.wasm (copied there by
// scripts/build-wasm.sh). Bundlers that move the .wasm can pass `wasmBinary` (its bytes) or
// `locateFile(name, prefix)` (its URL or path) to the first Valori.open / Valori.load call.
import createValori from '../dist/valori.mjs';

let loading = null;

/**
 * The loaded core: { m: Emscripten module, C: constants, L: struct layouts, names: code -> name }.
 * `wasm` ({ wasmBinary, locateFile }) is used by the call that loads the core; once loaded, the one
 * instance of this realm is returned whatever is passed.
 */
export function loadCore(wasm = {}) {
  if (!loading) loading = init(wasm).catch((e) => { loading = null; throw e; });
  return loading;
}

async function init({ wasmBinary, locateFile } = {}) {
  const opts = {};
  if (wasmBinary !== undefined && wasmBinary !== null) {
    if (!(wasmBinary instanceof ArrayBuffer) && !ArrayBuffer.isView(wasmBinary)) {
      throw new TypeError('valori: wasmBinary must be an ArrayBuffer or a Uint8Array');
    }
    opts.wasmBinary = wasmBinary instanceof ArrayBuffer ? new Uint8Array(wasmBinary) : wasmBinary;
  }
  if (locateFile !== undefined && locateFile !== null) {
    if (typeof locateFile != 'function') throw new TypeError('valori: locateFile must be a function (name, prefix) => url');
    opts.locateFile = locateFile;
  }
  let m;
  try {
    m = await createValori(opts);
  } catch (e) {
    throw new Error(`valori: cannot load the WebAssembly core (valori.wasm): ${e && e.message ? e.message : e}; ` +
      'pass its bytes as wasmBinary or its location through locateFile to Valori.open()', { cause: e });
  }
  const C = JSON.parse(m.UTF8ToString(m._vw_constants_json()));
  const L = JSON.parse(m.UTF8ToString(m._vw_layout_json()));
  const names = new Map();
  for (const [name, num] of Object.entries(C.codes)) if (num >= 0) names.set(num, name);
  const backends = new Map();
  let nextId = 1;
  m.valoriVfs = {
    get: (id) => backends.get(id),
    register(b) { const id = nextId++; backends.set(id, b); return id; },
    unregister(id) { backends.delete(id); },
  };
  return { m, C, L, names };
}
