"""Which imported values look like credentials: URLs with tokens or passwords, values under
secret-like keys, well-known key shapes; and which do not."""

from __future__ import annotations

import pytest

from operator_iac.importing.credentials import find_credentials, names_secret


@pytest.mark.parametrize(("value", "reason"), [
    ("https://hooks.example/calls?token=abc123", "a token in the URL"),
    ("https://hooks.example/calls?page=2&api_key=abc123", "a token in the URL"),
    ("https://hooks.example/x?sig=ff00aa&t=1", "a token in the URL"),
    ("https://ci:hunter2@hooks.example/calls", "a password in the URL"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9abc", "shaped like an API key or token"),
    ("sk-proj-abcdefghijklmnopqrstuv", "shaped like an API key or token"),
    ("ghp_" + "a1" * 18, "shaped like an API key or token"),
    ("AKIAABCDEFGHIJKLMNOP", "shaped like an API key or token"),
])
def test_credential_values_are_found_with_their_reason(value: str, reason: str) -> None:
    found = find_credentials({"config": {"output": {"post_url": value}}})
    assert [(h.path, h.reason) for h in found] == [("config.output.post_url", reason)]


@pytest.mark.parametrize("value", [
    "https://hooks.example/calls?page=2&lang=en",
    "https://hooks.example/${env:HOOK_PATH}?token=${env:HOOK_TOKEN}",
    "https://hooks.example/calls",
    "Summarise the call. Never ask for the customer's password.",
    "",
])
def test_ordinary_values_and_env_substitutions_are_not_credentials(value: str) -> None:
    assert find_credentials({"config": {"output": {"post_url": value},
                                        "runtime": {"prompt": {"text": value}}}}) == ()


def test_values_under_secret_keys_are_found_wherever_they_sit() -> None:
    data = {"config": {"extra": {"headers": [{"name": "X", "apiKey": "k_123"}],
                                 "auth_token": "t-1", "voice_key": "male-1",
                                 "max_tokens": "200", "author": "Dana"}}}
    assert [(h.path, h.reason) for h in find_credentials(data)] == [
        ("config.extra.headers[0].apiKey", "a value under 'apiKey'"),
        ("config.extra.auth_token", "a value under 'auth_token'")]


@pytest.mark.parametrize(("name", "url", "secret"), [
    ("token", False, True), ("X-Api-Key", False, True), ("clientSecret", False, True),
    ("password", False, True), ("key", False, False), ("key", True, True),
    ("sort_key", False, False), ("max_tokens", False, False), ("author", False, False),
    ("monkey", True, False),
])
def test_names_are_read_word_by_word(name: str, url: bool, secret: bool) -> None:
    assert names_secret(name, url=url) is secret
