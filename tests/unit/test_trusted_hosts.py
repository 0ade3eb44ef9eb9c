"""Where the API key may be sent (``services.trusted_hosts``): the rule on its own."""

from __future__ import annotations

import pytest

from operator_iac.errors import ConfigurationError
from operator_iac.services.trusted_hosts import UrlSource, allowed_hosts, trusted_api_url

FILE = UrlSource("project file", "operator-iac.yaml:9")
OUTSIDE = UrlSource("outside")


@pytest.mark.parametrize("url", [
    "https://api.operator.xyz", "https://API.operator.xyz:443/v1", "https://api.operator.xyz./",
    "https://agent.app.operator.xyz", "http://127.0.0.1:8765",
    "http://127.8.9.10", "http://[::1]:8765", "http://localhost:8765", "https://localhost"])
def test_operator_and_loopback_are_trusted_from_the_project_file(url: str) -> None:
    assert trusted_api_url(url, FILE, {}) == url


@pytest.mark.parametrize("url", [
    "https://evil.example", "https://api.operator.xyz.evil.example",
    "https://operator.xyz", "https://10.0.0.8", "https://[fe80::1]"])
def test_any_other_host_in_the_project_file_is_refused_with_the_way_to_allow_it(
        url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        trusted_api_url(url, FILE, {})
    message = str(caught.value)
    assert message.startswith(f"operator-iac.yaml:9: api_url {url} names ")
    assert "to OPERATOR_IAC_ALLOWED_HOSTS" in message and "--api-url" in message


def test_the_allow_list_and_the_command_line_are_trusted() -> None:
    environ = {"OPERATOR_IAC_ALLOWED_HOSTS": " Staging.Acme.example,\tother.example "}
    assert allowed_hosts(environ) == frozenset({"staging.acme.example", "other.example"})
    assert trusted_api_url("https://staging.acme.example/v1", FILE, environ)
    assert trusted_api_url("https://anything.example", OUTSIDE, {})
    with pytest.raises(ConfigurationError, match="not a host name"):
        allowed_hosts({"OPERATOR_IAC_ALLOWED_HOSTS": "https://evil.example"})


@pytest.mark.parametrize("source", [FILE, OUTSIDE])
def test_plain_http_goes_only_to_loopback(source: UrlSource) -> None:
    environ = {"OPERATOR_IAC_ALLOWED_HOSTS": "lan.example"}
    for url in ("http://lan.example", "http://api.operator.xyz", "http://10.0.0.8:8765"):
        with pytest.raises(ConfigurationError, match="sent over https only"):
            trusted_api_url(url, source, environ)


@pytest.mark.parametrize("url", [
    "https://api.operator.xyz@evil.example", "https://user:pw@api.operator.xyz",
    "https://api.operator.xyz\\@evil.example", "https://evil.exa\tmple",
    "https://api.operator.xyz%2eevil.example", "ftp://api.operator.xyz", "api.operator.xyz",
    "https://", "https://api.operator.xyz:99999999", "https://localhost:99999",
    "https://[::1", "http://[::1]x"])
def test_urls_that_parsers_could_read_differently_are_refused(url: str) -> None:
    for source in (FILE, OUTSIDE):
        with pytest.raises(ConfigurationError, match="not a plain API URL"):
            trusted_api_url(url, source, {})
