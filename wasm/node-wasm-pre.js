// --pre-js: under Node, read the .wasm next to this file synchronously so the runtime never calls fetch() on a path.
if (typeof __isNode != 'undefined' && __isNode && !Module['wasmBinary'] && !Module['instantiateWasm']) {
  Module['wasmBinary'] = require('fs').readFileSync(Module['locateFile'] ? Module['locateFile']('valori.wasm', __dirname + '/') : __dirname + '/valori.wasm');
}
