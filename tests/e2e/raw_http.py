"""Plain HTTP against the emulator, without the project's client: the emulator's own tests
use this so that a bug shared by client and emulator cannot hide."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer

VERSION = "2025-06-19"


def headers_for(server: EmulatorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}", "Operator-Version": VERSION}


@contextmanager
def raw_client(server: EmulatorServer) -> Iterator[httpx.Client]:
    # The process's one TLS context: building one per client loads every certificate
    # authority again, which the suite would pay on every dashboard edit.
    with httpx.Client(base_url=server.url, headers=headers_for(server), timeout=5,
                      verify=_tls_context()) as client:
        yield client


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
