/*
** vfs_js.h: a valori_vfs whose operations are implemented in JavaScript (library_valori.js). The
** JS package registers a storage backend object under a numeric id: the Node backend calls
** fs.openSync/writeSync/fsyncSync on the real files (a real fsync, unlike NODEFS), the browser
** backend works on the Emscripten FS under an IDBFS mount and persists with one IndexedDB
** transaction per group commit (js/src/idb.js).
*/
#ifndef VW_VFS_JS_H
#define VW_VFS_JS_H

#include "valori.h"

/* Fills *vfs so that every operation is forwarded to the JS backend registered as `id` (> 0). */
void vw_vfs_js_init(valori_vfs *vfs, int id);

#endif
