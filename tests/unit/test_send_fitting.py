"""A write refused for its description's length is sent again with smaller markers
(``Steps._send_fitting``): the richest marker the platform takes is written, a create never
makes two agents, and a refusal of another kind stands after one more request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from operator_iac.api.models import WriteResult
from operator_iac.apply.steps import Steps
from operator_iac.errors import BadRequestError
from operator_iac.plan.marker import Marker, parse_marker, with_marker

MARKER = Marker("acme", "booking", "0123456789abcdef", "abc1234", written="7ff:0123456789abcdef",
                environment="staging", stored="aaaaaaaa.bbbbbbbb",
                smoke=("conv_aaaaaaaaaaa", "conv_bbbbbbbbbbb"))
BODY = {"description": with_marker("Books appointments.", MARKER), "config": {}}


@dataclass
class Platform:
    """Takes descriptions up to ``limit`` characters; refuses everything when ``closed``."""

    limit: int
    closed: bool = False
    taken: list[str] = field(default_factory=list)
    sent: int = 0

    def write(self, body: dict[str, Any]) -> WriteResult:
        self.sent += 1
        if self.closed or len(body["description"]) > self.limit:
            raise BadRequestError(422, "PUT", "/conversational_agents/ca_1", "refused")
        self.taken.append(body["description"])
        return WriteResult(id="ca_1", version_id="ca_1@v0")


@dataclass
class Run:
    description_limit: int | None = None

    def learn_description_limit(self, limit: int) -> int:
        self.description_limit = min(limit, self.description_limit or limit)
        return self.description_limit


@dataclass
class Records:
    def still_named(self, _body: dict[str, Any]) -> bool:
        return True


@dataclass
class Writer:
    """The parts of ``Steps`` the writer uses."""

    run_: Run = field(default_factory=Run)
    records: Records = field(default_factory=Records)
    body: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    version_id: str = "ca_1@v0"

    def _require_forms_kept(self, recorded: dict[str, Any], body: dict[str, Any]) -> None:
        Steps._require_forms_kept(self, recorded, body)  # type: ignore[arg-type]

    def note(self, text: str) -> None:
        self.notes.append(text)

    def send(self, body: dict[str, Any], send: Callable[[dict[str, Any]], WriteResult],
             creates: bool = False) -> WriteResult:
        return Steps._send_fitting(self, body, send, creates=creates)  # type: ignore[arg-type]


@pytest.mark.parametrize("creates", [True, False])
def test_the_richest_marker_the_platform_takes_is_written(creates: bool) -> None:
    platform, writer = Platform(limit=len(BODY["description"]) - 20), Writer()
    writer.send(BODY, platform.write, creates=creates)
    written = platform.taken[-1]
    assert len(written) <= platform.limit and writer.body is not None
    assert writer.body["description"] == written
    # The limit kept bounds the platform's from above: one less than the shortest refused.
    learnt = writer.run_.description_limit
    assert learnt is not None and len(written) <= platform.limit <= learnt
    assert learnt < len(BODY["description"])
    marker = parse_marker(written)
    assert marker is not None and marker.smoke == MARKER.smoke  # only what had to go went
    if creates:
        assert len(platform.taken) == 1  # one create taken: one agent


def test_a_fit_that_would_give_up_the_record_of_stored_forms_fails_instead() -> None:
    """Without that record every later plan would show the platform's forms as changes."""
    from operator_iac.apply.steps import ResourceFailed

    needed = len(with_marker("Books appointments.", Marker(
        "acme", "booking", "0123456789ab", None, environment="staging",
        stored="aaaa.bbbb")))
    platform, writer = Platform(limit=needed - 5), Writer()
    with pytest.raises(ResourceFailed, match="too few to record") as failed:
        writer.send(BODY, platform.write)
    cut = int(str(failed.value).split("shorten the description by at least ")[1].split()[0])
    assert 1 <= cut <= 5  # the limit kept bounds the platform's from above: never too many
    assert writer.body is None  # nothing released: the run fails this agent


def test_a_refusal_no_marker_makes_go_away_stands_after_one_more_request() -> None:
    platform, writer = Platform(limit=10_000, closed=True), Writer()
    with pytest.raises(BadRequestError):
        writer.send(BODY, platform.write)
    assert platform.sent == 2 and writer.body is None
