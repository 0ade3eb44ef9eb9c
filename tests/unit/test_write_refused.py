"""A write of apply's own draft refused as if the revision were no longer a draft
(``Steps._write_again``): judged by what the revision holds and by where a write to the bare
id goes, never by a status read that may trail the release."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from operator_iac.api.models import Agent, WriteResult
from operator_iac.apply.steps import ResourceFailed, Steps
from operator_iac.errors import ApiConflictError, BadRequestError
from operator_iac.state.snapshot import RemoteRevision

AGENT, V0, V1 = "pa_walk", "pa_walk@v0", "pa_walk@v1"
OURS = "Summarises calls.\n\n[operator-iac project=acme key=summary hash=0123456789abcdef commit=-]"
WROTE = RemoteRevision(version_id=V0, status="draft", name="Summary", description=OURS,
                       config={"runtime": {"model": "openai/gpt-4o"}})


@dataclass
class Agents:
    """The platform as apply's steps see it: the addressed write refused, then the read, then
    the write to the bare id, each answered as the case says."""

    refusal: Exception
    reads: Agent
    bare: WriteResult | Exception
    writes: list[str] = field(default_factory=list)

    def update(self, ref: str, **body: Any) -> WriteResult:
        self.writes.append(ref)
        if ref == V0:
            raise self.refusal
        if isinstance(self.bare, Exception):
            raise self.bare
        return self.bare

    def get(self, ref: str, *, exists: bool = False) -> Agent:
        assert exists  # the revision this run's write made: a 404 would be a read that trails
        return self.reads


@dataclass
class Run:
    """The few parts of ``Steps`` the judgement uses."""

    agents: Agents
    version_id: str = V0
    released_before: str = ""
    notes: list[str] = field(default_factory=list)

    superseded: list[RemoteRevision] = field(default_factory=list)
    withdrawn: list[RemoteRevision] = field(default_factory=list)

    def _agent_id(self) -> str:
        return AGENT

    def _supersedes(self, before: RemoteRevision, _body: dict[str, Any]) -> None:
        self.superseded.append(before)

    def _withdraw(self, before: RemoteRevision) -> None:
        self.withdrawn.append(before)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def _send_fitting(self, body: dict[str, Any],
                      send: Callable[[dict[str, Any]], WriteResult]) -> WriteResult:
        return send(body)  # the marker fits: no limit is played here


def read(status: str, description: str = OURS) -> Agent:
    return Agent(id=AGENT, version_id=V0, name=WROTE.name, description=description,
                 version_status=status, config=WROTE.config)


def write_again(run: Run) -> WriteResult:
    return Steps._write_again(run, {"description": OURS}, WROTE)  # type: ignore[arg-type]


UNPROCESSABLE = BadRequestError(422, "PUT", f"/procedural_agents/{V0}", "not the draft")
IMMUTABLE = ApiConflictError(409, "PUT", f"/procedural_agents/{V0}", "version_immutable")


@pytest.mark.parametrize("refusal", [UNPROCESSABLE, IMMUTABLE])
def test_a_release_the_status_read_does_not_show_yet_is_found_by_the_bare_id(
        refusal: Exception) -> None:
    # The platform released v0 on create; the read of v0 trails that release.
    run = Run(Agents(refusal, read("draft"), WriteResult(id=AGENT, version_id=V1)))
    assert write_again(run).version_id == V1
    assert run.agents.writes == [V0, AGENT]
    assert run.released_before == V0
    assert "status still read as a draft" in run.notes[0]


def test_a_read_that_gives_no_status_is_told_by_the_bare_id_as_for_a_draft() -> None:
    # A platform that reports only ``is_released`` and leaves false values out, read while
    # its reads by id trail the release: the revision says nothing of its status.
    silent = Agent(id=AGENT, version_id=V0, name=WROTE.name, description=OURS,
                   config=WROTE.config)
    assert silent.status is None
    run = Run(Agents(UNPROCESSABLE, silent, WriteResult(id=AGENT, version_id=V1)))
    assert write_again(run).version_id == V1
    assert run.agents.writes == [V0, AGENT] and run.released_before == V0
    run = Run(Agents(UNPROCESSABLE, silent, WriteResult(id=AGENT, version_id=V0)))
    assert write_again(run).version_id == V0 and run.released_before == ""


def test_a_release_the_read_shows_goes_to_a_new_draft() -> None:
    run = Run(Agents(IMMUTABLE, read("released"), WriteResult(id=AGENT, version_id=V1)))
    assert write_again(run).version_id == V1
    assert run.released_before == V0 and "still read" not in run.notes[0]


def test_a_draft_that_takes_the_write_on_the_bare_id_is_still_this_runs_draft() -> None:
    run = Run(Agents(UNPROCESSABLE, read("draft"), WriteResult(id=AGENT, version_id=V0)))
    assert write_again(run).version_id == V0
    assert run.released_before == "" and run.notes == []


def test_a_body_the_draft_refuses_is_refused_again_and_that_error_stands() -> None:
    again = BadRequestError(422, "PUT", f"/procedural_agents/{AGENT}", "description too long")
    run = Run(Agents(UNPROCESSABLE, read("draft"), again))
    with pytest.raises(BadRequestError, match="description too long"):
        write_again(run)
    assert run.released_before == ""


@pytest.mark.parametrize("reads", [read("released", "Edited.\n"), read("draft", "Edited.\n"),
                                   read("archived")])
def test_a_revision_another_writer_changed_or_replaced_is_a_conflict(reads: Agent) -> None:
    run = Run(Agents(IMMUTABLE, reads, WriteResult(id=AGENT, version_id=V1)))
    with pytest.raises(ResourceFailed) as failed:
        write_again(run)
    assert failed.value.outcome == "conflict"
    assert run.agents.writes == [V0]  # nothing written after the refusal
