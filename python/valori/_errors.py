"""ValoriError: the one exception type the SDK raises.

``code`` is the stable symbolic name and ``errno`` its stable number. The core's codes (``EDIM``,
``ENAN``, ...) keep the names and numbers of ``valori.h``: in embedded mode they are read from the
C library's ``valori_constants_json()``, in remote mode from the server (``GET /v1/constants``),
which adds its own codes (``EJSON``, ``EAUTH``, ``ENOCOLLECTION``, ... numbered from 100;
docs/HTTP.md, section 3). Three conditions exist only in the SDK itself and are numbered here,
from 200 (python/README.md, "Errors"):

- ``ENOLIB`` (200): embedded mode could not find or load ``libvalori.so``;
- ``ECONNECT`` (201): remote mode could not reach the server (refused, unreachable, timed out,
  connection lost before the answer);
- ``EPROTOCOL`` (202): the server's answer is not what docs/HTTP.md specifies.
"""

from __future__ import annotations

from typing import Optional

#: Codes that belong to the SDK alone (no C or server code covers them), with their numbers.
SDK_CODES = {"ENOLIB": 200, "ECONNECT": 201, "EPROTOCOL": 202}


class ValoriError(Exception):
    """An error from Valori: the C core, the server, or the SDK's own checks.

    Attributes:
        code: the stable symbolic name, e.g. ``"EDIM"`` (the same names as C and JS).
        errno: the stable number of that code.
        message: an English description (may change between versions; switch on ``code``).
        status: the HTTP status in remote mode, ``None`` otherwise.
    """

    def __init__(self, code: str, errno: int, message: str, status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.errno = errno
        self.message = message
        self.status = status

    def __reduce__(self):  # picklable (multiprocessing, concurrent.futures)
        return (ValoriError, (self.code, self.errno, self.message, self.status))


def sdk_error(code: str, message: str) -> ValoriError:
    """A ValoriError for one of the SDK's own codes (SDK_CODES)."""
    return ValoriError(code, SDK_CODES[code], message)
