// module.js: loads the WebAssembly core once per JS realm and reads everything JS needs to know
// about C from C itself: result codes, limits and enum values (valori_constants_json) and the
// size/offset of every struct JS reads plus the VFS flags (vw_layout_json, wasm/bindings.c).
import createValori from '../../build-wasm/valori.mjs';

let loading = null;

/** The loaded core: { m: Emscripten module, C: constants, L: struct layouts, names: code -> name }. */
export function loadCore() {
  if (!loading) loading = init().catch((e) => { loading = null; throw e; });
  return loading;
}

function parseConstants(text) {
  return JSON.parse(text); // valori_constants_json(): plain JSON generated from valori.h
}

async function init() {
  const m = await createValori();
  const C = parseConstants(m.UTF8ToString(m._vw_constants_json()));
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
