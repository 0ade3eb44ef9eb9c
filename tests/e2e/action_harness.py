"""Running the steps of ``action.yml`` here as GitHub's runner would: each ``run`` step's
script under bash, with its ``env`` mapping evaluated from the step's inputs (the inputs'
defaults filled in), a ``GITHUB_OUTPUT`` file read back as the step's outputs, and
``RUNNER_TEMP`` in a temporary folder.

Only the expressions the action uses are evaluated (``inputs.NAME``, ``github.action_path``,
``github.token``, ``github.event.pull_request.number``, ``steps.ID.outputs.NAME`` and the
comment key's ``||``/``format``); anything else fails the test, so the harness cannot drift
quietly from the action.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION_FILE = REPO / "action.yml"
ACTION_NAMES = ("operator-xyz/operator-iac", "./")
_EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$")


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
    return action


def is_action_step(step: Mapping[str, Any]) -> bool:
    uses = str(step.get("uses", ""))
    return uses == "./" or uses.split("@")[0] in ACTION_NAMES


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRunner:
    """Runs steps of the action with ``inputs`` (as ``with:`` gives them)."""

    inputs: Mapping[str, Any]
    temp: Path
    cwd: Path
    environ: Mapping[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    pull_request: int | None = None
    action: dict[str, Any] = field(default_factory=load_action)

    def input(self, name: str) -> str:
        declared = self.action["inputs"]
        assert name in declared, f"the action has no input {name!r}"
        value = self.inputs.get(name, declared[name].get("default", ""))
        if isinstance(value, bool):
            return "true" if value else "false"
        return self.evaluate(str(value))  # a default may be an expression

    def step(self, step_id_or_name: str) -> dict[str, Any]:
        for step in self.action["runs"]["steps"]:
            if step_id_or_name in (step.get("id"), step.get("name")):
                return dict(step)
        raise AssertionError(f"the action has no step {step_id_or_name!r}")

    def run(self, step_id_or_name: str) -> StepRun:
        """Run one ``run`` step; its outputs are kept for the steps after it."""
        step = self.step(step_id_or_name)
        assert step.get("shell") == "bash", step
        env = {**os.environ, **self.environ, "RUNNER_TEMP": str(self.temp),
               **{k: self.evaluate(str(v)) for k, v in step.get("env", {}).items()}}
        handle, name = tempfile.mkstemp(prefix="output-", dir=self.temp)
        os.close(handle)
        output_file = Path(name)
        env["GITHUB_OUTPUT"] = str(output_file)
        cwd = self.cwd / self.evaluate(str(step.get("working-directory", ".")))
        done = subprocess.run(["bash", "-c", step["run"]], cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=120, check=False)
        outputs = dict(line.split("=", 1) for line in
                       output_file.read_text(encoding="utf-8").splitlines() if "=" in line)
        if "id" in step:
            self.outputs[step["id"]] = outputs
        return StepRun(done.returncode, done.stdout, done.stderr, outputs)

    def evaluate(self, text: str) -> str:
        found = _EXPRESSION.match(text)
        if found is None:
            assert "${{" not in text, f"unsupported expression in {text!r}"
            return text
        return self._value(found.group(1))

    def _value(self, expression: str) -> str:
        if expression == "github.action_path":
            return str(REPO)
        if expression == "github.token":
            return "ghs_harness_token"
        if expression == "github.event.pull_request.number":
            return "" if self.pull_request is None else str(self.pull_request)
        if " || " in expression:
            first, _, rest = expression.partition(" || ")
            return self._value(first) or self._value(rest)
        if expression.startswith("inputs."):
            return self.input(expression.removeprefix("inputs."))
        if expression.startswith("steps."):
            step_id, _, name = expression.removeprefix("steps.").partition(".outputs.")
            return self.outputs.get(step_id, {}).get(name, "")
        formatted = re.fullmatch(r"format\('\{0\} \{1\}', (\S+), (\S+)\)", expression)
        if formatted:
            return f"{self._value(formatted.group(1))} {self._value(formatted.group(2))}"
        raise AssertionError(f"the harness does not evaluate {expression!r}")


def fake_cli(bin_dir: Path, record: Path) -> Path:
    """An ``operator-iac`` that records its arguments (NUL-separated) and does nothing."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    fake = bin_dir / "operator-iac"
    fake.write_text(f"#!/usr/bin/env bash\nprintf '%s\\0' \"$@\" > {record}\n", encoding="utf-8")
    fake.chmod(0o755)
    return fake


def invocation_of(step: Mapping[str, Any], temp: Path) -> list[str]:
    """The arguments the action's run step gives operator-iac for a workflow step that uses
    the action (found by running the step against a recording ``operator-iac``)."""
    temp.mkdir(parents=True, exist_ok=True)
    record = temp / "args"
    fake_cli(temp / "bin", record)
    runner = ActionRunner(step.get("with", {}), temp, temp,
                          {"PATH": f"{temp / 'bin'}{os.pathsep}{os.environ['PATH']}"})
    result = runner.run("run")
    assert result.code == 0, result.stdout + result.stderr
    return record.read_text(encoding="utf-8").split("\0")[:-1]
