"""``doctor --write-check``: what a platform does with what is written to it, learnt before
the first apply, on one temporary agent.

::

    POST   a conversational agent, clearly named and described as temporary, whose content
           shows each stored form (trailing whitespace, an undated model alias, an unsorted
           list, decomposed Unicode, an empty string, markup and quotes, false values)
    GET    @v0 (again until a read by id finds it): what was stored, compared with what
           was written
    GET    the agents list until it shows the agent, the versions list until it shows v0
    POST   release v0, then the versions list until it shows v0 released
    POST   release v0 again (200, or 409 "already released"); the versions list shows
           whether a release opens a draft of its own
    PUT    a new draft, then the versions list until it shows it
           one testmode conversation (services.doctor_session), with the draft first
    DELETE the agent (in a ``finally``, also on Ctrl-C; a create whose answer was lost is
           first looked for in the agents list), then the list until it is gone

Every delay is measured against a bound; what the platform changed and how late its lists
were is reported under the variations of the registry.
"""

from __future__ import annotations

import html
import secrets
import time
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from operator_iac.errors import AmbiguousWriteError, BadRequestError, OperatorIacError
from operator_iac.plan.marker import unescaped, without_backslash_escapes
from operator_iac.services.doctor import Catalog
from operator_iac.state.platform_report import Findings

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Agent
    from operator_iac.api.resources import AgentsResource
    from operator_iac.services.feedback import Say

NAME_PREFIX = "operator-iac doctor write check"
MARKDOWN = "[*Markdown* _kept_]"
DESCRIPTION = (f"Temporary agent of operator-iac doctor --write-check {MARKDOWN}, deleted when "
               "the check ends; safe to delete.  \n")
# The draft's description: long enough that a platform's limit on descriptions shows.
LONG_DESCRIPTION = (DESCRIPTION + "A draft whose description is long, to learn whether the "
                    "platform keeps every character of it. " * 40)[:2000]
MODEL = "openai/gpt-4o"
KEYWORDS = ["zeta", "alpha", "mid"]
DECOMPOSED = unicodedata.normalize("NFD", "Café")
MARKUP = "\"Q&A\" <b>'n'</b>"
CHANNEL = {"is_voicemail_enabled": False, "is_sms_enabled": False}
LAG_LIMIT_S = 30.0
POLL_S = 0.25


def temporary_config() -> dict[str, Any]:
    """The temporary agent's config: a short agent that answers, with one value of each
    kind a platform may store in another form."""
    return {
        "personas": [{"name": "Doctor"}],
        "voice": {"boosted_keywords": list(KEYWORDS)},
        "runtime": {"model": MODEL,
                    "prompt": {"type": "fixed",
                               "text": f"{DECOMPOSED}: answer {MARKUP} in one short "
                                       "sentence."},
                    "variables": [{"name": "topic", "description": "",
                                   "default_value": "a connection check"}]},
        "channel": dict(CHANNEL),
    }


def write_check(client: OperatorClient, found: Findings, *, wait_s: float, say: Say,
                lag_limit_s: float = LAG_LIMIT_S) -> None:
    """Write, read back, release and delete one temporary agent, holding one testmode
    conversation with it (see the module docstring)."""
    agents = client.conversational_agents
    name = f"{NAME_PREFIX} {secrets.token_hex(4)}"
    say(f"Writing a temporary agent ({name}) ...")
    agent_id: str | None = None
    patience = 0.0  # how long the agents list may take to show a create whose answer was lost
    try:
        agent_id = agents.create(name, DESCRIPTION, temporary_config()).id
        _WriteProbe(client, agent_id, found, wait_s, say, lag_limit_s).run()
        found.check("write check", "ok", "a temporary agent was written, read back, released, "
                    "talked to and deleted")
    except AmbiguousWriteError as exc:
        found.check("write check", "failed", str(exc))
        patience = lag_limit_s
    except OperatorIacError as exc:
        found.check("write check", "failed", str(exc))
    finally:
        _delete(agents, agent_id or _find(agents, name, patience), found, lag_limit_s)


class _WriteProbe:
    """The checks on the temporary agent, in order."""

    def __init__(self, client: OperatorClient, agent_id: str, found: Findings, wait_s: float,
                 say: Say, lag_limit_s: float) -> None:
        self.client, self.agents, self.agent_id = client, client.conversational_agents, agent_id
        self.found, self.wait_s, self.say, self.limit = found, wait_s, say, lag_limit_s
        self.versions_lag = 0.0

    def run(self) -> None:
        from operator_iac.services.doctor_session import check_conversation

        found = _wait(lambda: self._found(f"{self.agent_id}@v0"), self.limit)
        self.found.saw("read_consistency", _lag_text(found, self.limit), found == 0.0)
        written = self.agents.get(f"{self.agent_id}@v0")
        self._stored_forms(written)
        listed = _wait(lambda: any(s.id == self.agent_id for s in self.agents.list()),
                       self.limit)
        self.found.saw("list_consistency", _lag_text(listed, self.limit), listed == 0.0)
        self._versions_show(lambda statuses: 0 in statuses)
        made = next((v.status for v in self.agents.list_versions(self.agent_id)
                     if v.number == 0), None)
        self.found.saw("create_status", f"v0 {made or 'of unknown status'} after its create",
                       made != "released")
        # The lists were read: what the reading had to adapt to is noted (the alternative).
        for key, usual in (("list_descriptions", "every item carries one"),
                           ("extra_fields", "none"), ("version_status", "version_status")):
            self.found.saw(key, usual, True)
        self.agents.release(f"{self.agent_id}@v0")
        self._versions_show(lambda statuses: statuses.get(0) == "released")
        self._release_again()
        opened = [v.version_id for v in self.agents.list_versions(self.agent_id)
                  if v.status == "draft"]
        self.found.saw("draft_after_release", f"the release opened draft {opened[0]}" if opened
                       else "no draft until the next write", not opened)
        try:
            draft = self.agents.update(self.agent_id, description=LONG_DESCRIPTION)
            refused = False
        except BadRequestError:
            draft = self.agents.update(self.agent_id, description=DESCRIPTION + "A draft.")
            refused = True
        self._versions_show(lambda statuses: 1 in statuses)
        self.found.saw("versions_consistency", _lag_text(self.versions_lag, self.limit),
                       self.versions_lag == 0.0)
        self.say("Talking to the temporary agent in a testmode conversation ...")
        draft_id = draft.version_id or f"{self.agent_id}@v1"
        revisions = {f"{self.agent_id}@v0": written, draft_id: self.agents.get(draft_id)}
        self._description_limit(revisions[draft_id], refused)
        check_conversation(self.client, Catalog({}, {self.agent_id: self.agents.list_versions(
            self.agent_id)}, revisions), self.found, wait_s=self.wait_s)

    def _description_limit(self, draft: Agent, refused: bool) -> None:
        if refused:
            self.found.saw("description_limit", f"a description of {len(LONG_DESCRIPTION)} "
                           "characters refused", False)
            return
        kept = len(unescaped(draft.description).rstrip())
        whole = kept >= len(LONG_DESCRIPTION.rstrip())
        self.found.saw("description_limit", f"kept all {len(LONG_DESCRIPTION)} characters"
                       if whole else f"kept {kept} of {len(LONG_DESCRIPTION)} characters",
                       whole)

    def _found(self, version_id: str) -> bool:
        """Whether a read of ``version_id`` by its id finds it (reads may trail writes)."""
        from operator_iac.errors import NotFoundError

        try:
            self.agents.get(version_id, patient=False)
        except NotFoundError:
            return False
        return True

    def _stored_forms(self, stored: Agent) -> None:
        runtime = stored.config.get("runtime") or {}
        model = runtime.get("model")
        self.found.saw("model_snapshots", f"{MODEL} stored as {model}", model == MODEL)
        kept = stored.description[-4:] == DESCRIPTION[-4:]
        self.found.saw("stored_text", "byte-exact" if kept else
                       f"written {DESCRIPTION[-4:]!r} at the end, stored "
                       f"{stored.description[-4:]!r}", kept)
        keywords = (stored.config.get("voice") or {}).get("boosted_keywords")
        self.found.saw("list_order", f"{KEYWORDS} stored as {keywords}", keywords == KEYWORDS)
        text = str((runtime.get("prompt") or {}).get("text", ""))
        decomposed = DECOMPOSED in text
        self.found.saw("unicode", "kept as written" if decomposed else
                       "NFC-normalised" if unicodedata.is_normalized("NFC", text) else
                       "changed", decomposed)
        variables = runtime.get("variables") or [{}]
        empty = variables[0].get("description", "(left out)") if variables else "(left out)"
        self.found.saw("empty_strings", f"an empty string read back as {empty!r}", empty == "")
        self.found.saw("markup_in_text", "kept as written" if MARKUP in text else
                       "stored as HTML entities" if MARKUP in html.unescape(text) else
                       "changed", MARKUP in text)
        markdown = MARKDOWN in stored.description
        self.found.saw("markdown_descriptions", "kept as written" if markdown else
                       "stored with Markdown's backslash escapes"
                       if MARKDOWN in without_backslash_escapes(stored.description) else
                       "changed", markdown)
        channel = stored.config.get("channel")
        self.found.saw("zero_values", "returned as they are" if channel == CHANNEL else
                       f"a channel of false values read back as {channel!r}" if channel else
                       "a channel of false values left out", channel == CHANNEL)

    def _versions_show(self, wanted: Callable[[dict[int, str]], bool]) -> None:
        def statuses() -> dict[int, str]:
            return {v.number: v.status or "" for v in self.agents.list_versions(self.agent_id)
                    if v.number is not None}

        took = _wait(lambda: wanted(statuses()), self.limit)
        self.versions_lag = max(self.versions_lag, took)

    def _release_again(self) -> None:
        from operator_iac.api.probe import raw

        answer = raw(self.client, "POST", f"/conversational_agents/{self.agent_id}@v0/release")
        self.found.saw("release_conflict", f"HTTP {answer.status}", answer.status < 300)
        self._write_released()

    def _write_released(self) -> None:
        """A write to the released ``v0``: refused, with which status."""
        from operator_iac.errors import ApiError

        try:
            self.agents.update(f"{self.agent_id}@v0", description=DESCRIPTION)
        except ApiError as exc:
            self.found.saw("immutable_write", f"HTTP {exc.status}", exc.status == 409)
            return
        self.found.saw("immutable_write", "accepted", False)


def _wait(done: Callable[[], bool], limit: float) -> float:
    """Seconds until ``done`` held (0.0: at the first look), or ``limit`` if it never did."""
    started = time.monotonic()
    if done():
        return 0.0
    while time.monotonic() - started < limit:
        time.sleep(POLL_S)
        if done():
            return time.monotonic() - started
    return limit


def _lag_text(took: float, limit: float) -> str:
    if took == 0.0:
        return "at once"
    return f"not within {limit:g}s" if took >= limit else f"after {took:.1f}s"


def _find(agents: AgentsResource, name: str, patience: float) -> str | None:
    """The temporary agent's id when its create was interrupted before the answer came,
    looked for in the agents list for up to ``patience`` seconds (a list may show a new
    agent late)."""
    named: list[str] = []

    def listed() -> bool:
        named.extend(s.id for s in agents.list() if s.name == name)
        return bool(named)

    try:
        _wait(listed, patience)
    except OperatorIacError:
        return None
    return named[0] if named else None


def _delete(agents: AgentsResource, agent_id: str | None, found: Findings,
            limit: float) -> None:
    if agent_id is None:
        return
    try:
        agents.delete(agent_id)
    except OperatorIacError as exc:
        found.check("temporary agent deleted", "failed", f"{agent_id}: {exc}; delete it by "
                    "hand")
        return
    found.check("temporary agent deleted", "ok", agent_id)
    gone = _wait(lambda: all(s.id != agent_id for s in agents.list()), limit)
    if gone:  # a late list after a delete is the same lag as after a create
        found.saw("list_consistency", f"a delete shows {_lag_text(gone, limit)}", False)
