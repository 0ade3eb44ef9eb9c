"""Which revision a release's records speak of when a concurrent writer made another draft
than the one the plan expected (``apply.release_records``)."""

from __future__ import annotations

from operator_iac.apply.release_records import ReleaseRecords
from operator_iac.smoke.record import SmokeRecord


def release_of(version_id: str) -> SmokeRecord:
    return SmokeRecord("shop", "desk", version_id, False, "released; not proven",
                       "2026-12-05T10:00:00Z", "abc123abc123", None, "release", "ca_1@v0")


def test_records_follow_the_revision_the_write_made() -> None:
    # named in the write for the draft the plan expected; the write made another one
    named = ReleaseRecords(None)  # type: ignore[arg-type]
    named.announced = release_of("ca_1@v1")
    named.written("ca_1@v2")
    assert named.late is not None and named.late.version_id == "ca_1@v2"
    # no revision took them before the release: written after it, about the revision made
    late = ReleaseRecords(None)  # type: ignore[arg-type]
    late.late = release_of("ca_1@v1")
    late.written("ca_1@v2")
    assert late.late.version_id == "ca_1@v2"
    # the expected draft was made: the named records serve, nothing is written after
    same = ReleaseRecords(None)  # type: ignore[arg-type]
    same.announced = release_of("ca_1@v2")
    same.written("ca_1@v2")
    assert same.late is None
