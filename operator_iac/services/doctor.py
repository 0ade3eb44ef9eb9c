"""``doctor`` as a service: check a platform before trusting ``apply`` with it.

Two kinds of findings. **Checks** are what operator-iac relies on (documented behaviour):
the key is accepted, the version header, the list and versions shapes and their
pagination, revisions read as ``@vN``, and a testmode chat conversation that can be created,
talked to over the WebSocket session, followed over the SSE stream, and deleted. One failed
check makes the exit code 1. **Behaviours** are the variations of the registry
(``operator_iac.emulator.variations``, docs/platform-behaviours.md): each says what this
platform does, whether that is the alternative to the emulator's choice, and how
operator-iac copes; none fails the run. Most are seen in what the reading boundary had to
adapt to (``client.notices``), the rest by looking at the platform on purpose.

Read-only on agents by default. At most one testmode conversation is created (deleted at the
end): pinned to a draft when the platform holds one (to learn whether drafts can be conversed
with), otherwise to a released revision. The conversation part is ``services.doctor_session``.
With ``write_check`` (``services.doctor_write``), a temporary agent is written, read back,
released and deleted, and the conversation is held with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac.errors import (
    AuthenticationError,
    NotFoundError,
    OperationError,
    OperatorIacError,
    PermissionDeniedError,
)
from operator_iac.state.platform_report import DoctorReport, Findings

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Agent, AgentSummary, VersionEntry
    from operator_iac.services.feedback import Say

# How many agents of each kind are looked at closely (versions, revisions): enough to see
# the shapes, few enough for a large account.
SAMPLE = 10
MAX_PAGES = 200
MISSING_AGENT = "ca_operator_iac_doctor_check"


@dataclass(frozen=True)
class Catalog:
    """What was read: the agents, their versions, the revisions sampled."""

    summaries: dict[str, list[AgentSummary]]
    versions: dict[str, list[VersionEntry]]
    revisions: dict[str, Agent]


def run_doctor(client: OperatorClient, *, wait_s: float = 15.0, write_check: bool = False,
               progress: Say | None = None) -> DoctorReport:
    """Check the platform ``client`` talks to (see the module docstring)."""
    from operator_iac.services.doctor_session import check_conversation
    from operator_iac.services.doctor_write import write_check as check_writes

    say = progress or (lambda _line: None)
    found = Findings()
    say(f"Checking {client.base_url} ...")
    catalog = _read_only_checks(client, found)
    if catalog is not None and write_check:
        check_writes(client, found, wait_s=wait_s, say=say)
    elif catalog is not None:
        say("Talking to an agent in a testmode conversation ...")
        check_conversation(client, catalog, found, wait_s=wait_s)
    found.adapted(client.notices.seen())
    found.complete()
    return DoctorReport(client.base_url, tuple(found.checks), tuple(found.behaviours))


def _read_only_checks(client: OperatorClient, found: Findings) -> Catalog | None:
    """Auth, the version header, error bodies, lists, versions and revision reads; None
    when the platform cannot be read at all (the rest is pointless then)."""
    from operator_iac.api.probe import raw

    try:
        summaries = _lists(client, found)
    except (AuthenticationError, PermissionDeniedError) as exc:
        found.check("auth", "failed", f"the API key was refused: {exc}")
        return None
    except OperatorIacError as exc:
        found.check("agents list", "failed", str(exc))
        return None
    try:
        bare = raw(client, "GET", "/conversational_agents", drop_headers=("Operator-Version",))
        refused = bare.status in (400, 406, 412)
        found.check("version header", "ok", "every request carries Operator-Version; without it "
                    f"the platform answers {bare.status}"
                    + ("" if refused else " (it does not insist on it)"))
        missing = raw(client, "GET", f"/conversational_agents/{MISSING_AGENT}")
        found.saw("error_body", f"HTTP {missing.status}, {missing.shape}",
                  missing.shape == "error object")
    except OperatorIacError as exc:
        found.check("version header", "failed", str(exc))
    versions, revisions = _versions_and_revisions(client, summaries, found)
    return Catalog(summaries, versions, revisions)


def _lists(client: OperatorClient, found: Findings) -> dict[str, list[AgentSummary]]:
    summaries: dict[str, list[AgentSummary]] = {}
    pages, problems = 0, []
    for kind in ("conversational_agents", "procedural_agents"):
        items, count, problem = _list_kind(client, f"/{kind}")
        summaries[kind] = items
        pages += count
        if problem:
            problems.append(problem)
    found.check("auth", "ok", "the API key is accepted")
    total = sum(len(v) for v in summaries.values())
    found.check("agents list", "failed" if problems else "ok", "; ".join(problems) or
                f"{total} agents in {pages} page(s), data and cursor as documented")
    if any(summaries.values()):  # what the reading had to adapt to is the alternative
        found.saw("list_descriptions", "every item carries one", True)
        found.saw("extra_fields", "none", True)
        found.saw("time_form", "RFC 3339 text", True)
        found.saw("paths", "as documented", True)
    return summaries


def _list_kind(client: OperatorClient, path: str) -> tuple[list[AgentSummary], int, str]:
    """Every item of one agents list, the pages it took, and what is wrong with its shape."""
    from operator_iac.api.pagination import read_page

    items: list[AgentSummary] = []
    seen: set[str] = set()
    cursor: str | None = None
    for pages in range(1, MAX_PAGES + 1):
        body = client.request_json("GET", path, params={"cursor": cursor})
        # What the reading relies on, no more: a page is an object or an array, and an
        # object that leaves out an empty list or a null cursor is an empty or a last page
        # (some platforms leave empty values out of what they show).
        if not isinstance(body, dict | list):
            return items, pages, f"GET {path} did not answer a list ({{data: [...], cursor}})"
        try:
            page = read_page(body, "data")
        except OperationError as exc:
            return items, pages, f"GET {path}: {exc}"
        items.extend(_summary(item, path) for item in page.items)
        if page.cursor is None:
            break
        if page.cursor in seen:
            return items, pages, f"GET {path} returned a cursor twice"
        seen.add(page.cursor)
        cursor = page.cursor
    ids = [s.id for s in items]
    if len(set(ids)) != len(ids):
        return items, pages, f"GET {path} listed an agent twice across its pages"
    return items, pages, ""


def _summary(item: object, path: str) -> AgentSummary:
    from operator_iac.api.models import AgentSummary
    from operator_iac.api.resources import parse

    return parse(AgentSummary, item, f"GET {path}")


def _versions_and_revisions(client: OperatorClient, summaries: dict[str, list[AgentSummary]],
                            found: Findings
                            ) -> tuple[dict[str, list[VersionEntry]], dict[str, Agent]]:
    versions: dict[str, list[VersionEntry]] = {}
    revisions: dict[str, Agent] = {}
    try:
        for kind, items in summaries.items():
            resource = getattr(client, kind)
            for summary in items[:SAMPLE]:
                try:
                    entries = resource.list_versions(summary.id)
                    read = {entry.version_id: resource.get(entry.version_id)
                            for entry in entries if entry.status in ("released", "draft")}
                except NotFoundError:
                    # Deleted since the list was read (someone in the dashboard, another
                    # run's temporary agent, a list that trails the deletion): not a fault
                    # of the reads, and nothing left to sample.
                    continue
                versions[summary.id] = entries
                revisions.update(read)
    except OperatorIacError as exc:
        found.check("versions and revisions", "failed", str(exc))
        return versions, revisions
    if not versions:
        found.check("versions and revisions", "skipped", "no agents to read")
        return versions, revisions
    _judge_versions(versions, revisions, found)
    return versions, revisions


def _judge_versions(versions: dict[str, list[VersionEntry]], revisions: dict[str, Agent],
                    found: Findings) -> None:
    entries = [e for listed in versions.values() for e in listed]
    wrong = [e.version_id for e in entries if e.number is None or e.status is None]
    mismatched = [v for v, agent in revisions.items() if agent.version_id != v]
    if wrong or mismatched:
        found.check("versions and revisions", "failed", "entries without a version id or a "
                    f"status: {', '.join(wrong[:3]) or 'none'}; revisions read back as "
                    f"another: {', '.join(mismatched[:3]) or 'none'}")
    else:
        found.check("versions and revisions", "ok", f"{len(entries)} versions of "
                    f"{len(versions)} agents, {len(revisions)} revisions read as <id>@vN")
    # The reading boundary notes the alternatives (is_released, {id}); these are the usual.
    found.saw("version_status", "version_status", True)
    if any((agent.config.get("tool") or {}).get("transfers") for agent in revisions.values()):
        found.saw("transfers", "{entity_id}", True)
