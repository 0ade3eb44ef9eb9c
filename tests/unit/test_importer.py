"""Import without a platform: keys from names, remote revisions to agent files, YAML that the
project loader reads back exactly, which agents an import chooses, and the round trip through
the real loader and planner (the files declare exactly what the platform holds).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.api.models import Agent
from operator_iac.errors import OperationError, UsageError
from operator_iac.importing.convert import AgentDocument, to_document
from operator_iac.importing.keys import KeyCandidate, check_collisions, derive_key
from operator_iac.importing.selection import DeclaredAgent, select_agents
from operator_iac.importing.yaml_text import render_document
from operator_iac.plan.builder import build_plan
from operator_iac.plan.marker import Marker, with_marker
from operator_iac.plan.model import PlanOptions
from operator_iac.services.import_ import agent_files, write_files
from operator_iac.spec.loader import parse_yaml
from operator_iac.spec.project import load_project
from operator_iac.spec.resolve import resolve_project
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion, Snapshot

PROJECT = "acme-support"
API_URL = "http://127.0.0.1:9"
LONG_PROMPT = "\n".join(f"Rule {n}: answer politely and use @lookup_order for orders."
                        for n in range(12)) + "\n"

# ---- factories -------------------------------------------------------------------------------


def _talking_config(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "personas": [{"name": "Sam", "voice": {"provider": "operator", "id": "Male 1"}}],
        "voice": {"ambient_sound": None, "busy_sound": None, "boosted_keywords": []},
        "runtime": {"model": "openai/gpt-4o",
                    "prompt": {"type": "fixed", "text": "You help. Use @lookup_order."},
                    "variables": [{"name": "shop", "description": "Shop name",
                                   "default_value": "Acme"}]},
        "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}], "transfers": []},
        "language": {"default_language": "English", "supported_languages": ["English"]},
        "channel": {"is_voicemail_enabled": False, "is_sms_enabled": True},
    }
    config.update(changes)
    return config


def _procedural_config() -> dict[str, Any]:
    return {"filter_statuses": ["completed"], "filter_condition": None,
            "runtime": {"model": "openai/gpt-4o-mini", "reasoning_effort": "medium",
                        "prompt": {"type": "fixed", "text": "Summarise the call."}},
            "tool": {"tools": []},
            "output": {"output_schema": {"type": "object", "properties": {}},
                       "slack_channel": None, "post_url": None}}


def _remote(agent_id: str, name: str, config: dict[str, Any] | None = None, *,
            description: str = "Made in the dashboard.", postprocess: tuple[str, ...] = (),
            status: str = "released", history: tuple[str, ...] = ()) -> RemoteAgent:
    """A remote agent whose last revision has ``status``; ``history`` are descriptions of
    earlier (archived) revisions, for markers."""
    kind = "procedural_agent" if agent_id.startswith("pa_") else "conversational_agent"
    if config is None:
        config = _procedural_config() if kind == "procedural_agent" else _talking_config()
    number = len(history)
    versions = [RemoteVersion(f"{agent_id}@v{n}", n, "archived", name, text)
                for n, text in enumerate(history)]
    versions.append(RemoteVersion(f"{agent_id}@v{number}", number, status,  # type: ignore[arg-type]
                                  name, description))
    revision = RemoteRevision(f"{agent_id}@v{number}", status,  # type: ignore[arg-type]
                              name, description, copy.deepcopy(config), postprocess)
    return RemoteAgent(kind, agent_id, tuple(versions),  # type: ignore[arg-type]
                       released=revision if status == "released" else None,
                       draft=revision if status == "draft" else None)


def _source(agent: RemoteAgent) -> RemoteRevision:
    revision = agent.released or agent.draft
    assert revision is not None
    return revision


@pytest.fixture
def remote() -> Callable[..., RemoteAgent]:
    return _remote


@pytest.fixture
def document() -> Callable[..., AgentDocument]:
    """``to_document`` for a remote agent built by ``_remote``."""

    def make(agent: RemoteAgent, key: str = "support", keys: dict[str, str] | None = None
             ) -> AgentDocument:
        return to_document(agent.kind, _source(agent), key, keys or {})

    return make


@pytest.fixture
def selection_of() -> Callable[..., Any]:
    def select(agents: list[RemoteAgent], declared: dict[str, DeclaredAgent] | None = None,
               **kwargs: Any) -> Any:
        snapshot = Snapshot(API_URL, tuple(agents))
        revisions = {a.id: _source(a) for a in agents}
        return select_agents(snapshot, revisions, PROJECT, declared or {}, **kwargs)

    return select


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """An empty project: a project file and an agents directory."""
    (tmp_path / "operator-iac.yaml").write_text(
        f"project: {PROJECT}\nenvironments:\n  staging: {{}}\n", encoding="utf-8")
    (tmp_path / "agents").mkdir()
    return tmp_path


# ---- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("Appointment booking", "appointment-booking"),
    ("  Support Triage (EU) v2!  ", "support-triage-eu-v2"),
    ("Café Crème", "cafe-creme"),
    ("call_summary", "call-summary"),
    ("🤖🤖", "ca_abc123"),
    ("x" * 80, "x" * 64),
])
def test_keys_are_slugs_of_names(name: str, key: str) -> None:
    assert derive_key(name, "ca_ABC123") == key


def test_colliding_keys_are_refused_with_every_name_and_id() -> None:
    candidates = [KeyCandidate("ca_1", "Support Bot", "support-bot"),
                  KeyCandidate("ca_2", "support bot!", "support-bot"),
                  KeyCandidate("pa_3", "Summary", "summary")]
    with pytest.raises(UsageError) as caught:
        check_collisions(candidates)
    message = str(caught.value)
    assert "'support-bot'" in message
    assert "'Support Bot' (ca_1)" in message and "'support bot!' (ca_2)" in message
    assert "pa_3" not in message
    assert UsageError.exit_code == 3


# ---- from a revision to a file ---------------------------------------------------------------


def test_defaults_are_left_out_and_the_marker_stripped(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    marker = Marker("other-project", "support", "0123456789abcdef", None)
    agent = remote("ca_1", "Support", description=with_marker("Helps.", marker))
    data = document(agent).data
    assert data["description"] == "Helps."
    assert "voice" not in data["config"]  # every value in it was a default
    assert "transfers" not in data["config"]["tool"]
    assert "postprocess_agents" not in data
    assert "extra" not in data["config"]
    assert data["config"]["runtime"]["variables"] == [
        {"name": "shop", "description": "Shop name", "default_value": "Acme"}]


def test_unknown_fields_are_kept_under_extra(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    config = _talking_config(new_section={"enabled": True})
    config["runtime"]["temperature"] = 0.2
    config["personas"][0]["avatar"] = "sam.png"
    doc = document(remote("ca_1", "Support", config))
    extra = doc.data["config"]["extra"]
    assert extra["new_section"] == {"enabled": True}
    assert extra["runtime"] == {"temperature": 0.2}
    # A list is declared in one place: the item with an unknown field moves the whole list.
    assert extra["personas"] == config["personas"]
    assert "personas" not in doc.data["config"]
    assert doc.extra_paths == ("new_section", "personas", "runtime.temperature")


def test_values_the_strict_models_refuse_move_to_extra(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    config = _talking_config(channel={"is_voicemail_enabled": False, "is_sms_enabled": "yes"})
    config["personas"] = [{"name": "Sam", "voice": {"provider": "operator", "id": 1}},
                          {"name": "Kim", "voice": {"provider": "operator", "id": 2}}]
    doc = document(remote("ca_1", "Support", config))
    assert doc.data["config"]["channel"] == {"is_voicemail_enabled": False}
    assert doc.data["config"]["extra"] == {"channel": {"is_sms_enabled": "yes"},
                                           "personas": config["personas"]}


def test_a_revision_without_a_runtime_cannot_be_imported(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    config = _talking_config()
    del config["runtime"]
    with pytest.raises(OperationError, match=r"ca_1@v0 cannot be written.*config\.runtime"):
        document(remote("ca_1", "Support", config))


def test_references_become_keys(remote: Callable[..., RemoteAgent],
                                document: Callable[..., AgentDocument]) -> None:
    config = _talking_config(tool={"tools": [], "transfers": [{"id": "ca_2"},
                                                               {"entity_id": "+1555"}]})
    # Read as the platform's answer: the reading boundary reads the older spelling.
    config = Agent.model_validate({"version_id": "ca_1@v0", "config": config}).config
    agent = remote("ca_1", "Support", config, postprocess=("pa_9",))
    data = document(agent, keys={"ca_2": "billing", "pa_9": "call-summary"}).data
    assert data["postprocess_agents"] == ["call-summary"]
    assert data["config"]["tool"] == {"transfers": [{"entity_id": "agent:billing"},
                                                    {"entity_id": "+1555"}]}


def test_literal_substitution_syntax_is_escaped(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    config = _talking_config()
    config["runtime"]["prompt"]["text"] = "Say ${var:x} and $${y} literally."
    data = document(remote("ca_1", "Costs ${a}", config)).data
    assert data["name"] == "Costs $${a}"
    assert data["config"]["runtime"]["prompt"]["text"] == "Say $${var:x} and $$${y} literally."


def test_long_prompts_get_their_own_file(
        remote: Callable[..., RemoteAgent], document: Callable[..., AgentDocument]) -> None:
    config = _talking_config()
    config["runtime"]["prompt"]["text"] = LONG_PROMPT
    doc = document(remote("ca_1", "Support", config), key="support")
    assert doc.data["config"]["runtime"]["prompt"] == {"type": "fixed",
                                                       "file": "prompts/support.md"}
    assert doc.prompt_file == "prompts/support.md"
    assert doc.prompt_text == LONG_PROMPT
    short = document(remote("ca_2", "Support", _talking_config()))
    assert short.prompt_file is None
    assert short.data["config"]["runtime"]["prompt"]["text"] == "You help. Use @lookup_order."


# ---- YAML text -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "1e5", "0o17", "0x1F", "yes", "on", "null", "~", "true", "", " padded ", "a: b", "#hash",
    "- dash", "[x]", "{y}", "it's", 'say "hi"', "tab\there", "ünïcödé ✓", "@tool", "*star",
    "trailing spaces  \nsecond line", "two\nlines\n", "no final newline\nend", "+15550100",
])
def test_strings_read_back_exactly(value: str) -> None:
    data = {"kind": "conversational_agent", "name": value, "config": {"list": [value, "b"],
                                                                      "items": [{"v": value}]}}
    text = render_document(data)
    assert parse_yaml(text, Path("x.yaml")).data == data


def test_a_text_that_does_not_read_back_is_written_with_every_string_quoted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The last safeguard: when the styled text would not read back as the data, the file
    is written again with every scalar quoted, and that text reads back exactly."""
    from operator_iac.importing import yaml_text

    data = {"kind": "procedural_agent", "name": "1e5", "config": {
        "filter_statuses": ["completed"], "runtime": {"retries": 2, "strict": True,
                                                      "prompt": {"text": "a\nb\n"}}}}
    monkeypatch.setattr(yaml_text, "_section", lambda key, value, yaml: f"{key}: [\n")
    text = render_document(data, "Imported.")
    assert text.startswith('# Imported.\n"kind": "procedural_agent"\n')
    assert parse_yaml(text, Path("x.yaml")).data == data


def test_layout_reads_like_a_hand_written_file() -> None:
    data = {"kind": "procedural_agent", "name": "Summary", "config": {
        "filter_statuses": ["completed", "voicemail"],
        "runtime": {"model": "m", "prompt": {"type": "fixed", "text": "Line one.\nLine two.\n"}},
        "tool": {"tools": [{"ns": "acme", "name": "crm"}]}}}
    text = render_document(data, "Imported from pa_1@v0.")
    assert text.startswith("# Imported from pa_1@v0.\nkind: procedural_agent\nname: Summary\n\n"
                           "config:\n")
    assert "  filter_statuses: [completed, voicemail]\n" in text
    assert "      - {ns: acme, name: crm}\n" in text
    assert "      text: |\n        Line one.\n        Line two.\n" in text


# ---- choosing agents -------------------------------------------------------------------------


def test_all_skips_managed_declared_and_foreign_agents(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any]) -> None:
    ours = with_marker("Ours.", Marker(PROJECT, "billing", "0123456789abcdef", None))
    theirs = with_marker("Theirs.", Marker("other", "x", "0123456789abcdef", None))
    agents = [remote("ca_1", "Billing", description=ours),
              remote("ca_2", "Booking"),
              remote("ca_3", "Theirs", description=theirs),
              remote("ca_4", "New Bot")]
    declared = {"billing": DeclaredAgent("conversational_agent", "Billing"),
                "booking": DeclaredAgent("conversational_agent", "Booking")}
    selection = selection_of(agents, declared, everything=True)
    assert [(c.agent.id, c.key) for c in selection.chosen] == [("ca_4", "new-bot")]
    reasons = {s.agent_id: s.reason for s in selection.skipped}
    assert "managed by this project as 'billing'" in reasons["ca_1"]
    assert "already declared as 'booking'" in reasons["ca_2"]
    assert "managed by project other" in reasons["ca_3"]
    assert selection.keys_by_id == {"ca_1": "billing", "ca_2": "booking", "ca_4": "new-bot"}


def test_named_agents_bring_the_procedural_agents_they_run(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any]) -> None:
    agents = [remote("ca_1", "Support", postprocess=("pa_1",)), remote("pa_1", "Call summary"),
              remote("pa_2", "Unrelated")]
    selection = selection_of(agents, ids=("ca_1@v0",))
    chosen = {c.agent.id: c for c in selection.chosen}
    assert sorted(chosen) == ["ca_1", "pa_1"]
    assert chosen["pa_1"].key == "call-summary"
    assert "run by ca_1" in chosen["pa_1"].reason


def test_a_managed_agent_whose_file_was_lost_keeps_its_key(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any]) -> None:
    ours = with_marker("Ours.", Marker(PROJECT, "billing-v1", "0123456789abcdef", None))
    agent = remote("ca_1", "Billing", description="Edited in the dashboard.", history=(ours,))
    selection = selection_of([agent], ids=("ca_1",))
    assert [c.key for c in selection.chosen] == ["billing-v1"]
    skipped = selection_of([agent], everything=True).skipped
    assert "agent file is missing" in skipped[0].reason


def test_bad_requests_are_refused(remote: Callable[..., RemoteAgent],
                                  selection_of: Callable[..., Any]) -> None:
    theirs = with_marker("Theirs.", Marker("other", "x", "0123456789abcdef", None))
    agents = [remote("ca_1", "Support Bot"), remote("ca_2", "support bot!"),
              remote("ca_3", "Theirs", description=theirs),
              remote("ca_4", "Dangling", postprocess=("pa_gone",))]
    with pytest.raises(UsageError, match="no agent with id ca_404"):
        selection_of(agents, ids=("ca_404",))
    with pytest.raises(UsageError, match="managed by project other"):
        selection_of(agents, ids=("ca_3",))
    with pytest.raises(UsageError, match="same agent key"):
        selection_of(agents, ids=("ca_1", "ca_2"))
    with pytest.raises(UsageError, match="no agent pa_gone exists"):
        selection_of(agents, ids=("ca_4",))


def test_transfers_between_imported_agents_never_form_a_cycle(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any],
        tmp_path: Path) -> None:
    a = remote("ca_a", "Alpha", _talking_config(tool={"transfers": [{"entity_id": "ca_b"}]}))
    b = remote("ca_b", "Beta", _talking_config(tool={"transfers": [{"entity_id": "ca_a"},
                                                                    {"entity_id": "ca_b"}]}))
    imported = agent_files(selection_of([a, b], everything=True), tmp_path)
    texts = {agent.key: agent.files[0].text for agent in imported}
    assert "agent:beta" in texts["alpha"]
    assert "agent:alpha" not in texts["beta"] and "entity_id: ca_a" in texts["beta"]
    assert "entity_id: ca_b" in texts["beta"]  # a transfer to itself keeps the id


# ---- the round trip --------------------------------------------------------------------------


def test_imported_files_plan_as_adoptions_without_changes(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any],
        project_dir: Path) -> None:
    talking = _talking_config(extra_feature={"level": 2},
                              tool={"tools": [{"ns": "acme", "name": "lookup_order"}],
                                    "transfers": [{"entity_id": "ca_2"}]})
    talking["runtime"]["prompt"]["text"] = LONG_PROMPT + "Costs ${var:nope}; say $$ and 1e5.\n"
    agents = [remote("ca_1", "Support Triage", talking, postprocess=("pa_1",),
                     description="Front line.\n\n"),
              remote("ca_2", "Billing desk"),
              remote("pa_1", "Call summary", description="")]
    selection = selection_of(agents, everything=True)
    write_files(agent_files(selection, project_dir / "agents"))

    project = load_project(project_dir / "operator-iac.yaml")
    assert sorted(project.agents) == ["billing-desk", "call-summary", "support-triage"]
    assert (project_dir / "agents" / "prompts" / "support-triage.md").is_file()
    desired = resolve_project(project, "staging", {})
    plan = build_plan(desired, Snapshot(API_URL, tuple(agents)), project=PROJECT,
                      environment="staging", options=PlanOptions(adopt=True))
    assert {r.key: r.action for r in plan.resources} == dict.fromkeys(desired, "adopt")
    assert all(r.changes == () and r.prompt_diff is None and r.blocked is None
               for r in plan.resources), [r.changes for r in plan.resources]


def test_a_restored_file_goes_back_to_the_folder_that_declares_its_key(
        remote: Callable[..., RemoteAgent], selection_of: Callable[..., Any],
        tmp_path: Path) -> None:
    talking = _talking_config()
    talking["runtime"]["prompt"]["text"] = LONG_PROMPT
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "front-desk.yml").write_text("kind: conversational_agent\n")
    imported = agent_files(selection_of([remote("ca_1", "Front desk", talking)],
                                        everything=True), tmp_path)
    paths = [f.path for f in imported[0].files]
    assert paths == [tmp_path / "support" / "front-desk.yml",
                     tmp_path / "support" / "prompts" / "front-desk.md"]
