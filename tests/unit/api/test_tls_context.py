"""The process's one TLS context: begun in the background before the declarations load, and
the same object for every client and thread that asks, built once."""

from __future__ import annotations

import ssl
from concurrent.futures import ThreadPoolExecutor

from operator_iac.api import client as client_module


def test_the_context_begun_in_the_background_is_built_once_and_shared() -> None:
    client_module._built_tls_context.cache_clear()
    client_module.prepare_tls_context()
    with ThreadPoolExecutor(max_workers=4) as pool:
        contexts = list(pool.map(lambda _n: client_module.tls_context(), range(8)))

    assert isinstance(contexts[0], ssl.SSLContext)
    assert all(context is contexts[0] for context in contexts)
    assert client_module._built_tls_context.cache_info().misses == 1
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
