// errors.js: ValoriError, the one error type of the package. `.code` is the stable symbolic name
// from C ("EDIM", "ENOSPC"...), `.errno` its stable number; both come from valori_constants_json.

export class ValoriError extends Error {
  /**
   * @param {string} code symbolic result code from C (e.g. "EDIM")
   * @param {number} errno numeric result code from C
   * @param {string} message
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, errno, message, options) {
    super(message, options);
    this.name = 'ValoriError';
    this.code = code;
    this.errno = errno;
  }
}

/** Builds a ValoriError for a numeric code returned by C. */
export function errorFromCode(core, rc, context, cause) {
  const code = core.names.get(rc) || 'UNKNOWN';
  const msg = core.m.UTF8ToString(core.m._valori_strerror(rc));
  return new ValoriError(code, rc, context ? `${context}: ${msg}` : msg, cause ? { cause } : undefined);
}

/** Builds a ValoriError from a symbolic code name (type checks done in JS, backend failures). */
export function errorNamed(core, code, detail, cause) {
  const rc = core.C.codes[code];
  if (rc === undefined) throw new Error(`valori: unknown result code name ${code}`);
  const msg = core.m.UTF8ToString(core.m._valori_strerror(rc));
  return new ValoriError(code, rc, detail ? `${msg}: ${detail}` : msg, cause ? { cause } : undefined);
}

/**
 * Maps a storage backend failure to a ValoriError: backends throw ValoriError, or a plain
 * { vcode, cause, detail } object from inside a VFS call; anything else is EIO.
 */
export function vfsError(core, e, ctx) {
  if (e instanceof ValoriError) return e;
  if (e && typeof e.vcode == 'number') {
    const err = errorFromCode(core, e.vcode, ctx, e.cause);
    if (e.detail) err.message += ` (${e.detail})`;
    return err;
  }
  return errorNamed(core, 'EIO', ctx, e);
}
