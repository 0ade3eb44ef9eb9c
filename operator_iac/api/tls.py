"""The one TLS context of the process, and starting it early.

Building a TLS context loads every certificate authority (tens of milliseconds, most of it
inside OpenSSL with Python's lock released). A command that talks to the platform starts it
in a background thread as soon as the command is known (``prepare_tls_context``), so it is
ready when the client is made after the declarations have loaded; commands that open several
clients (promote, smoke, doctor) share it instead of paying that each time.

This module imports only the standard library and ``certifi``, never httpx: the thread must
not import a package the command's own thread may be importing at the same moment. The
context is therefore built here the way httpx builds its own default one (``verify=True``):
the authorities in ``SSL_CERT_FILE``, else in ``SSL_CERT_DIR``, else certifi's bundle.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading

_LOCK = threading.Lock()
_started = False


def tls_context() -> ssl.SSLContext:
    """The process's TLS context, built on first use. A caller that comes while another
    thread builds it waits for that one."""
    with _LOCK:
        return _built()


@functools.cache
def _built() -> ssl.SSLContext:
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi  # httpx's own dependency: the bundle httpx would use

    return ssl.create_default_context(cafile=certifi.where())


def prepare_tls_context() -> None:
    """Begin building ``tls_context`` in a background thread, once per process."""
    global _started
    with _LOCK:
        if _started:
            return
        _started = True
    threading.Thread(target=tls_context, name="operator-iac-tls", daemon=True).start()
