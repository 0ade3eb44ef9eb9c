"""Running the emulator: the ``operator-iac emulator`` command as a real process,
persistence across restarts with a database file, and in-process servers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from operator_iac.emulator.server import EmulatorServer, start_in_process
from operator_iac.errors import OperationError

from .emulator_process import headers, interrupt, launch


def test_command_serves_persists_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    process, url, announced = launch("--db", str(db), "--api-key", "op_test_custom")
    try:
        with httpx.Client(base_url=url, headers=headers("op_test_custom"), timeout=5) as api:
            created = api.post("/procedural_agents", json={"name": "kept", "description": "d",
                                                           "config": {}})
            assert created.status_code == 200
    finally:
        _, err = interrupt(process)
    assert process.returncode == 0
    assert f"export OPERATOR_IAC_API_URL={url}" in announced
    assert "export OPERATOR_API_KEY=op_test_custom" in announced
    assert "Then try: operator-iac init, then operator-iac plan" in announced
    assert "Emulator stopped." in err and "Traceback" not in err

    process, url, _ = launch("--db", str(db), "--api-key", "op_test_custom")
    try:
        with httpx.Client(base_url=url, headers=headers("op_test_custom"), timeout=5) as api:
            names = [a["name"] for a in api.get("/procedural_agents").json()["data"]]
    finally:
        interrupt(process)
    assert names == ["kept"]


def test_the_banner_gives_each_key_variable_of_the_project_an_account(tmp_path: Path) -> None:
    """Each environment's api_key_env gets a key of its own (environments that read one
    variable share it), named in the export lines with the environments that read it; each
    key opens a separate account. The random platform it plays is drawn from the seed."""
    from operator_iac.emulator.variations import draw

    (tmp_path / "agents").mkdir()
    (tmp_path / "operator-iac.yaml").write_text(
        "project: demo\nenvironments:\n  staging: {api_key_env: KEY_STAGING}\n"
        "  qa: {api_key_env: KEY_STAGING}\n  production: {}\n", encoding="utf-8")
    # A seed whose platform has no delays (the list below shows a new agent at once) and
    # answers where it is asked (the plain client below follows no redirect).
    seed = next(n for n in range(100)
                if not draw(n).delays and "slash_redirects" not in draw(n).modes)
    process, url, announced = launch("--compat", "random", "--seed", str(seed), cwd=tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=5) as api:
            faults = api.get("/_emulator/faults", headers=headers("op_test_staging")).json()
            api.post("/procedural_agents", headers=headers("op_test_staging"),
                     json={"name": "staging only", "description": "d", "config": {}})
            seen = {key: [a["name"] for a in api.get(
                "/procedural_agents", headers=headers(key)).json()["data"]]
                for key in ("op_test_staging", "op_test_production")}
            unknown = api.get("/procedural_agents", headers=headers("op_test_emulator"))
    finally:
        _, err = interrupt(process)
    drawn = draw(seed)
    assert faults["compat"] == list(drawn.modes) and faults.get("list_lag", 0) == 0
    assert f"Platform: random platform, seed {seed}: {drawn.modes[0]}" in err
    assert re.search(r"export KEY_STAGING=op_test_staging +# environment staging, qa\n",
                     announced)
    assert re.search(r"export OPERATOR_API_KEY=op_test_production +# environment production\n",
                     announced)
    assert "API keys:       op_test_staging, op_test_production (one account each)" in announced
    assert announced.rstrip().endswith("Then try: operator-iac plan --env staging")
    assert seen == {"op_test_staging": ["staging only"], "op_test_production": []}
    assert unknown.status_code == 401


def test_one_emulator_keeps_an_account_per_key_across_restarts(tmp_path: Path) -> None:
    """Several keys: separate agents, conversations and event streams per key (the stream
    and the chat session find their account by the conversation's token); with a database
    file, every account survives a restart whatever the order of the keys."""
    db = tmp_path / "state.sqlite"
    with EmulatorServer(api_key=["op_test_a", "op_test_b"], db=db) as server, \
            httpx.Client(base_url=server.url, timeout=5) as api:
        created = api.post("/procedural_agents", headers=headers("op_test_b"),
                           json={"name": "b's", "description": "d", "config": {}}).json()
        assert api.get(f"/procedural_agents/{created['id']}",
                       headers=headers("op_test_a")).status_code == 404
        ca = api.post("/conversational_agents", headers=headers("op_test_b"), json={
            "name": "c", "description": "d", "config": {}}).json()["id"]
        conversation = api.post("/conversations", headers=headers("op_test_b"), json={
            "agent_id": f"{ca}@v0", "channel": {"type": "chat_async"}}).json()
        with api.stream("GET", f"/conversations/{conversation['id']}/events",
                        params={"token": conversation["channel"]["token"]}) as stream:
            assert stream.status_code == 200
        assert server.account("op_test_b").conversations.exists(conversation["id"])
        assert not server.account("op_test_a").conversations.exists(conversation["id"])
    assert len(list(tmp_path.glob("state.*.sqlite"))) == 2
    with EmulatorServer(api_key=["op_test_b", "op_test_a"], db=db) as again, \
            httpx.Client(base_url=again.url, timeout=5) as api:
        names = {key: [a["name"] for a in api.get("/procedural_agents",
                                                  headers=headers(key)).json()["data"]]
                 for key in ("op_test_a", "op_test_b")}
    assert names == {"op_test_a": [], "op_test_b": ["b's"]}


@pytest.mark.parametrize(("args", "message"), [
    (["--compat", "bogus"], "unknown mode"),
    (["--error-rate", "2"], "error-rate"),
])
def test_command_rejects_bad_options(cli: Callable[..., Any], args: list[str],
                                     message: str) -> None:
    result = cli("emulator", *args)
    assert result.exit_code == 3
    assert message in result.stderr


def test_command_rejects_a_bad_rules_file(cli: Callable[..., Any], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{match: '('}]", encoding="utf-8")
    result = cli("emulator", "--rules", str(rules))
    assert result.exit_code == 3
    assert "invalid regular expression" in result.stderr


def test_state_and_unfinished_procedures_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    with EmulatorServer(db=db, procedure_step_s=0.01) as first:
        first.set_faults(procedure_outcome="hang")
        with httpx.Client(base_url=first.url, headers=headers(first.api_key), timeout=5) as api:
            pa = api.post("/procedural_agents", json={"name": "p", "description": "d",
                                                      "config": {}}).json()["id"]
            api.post(f"/procedural_agents/{pa}/release")
            ca = api.post("/conversational_agents", json={"name": "c", "description": "d",
                                                          "config": {}}).json()["id"]
            conversation = api.post("/conversations", json={
                "agent_id": f"{ca}@v0", "channel": {"type": "chat_async"}}).json()
            run = api.post("/procedures", json={"agent_id": pa,
                                                "conversation_id": conversation["id"]}).json()
            token = conversation["channel"]["token"]
    with EmulatorServer(db=db, procedure_step_s=0.01) as second, httpx.Client(
            base_url=second.url, headers=headers(second.api_key), timeout=5) as api:
        assert api.get(f"/conversational_agents/{ca}").json()["name"] == "c"
        deadline = time.monotonic() + 5
        while api.get(f"/procedures/{run['id']}").json()["status"] != "success":
            assert time.monotonic() < deadline, "the unfinished run was not resumed"
            time.sleep(0.01)
        events = f"/conversations/{conversation['id']}/events"
        with httpx.Client(base_url=second.url, timeout=5) as raw, raw.stream(
                "GET", events, params={"token": token}) as stream:
            assert stream.status_code == 200


def test_start_in_process_and_stop_twice() -> None:
    server = start_in_process(api_key="op_test_inproc")
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        assert server.ws_url == f"ws://127.0.0.1:{server.port}"
        assert "op_test_inproc" not in repr(server)
        with httpx.Client(base_url=server.url, headers=headers("op_test_inproc"),
                          timeout=5) as api:
            assert api.get("/conversational_agents").status_code == 200
    finally:
        server.stop()
    server.stop()
    with pytest.raises(RuntimeError):
        _ = server.state


def test_a_taken_port_is_an_operation_error(emulator: EmulatorServer) -> None:
    with pytest.raises(OperationError, match="cannot listen"):
        EmulatorServer(port=emulator.port).start()


def test_two_emulators_are_independent(emulator_factory: Callable[..., EmulatorServer]) -> None:
    one, two = emulator_factory(), emulator_factory(api_key="op_test_two")
    with httpx.Client(timeout=5) as raw:
        raw.post(f"{one.url}/procedural_agents", headers=headers(one.api_key),
                 json={"name": "only-here", "description": "d", "config": {}})
        listed = raw.get(f"{two.url}/procedural_agents", headers=headers("op_test_two"))
        assert listed.json()["data"] == []
        assert raw.get(f"{two.url}/procedural_agents",
                       headers=headers(one.api_key)).status_code == 401
