"""Content hashes, revision fingerprints and the declarations hash."""

from __future__ import annotations

from typing import Any

from operator_iac.plan.compare import DesiredView
from operator_iac.plan.hashing import (
    content_hash,
    declarations_hash,
    hash_matches,
    revision_fingerprint,
)
from operator_iac.state.snapshot import RemoteRevision


def test_content_hash_ignores_key_order_and_is_short_hex() -> None:
    first = content_hash({"a": 1, "b": {"c": 2, "d": 3}})

    assert first == content_hash({"b": {"d": 3, "c": 2}, "a": 1})
    assert len(first) == 16 and int(first, 16) >= 0


def test_a_rotated_secret_changes_the_hash_without_storing_the_value(
        make_desired: Any, with_config: Any) -> None:
    def secret(value: str) -> Any:
        def change(config: dict[str, Any]) -> None:
            config["runtime"]["prompt"]["text"] = value
        return with_config(make_desired(sensitive=frozenset({"runtime.prompt.text"})), change)

    first, rotated = DesiredView.of(secret("key-one"), {}), DesiredView.of(secret("key-two"), {})

    assert first.content_hash != rotated.content_hash
    assert "key-one" not in repr(first.key_content)


def test_hashes_are_in_key_space_so_ids_do_not_matter(make_desired: Any) -> None:
    agent = make_desired(postprocess=("call-summary",))

    assert DesiredView.of(agent, {"call-summary": "pa_1"}).content_hash == \
        DesiredView.of(agent, {"call-summary": "pa_2"}).content_hash


def test_hash_prefixes_of_different_lengths_match() -> None:
    full = "0123456789abcdef0123"

    assert hash_matches(full[:12], full)
    assert not hash_matches("0123456789ab", "f123456789abcdef")
    assert not hash_matches("0123", full)  # too short to mean anything


def test_revision_fingerprint_sees_every_field() -> None:
    revision = RemoteRevision("ca_1@v0", "draft", "N", "D", {"x": {"unknown": 1}})
    moved = RemoteRevision("ca_1@v0", "draft", "N", "D", {"x": {"unknown": 2}})

    assert revision_fingerprint(revision) != revision_fingerprint(moved)
    assert revision_fingerprint(revision) == revision_fingerprint(
        RemoteRevision("ca_1@v0", "draft", "N", "D", {"x": {"unknown": 1}}))


def test_declarations_hash_covers_content_and_declared_keys() -> None:
    base = declarations_hash({"a": "1" * 16}, ["a", "b"])

    assert base == declarations_hash({"a": "1" * 16}, ["b", "a"])
    assert base != declarations_hash({"a": "2" * 16}, ["a", "b"])
    assert base != declarations_hash({"a": "1" * 16}, ["a"])
