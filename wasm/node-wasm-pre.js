// --pre-js: under Node, read the .wasm synchronously so the runtime never calls fetch() on a path:
// the caller's wasmBinary if given, else the file locateFile names (a path or a file: URL), else the
// valori.wasm next to this file.
if (typeof __isNode != 'undefined' && __isNode && !Module['wasmBinary'] && !Module['instantiateWasm']) {
  var __wasmPath = Module['locateFile'] ? Module['locateFile']('valori.wasm', __dirname + '/') : __dirname + '/valori.wasm';
  if (typeof __wasmPath == 'string' && __wasmPath.startsWith('file:')) __wasmPath = require('url').fileURLToPath(__wasmPath);
  Module['wasmBinary'] = require('fs').readFileSync(__wasmPath);
}
