"""Where the API key may be sent: the one rule, applied where a target's URL is resolved,
before any connection.

The project file is part of the repository, so a pull request can change it; the API key of
the job that plans that pull request must not follow it. A URL is therefore trusted when its
host is one of Operator's own (``api.operator.xyz``, and the session host
``agent.app.operator.xyz``), a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``: a
local emulator), or when it was chosen outside the repository: ``--api-url``,
``OPERATOR_IAC_API_URL``, a URL a script passes to ``build_target``, or a host listed in
``OPERATOR_IAC_ALLOWED_HOSTS`` (comma or space separated host names). Only a URL read from
the project file is checked against that list; any other host named there fails with exit
code 3, naming the host and how to allow it.

Wherever it came from, a URL must be plain ``http(s)://host[:port][/path]`` (no user name,
no backslash, no encoded host, so that every URL parser agrees on the host), and a host that
is not loopback needs ``https``: the key never crosses a network in clear.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from operator_iac.api.constants import DEFAULT_WS_URL
from operator_iac.defaults import API_URL
from operator_iac.errors import ConfigurationError
from operator_iac.settings import ALLOWED_HOSTS_VARIABLE, API_URL_VARIABLE

# The documented hosts of the platform: its REST API, and its chat sessions (which receive
# only a conversation's ephemeral token, never the key).
OPERATOR_HOSTS = frozenset(urlsplit(url).hostname or "" for url in (API_URL, DEFAULT_WS_URL))
# A host name, or a bracketed IPv6 address, then an optional port: nothing a parser could
# read another way.
_NETLOC = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]+\])"
                     r"(?::[0-9]{1,5})?$")
_HOST_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_SEPARATORS = re.compile(r"[\s,]+")

# Where a URL came from: ``outside`` (the command line, OPERATOR_IAC_API_URL, a script's
# argument, the built-in default), or ``project file`` (checked against the trusted hosts).
UrlOrigin = Literal["outside", "project file"]


@dataclass(frozen=True)
class UrlSource:
    """Where an API URL was read, for the rule and for its error messages."""

    origin: UrlOrigin
    """``outside`` for a URL chosen outside the repository, ``project file`` otherwise."""
    where: str = ""
    """How to find it: a flag name, or ``operator-iac.yaml:9`` for the project file."""


def trusted_api_url(url: str, source: UrlSource,
                    environ: Mapping[str, str]) -> str:
    """``url`` if the API key may be sent there (see the module docstring); otherwise a
    ``ConfigurationError`` that names the host and how to allow it."""
    host = _host(url, source)
    if not (is_loopback(host) or url.lower().startswith("https://")):
        raise ConfigurationError(
            f"{_where(source)}{url}: the API key is sent over https only (plain http only to "
            "a loopback address such as a local emulator); use an https:// URL")
    if source.origin == "outside" or host in OPERATOR_HOSTS or is_loopback(host) or \
            host in allowed_hosts(environ):
        return url
    raise ConfigurationError(
        f"{_where(source)}api_url {url} names {host}, which is not a platform host operator-iac "
        f"trusts, so the API key is not sent there (trusted: {', '.join(sorted(OPERATOR_HOSTS))}"
        ", loopback, and hosts allowed outside the repository). To use it, allow it where a "
        f"pull request cannot: add {host} to {ALLOWED_HOSTS_VARIABLE}, or pass --api-url "
        f"{url} (or set {API_URL_VARIABLE}), in the shell or the CI job")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (lower case, no brackets) is this machine: ``localhost`` or a
    loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(environ: Mapping[str, str]) -> frozenset[str]:
    """The host names ``OPERATOR_IAC_ALLOWED_HOSTS`` lists (comma or space separated)."""
    names = [n.lower().rstrip(".") for n in _SEPARATORS.split(
        environ.get(ALLOWED_HOSTS_VARIABLE, "")) if n]
    wrong = next((n for n in names if not _HOST_NAME.match(n)), None)
    if wrong is not None:
        raise ConfigurationError(
            f"{ALLOWED_HOSTS_VARIABLE}: {wrong!r} is not a host name; list host names only "
            "(no scheme, port or path), separated by commas or spaces")
    return frozenset(names)


def _host(url: str, source: UrlSource) -> str:
    """The URL's host, lower case, after checking that every parser reads the same one."""
    # urlsplit silently drops tabs and newlines, which other parsers may not: refuse them.
    parts = _split(url)
    if parts is None or parts.scheme.lower() not in ("http", "https") or \
            not _NETLOC.match(parts.netloc) or \
            any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise ConfigurationError(
            f"{_where(source)}{url!r} is not a plain API URL: write https://host[:port][/path], "
            "without a user name or password")
    return (parts.hostname or "").rstrip(".")


def _split(url: str) -> SplitResult | None:
    """``url`` in parts, or None where Python's own parser refuses it (an unclosed bracket,
    a port above 65535)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (read for its check of the range)
    except ValueError:
        return None
    return parts


def _where(source: UrlSource) -> str:
    return f"{source.where}: " if source.where else ""
