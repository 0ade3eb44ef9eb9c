"""A local cache of the revisions that never change, so a plan reads each of them once.

Released and archived revisions are immutable on Operator (a revision is a full snapshot;
only the draft is ever written to), so their content may be kept by version id and reused
by every later ``plan``, ``status`` or ``smoke``. Drafts are never cached. The versions list
is still read for every agent each time, which is how a new revision, a release or a
rollback is seen; a cached entry is used only when that list's own fields for the revision
(name, description, and ``updated_at`` when given) still agree with it.

What is stored: revision content the platform returns may hold secrets in clear (values
declared as ``${env:...}`` are written to the platform), so every entry is encrypted at rest
with AES-GCM under a key derived from the API key and the platform's URL (HKDF-SHA256), and
its file name is a keyed hash of the version id. Someone who can read the cache folder but
has no API key learns nothing from it; a cache made for another platform or with another key
cannot be opened and counts as empty. An entry that cannot be read, decrypted or parsed is a
miss, and a cache that cannot be written is skipped: the cache can make a run cheaper, never
change its result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from operator_iac.state.snapshot import RemoteRevision, RemoteVersion
from operator_iac.state.times import same_time

IMMUTABLE_STATUSES = frozenset({"released", "archived"})
_MAGIC = b"OIC1"  # format of an entry: magic, 12-byte nonce, AES-GCM ciphertext and tag
_NONCE_BYTES = 12
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # a revision is a few kilobytes; anything bigger is not ours


@dataclass
class CacheStats:
    """What the cache did during a run (for benchmarks and ``--debug``)."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    failures: int = 0  # entries unreadable or refused, writes that failed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


class RevisionCache:
    """Immutable revisions of one platform, read and written under one API key's cache key."""

    def __init__(self, directory: Path, api_url: str, api_key: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        material = _derive(api_key, api_url)
        self._aead = AESGCM(material[:32])
        self._names = material[32:]
        self.folder = directory / "revisions"
        self.stats = CacheStats()

    def get(self, version: RemoteVersion) -> RemoteRevision | None:
        """The cached content of ``version``, or None (never cached, or not trustworthy)."""
        if version.status not in IMMUTABLE_STATUSES:
            return None
        try:
            found = self._read(version)
        except Exception:
            found = None
            self.stats.count("failures")
        self.stats.count("hits" if found is not None else "misses")
        return found

    def put(self, revision: RemoteRevision) -> None:
        """Keep ``revision`` if it is immutable; a cache that cannot be written is skipped."""
        if revision.status not in IMMUTABLE_STATUSES:
            return
        try:
            self._write(revision)
            self.stats.count("writes")
        except OSError:
            self.stats.count("failures")

    # ---- entries -------------------------------------------------------------------------

    def _path(self, version_id: str) -> Path:
        name = hmac.new(self._names, version_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return self.folder / name[:2] / f"{name[2:40]}.bin"

    def _read(self, version: RemoteVersion) -> RemoteRevision | None:
        path = self._path(version.version_id)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            return None
        if len(raw) > MAX_ENTRY_BYTES or not raw.startswith(_MAGIC):
            raise ValueError("not a cache entry")
        nonce = raw[len(_MAGIC):len(_MAGIC) + _NONCE_BYTES]
        plain = self._aead.decrypt(nonce, raw[len(_MAGIC) + _NONCE_BYTES:],
                                   version.version_id.encode("utf-8"))
        data = json.loads(plain.decode("utf-8"))
        revision = _revision(data, version)
        return revision if _agrees(revision, version) else None

    def _write(self, revision: RemoteRevision) -> None:
        plain = json.dumps({
            "version_id": revision.version_id, "name": revision.name,
            "description": revision.description, "config": revision.config,
            "postprocess_agents": list(revision.postprocess_agents),
            "updated_at": revision.updated_at,
        }, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = _MAGIC + nonce + self._aead.encrypt(nonce, plain,
                                                     revision.version_id.encode("utf-8"))
        path = self._path(revision.version_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            os.replace(partial, path)
        except OSError:
            partial.unlink(missing_ok=True)
            raise


def _derive(api_key: str, api_url: str) -> bytes:
    """64 bytes of key material for this key on this platform: 32 for AES-GCM, 32 for names."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    platform = api_url.strip().rstrip("/").lower().encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=b"operator-iac revision cache v1",
                info=platform).derive(api_key.encode("utf-8"))


def _revision(data: Any, version: RemoteVersion) -> RemoteRevision:
    """The entry read through the reading boundary, like the answer it was cached from: an
    entry an earlier operator-iac wrote may hold a form the boundary has since learnt to
    read into the canonical one (transfers spelt ``{id}``), and what is planned on must not
    depend on whether a revision came from the cache or from the platform."""
    from operator_iac.api.models import Agent
    from operator_iac.state.fetch import revision_of

    if not isinstance(data, dict) or data.get("version_id") != version.version_id:
        raise ValueError("entry for another revision")
    if not isinstance(data.get("config"), dict) or \
            not isinstance(data.get("postprocess_agents"), list):
        raise ValueError("malformed entry")
    return revision_of(Agent.model_validate(data), version.version_id, version.status)


def _agrees(revision: RemoteRevision, version: RemoteVersion) -> bool:
    """Whether the versions list, read now, still describes the cached revision."""
    if (revision.name, revision.description) != (version.name, version.description):
        return False
    return revision.updated_at is None or version.updated_at is None or \
        same_time(revision.updated_at, version.updated_at)
