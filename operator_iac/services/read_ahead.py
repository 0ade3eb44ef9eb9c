"""Reading the platform while the declarations load: the read-ahead of ``plan``, ``status``
and ``apply``.

A plan needs the declarations loaded (their models built, every file read and checked, the
environment's values substituted) and the platform read (the agent lists, then each of the
project's agents in depth, then the proof records of its releases: chains of round trips).
Done one after the other, a small project's plan spends about as long before its first
request as on all of them. The reads that do not depend on the declarations need only the
platform's URL, the key and the project's name: the read-ahead begins them as soon as those
are known, in a thread of its own, while the command goes on loading. They are the agent
lists and, in depth, every listed agent whose newest revision carries this project's marker,
which a plan of the project reads in depth in any case (``plan.scope``). The proof records
it reads as each released revision naming them is read, on speculation while the
declarations load (the declarations of a release made with smoke tests nearly always still
have them), and afterwards only for the keys the declarations ask to verify.
The lists themselves leave before the client's models load (``api.early``), and the command
lets the read-ahead handle their answers before it loads the declarations (``lead``).

The read-ahead is a speculation, checked before anything uses it:

- it begins only when the project file names an environment that exists, its key variable
  is set, and no file of the project could name a ``${var:...}`` or ``${env:...}`` without a
  value (``spec.prescan``), so that every configuration error the documentation promises
  before any request still comes before any request;
- the project file is read here without its models (building them is most of what the
  read-ahead hides), for the few fields that say where to read: the target the loaded project
  gives must be the same platform, key, project and environment, or the reads are thrown away
  and made again as without it;
- once the declarations are known, the rest is decided as without it
  (``services.remote.finish_project_read``): agents named like a declared agent but without
  the marker are read in depth then, and the rest of the account when a key has no agent.
  The snapshot is the one the command would have read, a few round trips sooner.

A command that fails before using the reads (a declaration error) abandons them: the reads
still waiting end without a request and the client is closed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac import defaults
from operator_iac.errors import OperatorIacError

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.target import Target
    from operator_iac.smoke.evidence import ProofReadAhead
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.cache import RevisionCache
    from operator_iac.state.snapshot import ListedAgent, Snapshot

log = logging.getLogger(__name__)

Declared = Mapping[str, "DesiredAgent"]


class ReadAheadAbandoned(OperatorIacError):
    """The command ended without using the reads begun ahead of its declarations."""


@dataclass(frozen=True)
class Destination:
    """Where the read-ahead reads, as the project file read without its models says."""

    api_url: str
    """The platform's URL, chosen as ``services.target.build_target`` chooses it."""
    api_key: str = field(repr=False)
    """The key of the environment (never printed; text, as pydantic is not loaded yet:
    ``api.credentials``)."""
    key_source: str | None
    """Where the key came from, as the target names it."""
    project: str
    """The project's name, as its markers carry it."""
    environment: str | None
    """The chosen environment; None for a project without environments."""
    cache_dir: Path | None
    """Where released revisions are cached, as for the target."""
    ws_url: str | None = None
    """The environment's chat session URL as the project file writes it (None: derived from
    the API URL), so that an apply's smoke tests may use the client that read ahead."""


class ReadAhead:
    """The reads of one command begun before its declarations are loaded (see the module
    docstring). ``finish`` hands over the declarations and waits for the snapshot read
    so far; ``abandon`` ends it unused."""

    def __init__(self, destination: Destination, client: OperatorClient, *,
                 parallelism: int, everything: bool) -> None:
        from operator_iac.plan.marker import Owner

        self.destination, self.client = destination, client
        self.owner = Owner(destination.project, destination.environment)
        self.parallelism, self.everything = parallelism, everything
        self._declared: Future[Declared] = Future()
        self._read: Future[Snapshot] = Future()
        self._cancelled = threading.Event()
        self._listed = threading.Event()
        self._proofs: ProofReadAhead | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="operator-iac-read-ahead",
                                        daemon=True)
        self._thread.start()

    @property
    def proofs(self) -> ProofReadAhead:
        """The proof records read ahead; made on first use, so that what it imports is
        imported after the first request has left."""
        with self._lock:
            if self._proofs is None:
                from operator_iac.smoke.evidence import ProofReadAhead

                self._proofs = ProofReadAhead(self.client, self.owner, self._verified)
            return self._proofs

    def serves(self, target: Target, client: OperatorClient, *, everything: bool) -> bool:
        """Whether these reads are the ones ``target`` (read with ``client``) needs."""
        return client is self.client and self.everything == everything and \
            self.owner == target.owner and self.reaches(target)

    def reaches(self, target: Target) -> bool:
        """Whether ``target`` is the platform, key and cache this read-ahead reads."""
        from operator_iac.api.client import derive_ws_url

        destination = self.destination
        ws_url = (target.ws_url or derive_ws_url(target.api_url)).rstrip("/")
        return (target.api_url == destination.api_url and target.cache_dir == destination.cache_dir
                and target.api_key.get_secret_value() == destination.api_key
                and ws_url == self.client.ws_url)

    def finish(self, declared: Declared) -> tuple[Snapshot, ProofReadAhead]:
        """The agents read so far (those the list shows as this project's, in depth; the
        others listed only) once ``declared`` is known, and the proof records read ahead."""
        if not self._declared.done():
            self._declared.set_result(declared)
        return self._read.result(), self.proofs

    def abandon(self) -> None:
        """End unused: the reads not yet begun end without a request."""
        self._cancelled.set()
        if not self._declared.done():
            self._declared.set_exception(ReadAheadAbandoned("the command ended before "
                                                            "reading the platform"))

    def close(self) -> None:
        """Abandon what is unused, wait for the requests under way, and close the client
        (the command's end)."""
        self.abandon()
        self._thread.join(timeout=defaults.READ_AHEAD_CLOSE_WAIT_S)
        self.client.close()

    def _verified(self, key: str) -> bool | None:
        # Whether the declarations verify the releases of ``key``; None while they load (the
        # proof record is then read on speculation: ``ProofReadAhead``). An abandoned
        # read-ahead reads no more.
        if self._cancelled.is_set():
            return False
        if not self._declared.done():
            return None
        from operator_iac.services.plan import verified

        return verified(self._declared.result(), key)

    def _run(self) -> None:
        from operator_iac.state.fetch import fetch_snapshot

        try:
            snapshot = fetch_snapshot(
                self.client, parallelism=self.parallelism, cache=self._cache(),
                claims=None if self.everything else self._claims,
                after=lambda agent: self.proofs.after(agent), cancelled=self._cancelled,
                listed=self._listed.set)
        except BaseException as exc:  # handed to whoever finishes; nobody, when abandoned
            self._read.set_exception(exc)
        else:
            self._read.set_result(snapshot)
        finally:
            self._listed.set()

    def lead(self) -> None:
        """Wait until the agent lists are read and the reads they call for are queued, at
        most ``defaults.READ_AHEAD_LEAD_S``. Every later read follows from the lists, and
        the command's own loading, run beside them, would take the interpreter from the
        thread handling their answers (one lock for both) and delay every round trip
        after; the declarations are needed only once the reads are done."""
        self._listed.wait(defaults.READ_AHEAD_LEAD_S)

    def _claims(self, listed: ListedAgent) -> bool:
        # Imported when the first page has arrived, not before the first request.
        from operator_iac.plan.scope import ProjectScope

        return ProjectScope.of(self.owner).claims_listed(listed)

    def _cache(self) -> RevisionCache | None:
        destination = self.destination
        if destination.cache_dir is None:
            return None
        from operator_iac.state.cache import RevisionCache

        return RevisionCache(destination.cache_dir, destination.api_url,
                             destination.api_key)


def begin_read_ahead(project_file: Path | None, environment: str | None, *,
                     api_url: str | None, cache: bool, parallelism: int,
                     everything: bool = False, writes: bool = False,
                     environ: Mapping[str, str] | None = None) -> ReadAhead | None:
    """The read-ahead for a command of the project at ``project_file`` (None: found from the
    working directory) in ``environment``, or None when it cannot be begun safely (the
    reason is logged): the command then reads as without it. ``writes``: the command writes
    (``apply``), so an environment that only receives promotions is refused before any
    request, and nothing is read ahead for it."""
    environ = os.environ if environ is None else environ
    destination: Destination | None = None
    try:
        destination, reason = _vouched(project_file, environment, api_url, cache, environ,
                                        writes)
    except Exception as exc:  # a speculation never breaks the command: it reads after
        reason = f"{type(exc).__name__}: {exc}"
    if destination is None or reason is not None:
        log.debug("nothing read ahead: %s", reason)
        return None
    from operator_iac.api.constants import AGENT_LISTS
    from operator_iac.api.early import begin_early_reads

    # The lists leave now; the models the client needs load while they are in flight.
    early = begin_early_reads(destination.api_url, destination.api_key, AGENT_LISTS)
    from operator_iac.api.client import OperatorClient

    client = OperatorClient(destination.api_url, destination.api_key,
                            ws_url=destination.ws_url, key_source=destination.key_source,
                            transport=early)
    reading = ReadAhead(destination, client, parallelism=parallelism, everything=everything)
    reading.lead()
    return reading


def _vouched(project_file: Path | None, environment: str | None, api_url: str | None,
             cache: bool, environ: Mapping[str, str],
             writes: bool = False) -> tuple[Destination, str | None]:
    """Where to read ahead, and why not to (a file that may name a value that is missing, an
    environment a writing command refuses), or None. A configuration the command will report
    raises."""
    from operator_iac.spec.prescan import unresolvable

    destination, (file, agents_dir), env_vars, promoted = _destination(
        project_file, environment, api_url, cache, environ)
    if writes and promoted:
        return destination, "the environment receives promotions only"
    return destination, unresolvable(file, agents_dir, env_vars, environ)


def _destination(project_file: Path | None, requested: str | None, api_url: str | None,
                 cache: bool, environ: Mapping[str, str],
                 ) -> tuple[Destination, tuple[Path, Path], dict[str, object] | None, bool]:
    """Where to read, from the project file read without its models, with where the
    declarations are read from (the project file, and its agents folder), the names of
    the environment's vars, and whether it names an environment it is promoted from. What
    does not say that plainly raises (nothing is read ahead);
    the rules that choose the environment, the URL, the key and the cache are the target's
    own (``services.target``)."""
    from operator_iac.services.target import (
        cache_dir,
        chosen_api_url,
        key_text_for,
        pick_environment,
    )
    from operator_iac.settings import API_URL_VARIABLE, Settings
    from operator_iac.spec.loader import load_yaml

    file = Settings(project_file=project_file).find_project_file()
    if file is None or not file.is_file():
        raise ValueError("no project file")
    # The loader of the declarations (its size limits, YAML rules and refusals), without the
    # models it is then checked against.
    data = load_yaml(file, "project file", keep=True).data
    project = _text(data, "project") if isinstance(data, dict) else None
    environments = data.get("environments", {}) if isinstance(data, dict) else None
    if not project or not isinstance(environments, dict):
        raise ValueError("the project file names no project")
    name = pick_environment([str(n) for n in environments], requested)
    env = (environments.get(name) or {}) if name is not None else {}
    if not isinstance(env, dict):
        raise ValueError(f"environment {name!r} is not a mapping")
    env_vars = env.get("vars", {}) if name is not None else None
    if env_vars is not None and not isinstance(env_vars, dict):
        raise ValueError("vars is not a mapping")
    url = chosen_api_url(api_url or environ.get(API_URL_VARIABLE), _text(env, "api_url"),
                         str(file), environ)
    key, source = key_text_for(_text(env, "api_key_env"), name, environ)
    destination = Destination(url, key, source, project, name, cache_dir(cache, environ),
                              _text(env, "ws_url"))
    agents_dir = file.parent / (_text(data, "agents_dir") or "agents")
    return destination, (file, agents_dir), (dict(env_vars) if env_vars is not None
                                             else None), env.get("promote_from") is not None


def _text(data: dict[str, object], field: str) -> str | None:
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field} is not text")
    return value
