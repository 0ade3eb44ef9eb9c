"""Turning failed HTTP exchanges into the errors of ``operator_iac.errors``.

Failures say what to fix where the client can tell: a refused key names where the key came
from, a list that is not found shows the URL asked for, and a host name that does not resolve
is recognised (and not retried: it will not start to resolve in the next seconds).

The platform's error bodies are not documented, and a proxy in between may answer with
HTML or nothing at all, so ``server_message`` digs a short human sentence out of whatever
body arrives (JSON of several shapes, plain text, HTML) and never fails. Messages carry the
method and the path only: no query string (it may hold a conversation token), no request
body, and never the API key.
"""

from __future__ import annotations

import html
import json
import re
import socket
from typing import Any
from urllib.parse import urlsplit

MAX_MESSAGE_CHARS = 300

# JSON keys that commonly hold a human message, in the order they are tried.
_MESSAGE_KEYS = ("message", "detail", "error_description", "title", "description", "msg")
_TAG = re.compile(r"<[^>]+>")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_HTML_NOISE = re.compile(r"<(script|style|head)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TOKEN_PARAM = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


def server_message(content_type: str, body: bytes) -> str:
    """A short message found in an error response body, or "" when there is none."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    found = _message_from_json(text)
    if found is None:
        found = _message_from_html(text) if _looks_like_html(content_type, text) else text
    return _shorten(found)


def error_message(data: Any) -> str:
    """The message of the error object in a decoded body (``{"error": ...}``), shortened, or
    "" when the body holds none: a failure some platforms answer with a success status."""
    found = _message_in(data.get("error")) if isinstance(data, dict) else ""
    return _shorten(found) if found else ""


def _message_from_json(text: str) -> str | None:
    if text[0] not in "{[\"":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return _message_in(value) or ""


def _message_in(value: Any) -> str:
    """Search a decoded JSON body for a message, descending into ``error``/``errors``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(m for m in (_message_in(v) for v in value[:3]) if m)
    if not isinstance(value, dict):
        return ""
    for key in _MESSAGE_KEYS:
        found = _message_in(value.get(key))
        if found:
            return found
    for key in ("error", "errors"):
        found = _message_in(value.get(key))
        if found:
            return found
    code = value.get("code")
    return code if isinstance(code, str) else ""


def _looks_like_html(content_type: str, text: str) -> bool:
    return "html" in content_type.lower() or text.lstrip()[:1] == "<"


def _message_from_html(text: str) -> str:
    for pattern in (_HTML_TITLE, _HTML_HEADING):
        match = pattern.search(text)
        if match and _strip_tags(match.group(1)):
            return _strip_tags(match.group(1))
    return _strip_tags(_HTML_NOISE.sub(" ", text))


def _strip_tags(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def _shorten(text: str) -> str:
    clean = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(clean) <= MAX_MESSAGE_CHARS:
        return clean
    return clean[: MAX_MESSAGE_CHARS - 3].rstrip() + "..."


def scrub_secrets(text: str, *secrets: str) -> str:
    """``text`` with every given secret and every ``token=`` query value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_PARAM.sub(r"\1***", text)


# getaddrinfo's answers for a name that does not exist (EAI_NODATA is not on every platform).
_NO_SUCH_HOST = frozenset(getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA")
                          if hasattr(socket, name))


def unknown_host(exc: BaseException) -> bool:
    """Whether a failure is a host name that does not resolve, anywhere in its chain of
    causes. A resolver that cannot be reached answers EAI_AGAIN instead: that is retried."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror) and seen.errno in _NO_SUCH_HOST:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unknown_host_reason(base_url: str) -> str:
    host = urlsplit(base_url).hostname or base_url
    return f"the host name {host} does not resolve"


def is_collection(path: str) -> bool:
    """Whether ``path`` is a top-level list (``/procedural_agents``), which exists on every
    account: a 404 there means the base URL is wrong, not that something is missing."""
    inner = path.strip("/")
    return bool(inner) and "/" not in inner


def wrong_url_hint(url: str, base_url: str) -> str:
    return (f"{url} does not exist: is api_url right? (operator-iac sends every request to "
            f"{base_url})")


def refused_key_hint(status: int, key_source: str | None, base_url: str) -> str:
    """What to do about a key the platform refused: which variable (and environment) to fix;
    "" for other statuses."""
    source = key_source or "the API key in use"
    if status == 401:
        return f"the platform refused the API key from {source}: set it to a valid key for " \
               f"{base_url}"
    if status == 403:
        return f"the API key from {source} may not do this: use a key with access to it on " \
               f"{base_url}"
    return ""
