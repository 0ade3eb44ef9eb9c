"""The process's one TLS context: begun in the background as soon as a command that talks to
the platform is chosen, the same object for every client and thread that asks, built once,
and built from the certificate authorities httpx would use."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import certifi
import pytest

from operator_iac.api import tls


@pytest.fixture
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(tls, "_started", False)
    tls._built.cache_clear()
    yield
    tls._built.cache_clear()


@pytest.mark.usefixtures("fresh_context")
def test_the_context_begun_in_the_background_is_built_once_and_shared() -> None:
    tls.prepare_tls_context()
    tls.prepare_tls_context()  # a second start is a no-op
    with ThreadPoolExecutor(max_workers=4) as pool:
        contexts = list(pool.map(lambda _n: tls.tls_context(), range(8)))

    assert isinstance(contexts[0], ssl.SSLContext)
    assert all(context is contexts[0] for context in contexts)
    assert tls._built.cache_info().misses == 1
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
    assert contexts[0].cert_store_stats()["x509_ca"] > 0  # the bundle's authorities


@pytest.mark.usefixtures("fresh_context")
def test_ssl_cert_file_is_honoured_as_httpx_honours_it(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    # One authority of the bundle alone: the context must hold exactly that one.
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----"):]
    first = first[:first.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    (tmp_path / "one.pem").write_text(first + "\n", encoding="ascii")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "one.pem"))

    assert tls.tls_context().cert_store_stats()["x509_ca"] == 1


@pytest.mark.usefixtures("fresh_context")
@pytest.mark.parametrize(("command", "begun"), [("plan", True), ("status", True),
                                                ("validate", False), ("lint", False)])
def test_the_cli_begins_it_only_for_commands_that_talk_to_the_platform(
        command: str, begun: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from operator_iac.cli.main import cli

    monkeypatch.chdir(tmp_path)  # no project here: every command stops after choosing
    CliRunner().invoke(cli, [command], catch_exceptions=True)

    assert tls._started is begun
