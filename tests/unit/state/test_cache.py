"""The revision cache: immutable revisions only, encrypted under a key of one platform and
one API key; whatever is wrong with an entry makes it a miss, never a different result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from operator_iac.settings import CACHE_DIR_VARIABLE, cache_directory
from operator_iac.state.cache import RevisionCache
from operator_iac.state.snapshot import RemoteRevision, RemoteVersion

URL = "https://api.operator.xyz"
KEY = "op_test_key"
SECRET = "s3cr3t-canary"
REVISION = RemoteRevision(
    version_id="ca_1@v2", status="released", name="Desk", description="Front desk.",
    config={"runtime": {"model": "m"}, "output": {"post_url": f"https://x?token={SECRET}"}},
    postprocess_agents=("pa_1",), updated_at="2025-06-19T00:00:00Z")
VERSION = RemoteVersion(version_id="ca_1@v2", number=2, status="released", name="Desk",
                        description="Front desk.", updated_at="2025-06-19T00:00:00Z")


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_released_revision_round_trips_and_an_archived_one_keeps_its_new_status(
        tmp_path: Path) -> None:
    cache = RevisionCache(tmp_path, URL, KEY)
    cache.put(REVISION)
    assert cache.get(VERSION) == REVISION
    archived = replace(VERSION, status="archived")
    assert cache.get(archived) == replace(REVISION, status="archived")
    assert (cache.stats.writes, cache.stats.hits) == (1, 2)


def test_drafts_are_never_cached(tmp_path: Path) -> None:
    cache = RevisionCache(tmp_path, URL, KEY)
    cache.put(replace(REVISION, status="draft"))
    assert _files(tmp_path) == []
    cache.put(REVISION)
    assert cache.get(replace(VERSION, status="draft")) is None


def test_entries_hold_no_secret_and_no_name_in_clear(tmp_path: Path) -> None:
    RevisionCache(tmp_path, URL, KEY).put(REVISION)
    [entry] = _files(tmp_path)
    raw = entry.read_bytes()
    assert SECRET.encode() not in raw and b"Desk" not in raw and b"ca_1" not in raw
    assert "ca_1" not in str(entry)
    assert oct(entry.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(("url", "key"), [("https://other.example", KEY), (URL, "op_other"),
                                          ("http://127.0.0.1:9", KEY)])
def test_another_platform_or_key_sees_an_empty_cache(tmp_path: Path, url: str,
                                                     key: str) -> None:
    RevisionCache(tmp_path, URL, KEY).put(REVISION)
    other = RevisionCache(tmp_path, url, key)
    assert other.get(VERSION) is None
    # Even the entry moved to the name the other cache looks for cannot be opened.
    [entry] = _files(tmp_path)
    target = other._path(VERSION.version_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    entry.rename(target)
    assert other.get(VERSION) is None and other.stats.failures == 1


def test_the_same_platform_written_differently_shares_the_cache(tmp_path: Path) -> None:
    RevisionCache(tmp_path, URL + "/", KEY).put(REVISION)
    assert RevisionCache(tmp_path, URL.upper(), KEY).get(VERSION) == REVISION


def test_an_entry_the_versions_list_no_longer_describes_is_a_miss(tmp_path: Path) -> None:
    cache = RevisionCache(tmp_path, URL, KEY)
    cache.put(REVISION)
    for changed in (replace(VERSION, description="Edited."), replace(VERSION, name="New"),
                    replace(VERSION, updated_at="2025-06-19T00:00:01Z")):
        assert cache.get(changed) is None
    assert cache.get(replace(VERSION, updated_at=None)) == REVISION


@pytest.mark.parametrize("damage", [b"", b"OIC1", b"garbage" * 10, b"OIC1" + bytes(range(64))],
                         ids=["empty", "header-only", "garbage", "header-and-noise"])
def test_a_damaged_entry_is_a_miss(tmp_path: Path, damage: bytes) -> None:
    cache = RevisionCache(tmp_path, URL, KEY)
    cache.put(REVISION)
    [entry] = _files(tmp_path)
    entry.write_bytes(damage)
    assert cache.get(VERSION) is None
    cache.put(REVISION)
    assert cache.get(VERSION) == REVISION


def test_an_entry_for_another_revision_is_refused(tmp_path: Path) -> None:
    cache = RevisionCache(tmp_path, URL, KEY)
    cache.put(REVISION)
    [entry] = _files(tmp_path)
    other = replace(VERSION, version_id="ca_1@v3", number=3)
    target = cache._path(other.version_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(entry.read_bytes())  # the ciphertext is bound to its version id
    assert cache.get(other) is None


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = RevisionCache(blocker, URL, KEY)
    cache.put(REVISION)
    assert cache.get(VERSION) is None
    assert cache.stats.failures >= 1 and blocker.read_text() == "x"


def test_the_cache_directory_follows_the_platform_conventions(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert cache_directory({CACHE_DIR_VARIABLE: "/c"}) == Path("/c")
    assert cache_directory({"HOME": home}, "linux") == tmp_path / ".cache" / "operator-iac"
    assert cache_directory({"HOME": home, "XDG_CACHE_HOME": "/x"}, "linux") == \
        Path("/x/operator-iac")
    assert cache_directory({"HOME": home, "XDG_CACHE_HOME": "relative"}, "linux") == \
        tmp_path / ".cache" / "operator-iac"
    assert cache_directory({"HOME": home}, "darwin") == \
        tmp_path / "Library" / "Caches" / "operator-iac"
    assert cache_directory({"HOME": home, "LOCALAPPDATA": "C:/Local"}, "win32") == \
        Path("C:/Local/operator-iac/Cache")


def test_an_entry_is_read_as_the_reading_boundary_reads_the_platform(tmp_path: Path) -> None:
    # An entry an earlier operator-iac cached may hold the platform's older transfer spelling
    # and a null description: it reads as the same revision read from the platform would.
    cache = RevisionCache(tmp_path, URL, KEY)
    older = replace(REVISION, config={"tool": {"transfers": [{"id": "ca_2"}]}})
    cache._write(replace(older, description=None))  # type: ignore[arg-type]
    found = cache.get(replace(VERSION, description=""))
    assert found == replace(older, description="",
                            config={"tool": {"transfers": [{"entity_id": "ca_2"}]}})
