// library_valori.js: the JS half of vfs_js.c (linked with --js-library).
// Each vwjs_* function forwards to the storage backend the JS package registered under `id`
// (Module.valoriVfs.get(id)): a plain object with methods open/close/read/write/sync/size/truncate/
// rename/remove/syncDir/list/lock/unlock. Backend methods return values and throw an object with a
// numeric `vcode` (a VALORI_* code) on failure; anything else thrown becomes VALORI_EIO, with the
// error kept on the backend as `lastError` for the JS layer to report.
mergeInto(LibraryManager.library, {
  $vwjs: {
    be: function (id) { return Module['valoriVfs'].get(id); },
    // Runs fn(backend) and turns a throw into a result code. EIO's number comes from the backend
    // (it read it from valori_constants_json), so nothing here hard-codes a C value.
    call: function (id, fn) {
      var b = Module['valoriVfs'].get(id);
      try { fn(b); return 0; } catch (e) {
        b.lastError = e;
        if (e && typeof e.vcode == 'number') return e.vcode;
        return b.EIO;
      }
    },
    w64: function (ptr, v) {
      HEAPU32[ptr >> 2] = v % 4294967296;
      HEAPU32[(ptr + 4) >> 2] = Math.floor(v / 4294967296);
    },
  },
  vwjs_open__deps: ['$vwjs'],
  vwjs_open: function (id, path, flags, out) {
    return vwjs.call(id, function (b) { HEAP32[out >> 2] = b.open(UTF8ToString(path), flags); });
  },
  vwjs_close__deps: ['$vwjs'],
  vwjs_close: function (id, fh) { return vwjs.call(id, function (b) { b.close(fh); }); },
  vwjs_read__deps: ['$vwjs'],
  vwjs_read: function (id, fh, off, buf, n, got) {
    return vwjs.call(id, function (b) { HEAPU32[got >> 2] = b.read(fh, Number(off), HEAPU8.subarray(buf, buf + n)); });
  },
  vwjs_write__deps: ['$vwjs'],
  vwjs_write: function (id, fh, off, buf, n) {
    return vwjs.call(id, function (b) { b.write(fh, Number(off), HEAPU8.subarray(buf, buf + n)); });
  },
  vwjs_sync__deps: ['$vwjs'],
  vwjs_sync: function (id, fh) { return vwjs.call(id, function (b) { b.sync(fh); }); },
  vwjs_size__deps: ['$vwjs'],
  vwjs_size: function (id, fh, out) { return vwjs.call(id, function (b) { vwjs.w64(out, b.size(fh)); }); },
  vwjs_truncate__deps: ['$vwjs'],
  vwjs_truncate: function (id, fh, size) { return vwjs.call(id, function (b) { b.truncate(fh, Number(size)); }); },
  vwjs_rename__deps: ['$vwjs'],
  vwjs_rename: function (id, from, to) {
    return vwjs.call(id, function (b) { b.rename(UTF8ToString(from), UTF8ToString(to)); });
  },
  vwjs_remove__deps: ['$vwjs'],
  vwjs_remove: function (id, path) { return vwjs.call(id, function (b) { b.remove(UTF8ToString(path)); }); },
  vwjs_sync_dir__deps: ['$vwjs'],
  vwjs_sync_dir: function (id) { return vwjs.call(id, function (b) { b.syncDir(); }); },
  vwjs_list_begin__deps: ['$vwjs'],
  vwjs_list_begin: function (id, count) {
    return vwjs.call(id, function (b) { b.listing = b.list(); HEAPU32[count >> 2] = b.listing.length; });
  },
  vwjs_list_name__deps: ['$vwjs'],
  vwjs_list_name: function (id, i, buf, cap) {
    var b = vwjs.be(id);
    var name = b.listing[i];
    if (lengthBytesUTF8(name) + 1 > cap) return b.EBUFSIZE;
    stringToUTF8(name, buf, cap);
    return 0;
  },
  vwjs_lock__deps: ['$vwjs'],
  vwjs_lock: function (id) { return vwjs.call(id, function (b) { b.lock(); }); },
  vwjs_unlock__deps: ['$vwjs'],
  vwjs_unlock: function (id) { return vwjs.call(id, function (b) { b.unlock(); }); },
});
