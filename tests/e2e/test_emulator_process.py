"""Running the emulator: the ``operator-iac emulator`` command as a real process,
persistence across restarts with a database file, and in-process servers."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from operator_iac.emulator.server import EmulatorServer, start_in_process
from operator_iac.errors import OperationError

VERSION = "2025-06-19"


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Operator-Version": VERSION}


def launch(*args: str, cwd: Path | None = None) -> tuple[subprocess.Popen[str], str, str]:
    """Start ``python -m operator_iac emulator`` (in ``cwd``, by default a folder with no
    project file); return it, the URL and the announcement."""
    process = subprocess.Popen(
        [sys.executable, "-m", "operator_iac", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd or Path("/"))
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    found = re.search(r"listening on (http://\S+)", lines[0])
    if found is None:
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"the emulator did not start: {lines[0]!r} {err!r}")
    while lines[-1] and not lines[-1].startswith("Then try:"):
        lines.append(process.stdout.readline())
    return process, found.group(1), "".join(lines)


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C, as a user would stop it."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    return out, err


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


def test_the_banner_names_the_variables_the_project_reads(tmp_path: Path) -> None:
    """Each environment's api_key_env, with the environment that reads it, and the next
    command to try; and the random platform it plays, drawn from the seed."""
    from operator_iac.emulator.variations import draw

    (tmp_path / "agents").mkdir()
    (tmp_path / "operator-iac.yaml").write_text(
        "project: demo\nenvironments:\n  staging: {api_key_env: KEY_STAGING}\n"
        "  qa: {api_key_env: KEY_STAGING}\n  production: {}\n", encoding="utf-8")
    process, url, announced = launch("--compat", "random", "--seed", "7", cwd=tmp_path)
    try:
        with httpx.Client(base_url=url, headers=headers("op_test_emulator"), timeout=5) as api:
            faults = api.get("/_emulator/faults").json()
    finally:
        _, err = interrupt(process)
    drawn = draw(7)
    assert faults["compat"] == list(drawn.modes)
    assert faults["list_lag"] == drawn.delays.get("list_lag", 0.0)
    assert f"Platform: random platform, seed 7: {drawn.modes[0]}" in err
    assert re.search(r"export KEY_STAGING=op_test_emulator +# environment staging, qa\n",
                     announced)
    assert re.search(r"export OPERATOR_API_KEY=op_test_emulator +# environment production\n",
                     announced)
    assert announced.rstrip().endswith("Then try: operator-iac plan --env staging")


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
