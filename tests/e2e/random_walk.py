"""Random sequences of real-life operations on a randomised platform, through the real CLI,
with the README's promises checked after every step.

Where ``random_life`` plays one life in a fixed order, a walk draws each next step from what
happens to a project: a change to a prompt, a plan or a status in review, an apply, a model
changed and released in the dashboard, an agent deleted in the dashboard, a rollback, a
promotion to production, two applies at once (one of them killed half-way, at times), an
apply killed half-way, a saved plan applied as saved or refused as stale, an agent added or
removed, a change to settings other than the prompt (the model, the languages, whose order a
platform may keep its own way, SMS), what staging holds for an agent pulled into the files,
a smoke run of what staging released, a value of staging's ``vars`` changed, a promotion
killed half-way.
Applies and promotions prune, as the example workflows do. After every step it checks what
the README promises:

- one agent per key, on every platform, whatever happened before;
- no command speaks of a conflict nobody caused;
- after an apply that succeeded, the plan is empty (``plan --detailed-exitcode`` exits 0);
- ``plan --detailed-exitcode`` and ``status`` exit 2 when the platform differs from the
  declarations, and 0 when it does not.

Self-contained (operator-iac, ``random_life`` and the standard library), so that the suite
walks a seed and ``tests/bench/bench_random_walks.py`` walks many. ``walk`` returns the first
step that went wrong, with what the command said, rather than raising.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.variations import STORED, VARIATIONS
from operator_iac.plan.marker import parse_marker
from operator_iac.settings import CACHE_DIR_VARIABLE
from operator_iac.smoke.evidence import release_evidence

from .random_life import (
    FALSE_CONFLICTS,
    KEYS,
    PROJECT,
    Life,
    StepFailed,
    _edit_in_dashboard,
    _expect,
    _one_agent_per_key,
    _owned,
    adapt_project,
    settle,
)

CHAT_KEYS = ("appointment-booking", "support-triage")
NON_CHAT_KEYS = ("call-summary", "lead-qualification")
# What a release script runs to promote staging to production (pruning, as the examples do).
PROMOTION = ("promote", "--from", "staging", "--to", "production", "--prune", "--allow-delete",
             "--yes")
# The platforms' ways of storing a value in a form of their own (``plan.stored``).
STORED_FORM_MODES = frozenset(alternative.mode for variation in VARIATIONS
                              if variation.group == STORED
                              for alternative in variation.alternatives)
# One step of a walk: what it does to the project or the platforms, and the checks after it.
Step = Callable[[Life, OperatorClient, OperatorClient, "Expected", random.Random, str], None]


@dataclass
class Expected:
    """What the walk knows of the platforms, to say what a command must answer."""

    # The staging platform differs from the declarations (a local change not applied, a
    # dashboard edit, a deletion); None: it may or may not (after a rollback).
    staging_differs: bool | None = True
    # Production holds what staging held at the last promotion (False before any).
    promoted: bool = False
    edits: int = 0
    said: list[str] = field(default_factory=list)
    # The keys declared now: the example's, and the agents the walk added and not removed.
    keys: list[str] = field(default_factory=lambda: list(KEYS))
    added: int = 0


def walk(life: Life, steps: int, kinds: tuple[Step, ...] | None = None) -> str | None:
    """``steps`` operations drawn from ``life.seed`` (among ``kinds``, default every kind of
    step) on ``life``'s platforms; None, or what went wrong first."""
    life.play()
    adapt_project(life.root, life.drawn.modes)
    draw = random.Random(life.seed)
    expected = Expected()
    try:
        with OperatorClient(life.staging.url, life.staging.api_key) as staging, \
                OperatorClient(life.production.url, life.production.api_key) as production:
            _apply(life, staging, expected, "first apply")
            for number in range(1, steps + 1):
                step = draw.choice(kinds or STEPS)
                step(life, staging, production, expected, draw, f"step {number} ({step.__name__})")
    except StepFailed as exc:
        return f"{exc}\n     steps: {' > '.join(expected.said)}"
    return None


# ---- the steps -------------------------------------------------------------------------------


def edit(life: Life, staging: OperatorClient, production: OperatorClient,
         expected: Expected, draw: random.Random, step: str) -> None:
    """A pull request changes one agent's prompt."""
    key = draw.choice(CHAT_KEYS)
    expected.edits += 1
    _change_prompt(life.root, key, f"change {expected.edits}")
    expected.said.append(f"edit {key}")
    expected.staging_differs = True


def _carries(text: str, label: str) -> bool:
    """Whether a prompt holds the change ``_change_prompt`` named ``label``."""
    return f"{label.capitalize()} of the walk." in text or f"({label}) You are" in text


def _change_prompt(root: Path, key: str, label: str) -> None:
    """Change ``key``'s prompt in the checkout at ``root``, naming the change ``label``."""
    prompt = root / "agents" / "prompts" / f"{key}.md"
    if prompt.exists():
        text = prompt.read_text(encoding="utf-8")
        prompt.write_text(f"{text}{label.capitalize()} of the walk.\n", encoding="utf-8")
    else:
        path = root / "agents" / f"{key}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("You are", f"({label}) You are", 1), encoding="utf-8")


def review(life: Life, staging: OperatorClient, production: OperatorClient,
           expected: Expected, draw: random.Random, step: str) -> None:
    """A reviewer reads the plan, or the status."""
    command = draw.choice(("plan", "status"))
    expected.said.append(command)
    args = ("plan", "--env", "staging", "--prune", "--detailed-exitcode") \
        if command == "plan" else \
        ("status", "--env", "staging")
    if expected.staging_differs is None:
        expected.staging_differs = _exit_code(life, step, args) == 2
        return
    life.run(step, *args, expect=2 if expected.staging_differs else 0)


def apply(life: Life, staging: OperatorClient, production: OperatorClient,
          expected: Expected, draw: random.Random, step: str) -> None:
    """The pull request is merged: apply, then the plan is empty."""
    _apply(life, staging, expected, step)


def dashboard_edit(life: Life, staging: OperatorClient, production: OperatorClient,
                   expected: Expected, draw: random.Random, step: str) -> None:
    """Someone changes an agent's model in the dashboard and releases it."""
    _in_dashboard(life, staging, expected, draw, "edit", _change_model_in_dashboard)


def _change_model_in_dashboard(client: OperatorClient, agent_id: str) -> None:
    """The model changed to another than the agent has (an edit to the model it already
    runs, after a pull took it into the files, would change nothing), and released."""
    current = client.conversational_agents.get(agent_id)
    model = str(current.config.get("runtime", {}).get("model", ""))
    other = "openai/gpt-4.1-mini" if model.startswith("openai/gpt-4.1") and \
        not model.startswith("openai/gpt-4.1-mini") else "openai/gpt-4.1"
    _edit_in_dashboard(client, agent_id, other)


def dashboard_delete(life: Life, staging: OperatorClient, production: OperatorClient,
                     expected: Expected, draw: random.Random, step: str) -> None:
    """Someone deletes a chat agent in the dashboard."""
    _in_dashboard(life, staging, expected, draw, "delete",
                  lambda client, agent_id: client.conversational_agents.delete(agent_id))


def _in_dashboard(life: Life, staging: OperatorClient, expected: Expected,
                  draw: random.Random, what: str,
                  act: Callable[[OperatorClient, str], object]) -> None:
    """``act`` on a chat agent drawn, unless it was deleted in the dashboard before."""
    key = draw.choice(CHAT_KEYS)
    owned = _owned(staging).get(key)
    if owned is None:
        return
    expected.said.append(f"dashboard {what} {key}")
    act(staging, owned)
    settle(life.staging)
    expected.staging_differs = True


def rollback(life: Life, staging: OperatorClient, production: OperatorClient,
             expected: Expected, draw: random.Random, step: str) -> None:
    """An agent's release is rolled back, when it has one to go back to."""
    key = draw.choice(CHAT_KEYS)
    owned = _owned(staging).get(key)
    versions = staging.conversational_agents.list_versions(owned) if owned else []
    now = next((v.number for v in versions if v.status == "released"), None)
    if now is None or not any(v.status == "archived" and (v.number or 0) < now
                              for v in versions):
        return  # nothing released before the current release
    expected.said.append(f"rollback {key}")
    life.run(step, "rollback", key, "--env", "staging", "--yes")
    expected.staging_differs = None  # the revision before may be the declared one


def promote(life: Life, staging: OperatorClient, production: OperatorClient,
            expected: Expected, draw: random.Random, step: str) -> None:
    """What passed on staging goes to production (after an apply, as a release script
    does)."""
    _apply(life, staging, expected, f"{step}: apply before promoting")
    expected.said.append("promote")
    code, said = _said(life, step, *PROMOTION)
    if code == 5 and _refused_for_unrecorded_releases(step, staging, said):
        return  # documented: a release without smoke records keeps no verdict (see below)
    if code == 5 and _refused_for_stray_drafts(step, staging, said):
        # Documented: staging holds a change applied there but never released (the loser of
        # two different changes applied at once). The way out the refusal names, then again.
        life.run(f"{step}: discard the drafts", "apply", "--env", "staging", "--prune",
                 "--discard-drafts", "--yes")
        code, said = _said(life, f"{step}: promote again", *PROMOTION)
        if code == 5 and _refused_for_unrecorded_releases(step, staging, said):
            return  # documented, as above: the draft was in the way of saying it first
    _expect(step, code == 0 and not FALSE_CONFLICTS.search(said), f"{said}\nexit {code}")
    life.run(f"{step}: plan production", "plan", "--env", "production", "--prune",
             "--detailed-exitcode")
    settle(life.staging, life.production)
    _one_agent_per_key(step, production, tuple(expected.keys))
    expected.promoted = True


def race(life: Life, staging: OperatorClient, production: OperatorClient,
         expected: Expected, draw: random.Random, step: str) -> None:
    """Two pipelines apply the same commit at once (docs/apply.md): creates of the same
    content converge; two writes of one draft may leave one run a conflict (exit 5, nothing
    released in its name). Never exit 1, at least one run succeeds, one agent per key."""
    expected.said.append("two applies at once")
    runs = [_apply_process(life) for _ in range(2)]
    codes, outputs = [], []
    for run in runs:
        out, err = run.communicate(timeout=600)
        said = out + err
        outputs.append(said)
        found = FALSE_CONFLICTS.search(said) if run.returncode == 0 else None
        _expect(step, run.returncode in (0, 5) and not found and "Traceback" not in said,
                "\n".join(line for line in said.splitlines() if "error" in line.lower() or
                          "not applied" in line or "FAILED" in line or "CONFLICT" in line
                          or "could not be recorded" in line) +
                f"\nexit {run.returncode}" + (f", said {found.group(0)!r}" if found else ""))
        codes.append(run.returncode)
    _expect(step, 0 in codes, "\n---\n".join(outputs) + f"\nneither apply succeeded: {codes}",
            lines=80)
    settle(life.staging)
    _one_agent_per_key(step, staging, tuple(expected.keys))
    life.run(f"{step}: plan after them", "plan", "--env", "staging", "--prune",
             "--detailed-exitcode")
    expected.staging_differs = False


def race_killed(life: Life, staging: OperatorClient, production: OperatorClient,
                expected: Expected, draw: random.Random, step: str) -> None:
    """Two pipelines apply the same commit at once and one runner dies half-way (SIGKILL):
    the other exits 0 or 5, never 1, and an exit 0 means the change is done, whatever the
    dead run left (its write of the same content over this run's, say, which this run
    waits for and then finishes: docs/apply.md); the next apply finishes the rest."""
    delay = draw.uniform(0.5, 5.0)
    victim = draw.randrange(2)
    expected.said.append(f"two applies at once, one killed after {delay:.1f}s")
    runs = [_apply_process(life) for _ in range(2)]
    _killed_after(runs[victim], delay)
    survivor = runs[1 - victim]
    out, err = survivor.communicate(timeout=900)
    said = out + err
    found = FALSE_CONFLICTS.search(said) if survivor.returncode == 0 else None
    _expect(step, survivor.returncode in (0, 5) and not found and "Traceback" not in said,
            f"{said}\nexit {survivor.returncode}" + (f", said {found.group(0)!r}" if found
                                                      else ""))
    if survivor.returncode == 0:
        code = _exit_code(life, f"{step}: plan after the survivor", (
            "plan", "--env", "staging", "--prune", "--detailed-exitcode"))
        _expect(step, code == 0, f"{said}\nthe apply that lived exited 0, and the plan "
                "after it still has changes")
    _apply(life, staging, expected, f"{step}: the next apply")


def rivals(life: Life, staging: OperatorClient, production: OperatorClient,
           expected: Expected, draw: random.Random, step: str) -> None:
    """Two pull requests change one agent's prompt differently and both are merged at once
    (docs/apply.md): each apply exits 0 or 5, never 1, and what is released is a change
    whose apply exited 0 (the one that lost releases nothing in its name), or neither."""
    key = draw.choice(CHAT_KEYS)
    expected.edits += 1
    with tempfile.TemporaryDirectory(prefix="rival-") as folder:
        rival_root = Path(folder) / "project"
        shutil.copytree(life.root, rival_root, ignore=shutil.ignore_patterns(".operator-iac"))
        _rivals(life, staging, expected, step, key, rival_root)


def _rivals(life: Life, staging: OperatorClient, expected: Expected, step: str, key: str,
            rival_root: Path) -> None:
    ours, theirs = f"change {expected.edits}", f"rival change {expected.edits}"
    _change_prompt(life.root, key, ours)
    _change_prompt(rival_root, key, theirs)
    expected.said.append(f"two different changes of {key} applied at once")
    codes: dict[str, int] = {}
    said: dict[str, str] = {}
    for name, run in (("ours", _apply_process(life)), ("theirs", _apply_process(life,
                                                                            rival_root))):
        out, err = run.communicate(timeout=600)
        said[name] = out + err
        found = FALSE_CONFLICTS.search(said[name]) if run.returncode == 0 else None
        _expect(step, run.returncode in (0, 5) and not found and "Traceback" not in said[name],
                f"{name}: {said[name]}\nexit {run.returncode}" +
                (f", said {found.group(0)!r}" if found else ""))
        codes[name] = run.returncode
    settle(life.staging)
    _one_agent_per_key(step, staging, tuple(expected.keys))
    owned = _owned(staging)[key]
    released = next(v for v in staging.conversational_agents.list_versions(owned)
                    if v.status == "released")
    text = str(staging.conversational_agents.get(released.version_id).config)
    winner = "theirs" if _carries(text, theirs) else "ours" if _carries(text, ours) else None
    # Per key: the other agents' pending changes (the same in both checkouts) may leave
    # either run a conflict of its own, as any two applies at once (docs/apply.md).
    outcome = {name: re.search(rf"^  {re.escape(key)}: (\S+)", text_said, re.MULTILINE)
               for name, text_said in said.items()}
    reported = {name: found.group(1) if found else "" for name, found in outcome.items()}
    summary = "\n".join(f"--- {name} (exit {codes[name]}): {key} {reported[name]}"
                        for name in said)
    _expect(step, winner is None or reported[winner] == "done",
            f"{summary}\n{winner}'s change of {key} is released, but its apply reported "
            f"{key} {reported[winner or 'ours'] or 'nothing'}")
    _expect(step, winner is not None or "done" not in reported.values(),
            f"{summary}\nan apply reported {key} done but neither change is released")
    expected.staging_differs = winner != "ours" or codes["ours"] != 0


def kill(life: Life, staging: OperatorClient, production: OperatorClient,
         expected: Expected, draw: random.Random, step: str) -> None:
    """A runner dies in the middle of an apply (SIGKILL); the next apply finishes the job,
    on the same machine or, as CI runners come and go, on another."""
    delay = draw.uniform(0.3, 4.0)
    another = draw.random() < 0.5
    expected.said.append(f"apply killed after {delay:.1f}s" +
                         (", the next on another machine" if another else ""))
    _killed_after(_apply_process(life), delay)
    if another:  # a cache folder of its own: no writes journal names the killed run's writes
        os.environ[CACHE_DIR_VARIABLE] = tempfile.mkdtemp(prefix="machine-", dir=life.root)
    # The next apply at once: the lists may not show yet what the killed run created
    # (``state.journal`` on the same machine; the claim rule on another).
    _apply(life, staging, expected, f"{step}: the next apply")


def _refused_for_unrecorded_releases(step: str, staging: OperatorClient, said: str) -> bool:
    """Whether a refused promotion gave only the documented reason that no smoke run of the
    released revision is recorded, each about a revision released without smoke records of
    its own (a rollback to the ``v0`` a platform released on create, a release made in the
    dashboard, whose marker names the records of the revision before): no verdict about it
    can be kept where promote finds it, until the agent's next release."""
    _, _, why_refused = said.partition("refused:")
    refused = re.findall(r"^  ([\w-]+): no smoke run of (\S+) is recorded", why_refused,
                         re.MULTILINE)
    if not refused or len(refused) != len(re.findall(r"^  [\w-]+: ", why_refused, re.M)):
        return False
    for key, version_id in refused:
        found = release_evidence(staging, project=PROJECT, key=key, version_id=version_id)
        # Records named by a marker a dashboard release copied speak of the revision before.
        _expect(step, found.record(PROJECT, key) is None,
                f"promotion refused for an unrecorded smoke run of {version_id}, whose "
                f"records are there:\n{said}")
    return True


def _refused_for_stray_drafts(step: str, staging: OperatorClient, said: str) -> bool:
    """Whether a refused promotion gave only the documented reason of an unreleased draft
    of operator-iac's in staging (the loser of two different changes applied at once leaves
    one), each one really there: a draft with this project's marker and other content than
    the released revision's marker names."""
    _, _, why_refused = said.partition("refused:")
    refused = re.findall(r"^  ([\w-]+): (.*)$", why_refused, re.MULTILINE)
    if not refused or not all("has an unreleased draft" in why and "written by operator-iac"
                              in why for _, why in refused):
        return False
    owned = _owned(staging)
    for key, _ in refused:
        versions = staging.conversational_agents.list_versions(owned[key])
        draft = next((v for v in versions if v.status == "draft"), None)
        released = next((v for v in versions if v.status == "released"), None)
        drafted = parse_marker(draft.description) if draft else None
        shown = parse_marker(released.description) if released else None
        _expect(step, drafted is not None and drafted.key == key and (
            shown is None or drafted.content_hash != shown.content_hash),
                f"promotion refused for an unreleased draft of {key} that is not there:\n{said}")
    return True


def saved_plan(life: Life, staging: OperatorClient, production: OperatorClient,
               expected: Expected, draw: random.Random, step: str) -> None:
    """A reviewer saves the plan and it is applied as saved; a prompt changed after it was
    saved makes it stale: refused (exit 5), nothing written, and the next plan shows both."""
    path = life.root / "reviewed-plan.json"
    life.run(step, "plan", "--env", "staging", "--prune", "--out", str(path))
    stale = draw.random() < 0.4
    if stale:
        edit(life, staging, production, expected, draw, step)
    expected.said.append("apply the saved plan" + (" (stale)" if stale else ""))
    if not stale:
        life.run(step, "apply", str(path), "--env", "staging")
        settle(life.staging)
        _one_agent_per_key(step, staging, tuple(expected.keys))
        life.run(f"{step}: plan after it", "plan", "--env", "staging", "--prune",
                 "--detailed-exitcode")
        expected.staging_differs = False
        return
    code, said = _said(life, step, "apply", str(path), "--env", "staging")
    _expect(step, code == 5 and "make a new plan" in said, f"{said}\nexit {code}")
    life.run(f"{step}: plan after it", "plan", "--env", "staging", "--prune",
             "--detailed-exitcode", expect=2)


def new_agent(life: Life, staging: OperatorClient, production: OperatorClient,
              expected: Expected, draw: random.Random, step: str) -> None:
    """A pull request adds a chat agent: a copy of one of the example's, under a new key and
    name (its prompt, tools and smoke tests as the original's)."""
    expected.added += 1
    key, source = f"walk-desk-{expected.added}", draw.choice(CHAT_KEYS)
    text = (life.root / "agents" / f"{source}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^name: .*$", f"name: Walk desk {expected.added}", text, count=1,
                  flags=re.MULTILINE)
    (life.root / "agents" / f"{key}.yaml").write_text(text, encoding="utf-8")
    expected.keys.append(key)
    expected.said.append(f"add {key} (a copy of {source})")
    expected.staging_differs = True


def retire_agent(life: Life, staging: OperatorClient, production: OperatorClient,
                 expected: Expected, draw: random.Random, step: str) -> None:
    """A pull request removes an agent the walk added, when there is one: the next apply
    deletes it (``--prune``), and the next promotion deletes it from production."""
    added = [key for key in expected.keys if key not in KEYS]
    if not added:
        return
    key = draw.choice(added)
    (life.root / "agents" / f"{key}.yaml").unlink()
    expected.keys.remove(key)
    expected.said.append(f"remove {key}")
    # An agent never applied leaves nothing to delete: the removal undoes its addition, and
    # whether staging differs is then what the other changes since the last apply make it.
    expected.staging_differs = True if key in _owned(staging) else None


def pull(life: Life, staging: OperatorClient, production: OperatorClient,
         expected: Expected, draw: random.Random, step: str) -> None:
    """Someone takes what staging holds for a chat agent into the files (a dashboard edit to
    keep, say; local changes to it not applied are given up): the next plan for that agent is
    empty (docs/dashboard.md)."""
    key = draw.choice(CHAT_KEYS)
    if key not in _owned(staging):
        return  # deleted in the dashboard: nothing to pull
    expected.said.append(f"pull {key}")
    code, said = _said(life, step, "pull", key, "--env", "staging")
    if code == 3 and "would leave the declarations invalid" in said:
        # Documented: what staging holds contradicts the rest of the declaration (a revision
        # the platform released on create without the fields it dropped, rolled back to,
        # against smoke tests that need them): nothing is written.
        return
    _expect(step, code == 0 and not FALSE_CONFLICTS.search(said), f"{said}\nexit {code}")
    code, said = _said(life, f"{step}: plan {key} after it", "plan", "--env", "staging",
                       "--target", key, "--detailed-exitcode")
    # Documented (docs/dashboard.md): on a platform that stores values in forms of its own,
    # the files then hold the platform's form of a value operator-iac wrote in another, and
    # the plan writes the marker once more (no field changes) instead of being empty.
    marker_only = code == 2 and "only the ownership marker is written" in said \
        and "Plan: 0 to create, 1 to update" in said \
        and bool(set(life.drawn.modes) & STORED_FORM_MODES)
    _expect(step, code == 0 or marker_only, f"{said}\nexit {code}")
    # The other agents' changes not applied yet still stand, if there are any.
    expected.staging_differs = None


def smoke(life: Life, staging: OperatorClient, production: OperatorClient,
          expected: Expected, draw: random.Random, step: str) -> None:
    """A release script smoke-tests what staging has released, when every declared agent is
    there: the tests pass (exit 0), or pass with a verdict that could not be kept, for a
    revision released without smoke records of its own (exit 7, docs/exit-codes.md)."""
    owned = _owned(staging)
    if any(key not in owned for key in expected.keys):
        return  # an agent not deployed is exit 1 by design: nothing to learn here
    expected.said.append("smoke")
    code, said = _said(life, step, "smoke", "--env", "staging")
    _expect(step, code == 0 or (code == 7 and "recorded" in said), f"{said}\nexit {code}")


def change_var(life: Life, staging: OperatorClient, production: OperatorClient,
               expected: Expected, draw: random.Random, step: str) -> None:
    """A pull request changes a value of staging's ``vars`` in the project file (the help
    center's address, which support-triage's prompt names): staging's agent changes,
    production's keeps its own value."""
    expected.edits += 1
    path = life.root / "operator-iac.yaml"
    text, found = re.subn(r"^(      help_center_url: https://help\.staging\.acme\.example)"
                          r"(?:/v\d+)?$", rf"\1/v{expected.edits}",
                          path.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
    _expect(step, found == 1, "the project file names no staging help_center_url")
    path.write_text(text, encoding="utf-8")
    expected.said.append("change a staging var")
    # A pull that found the platform's value no longer matching took the reference out of
    # the prompt (docs/dashboard.md): the value then changes no agent.
    if any("${var:help_center_url}" in agent.read_text(encoding="utf-8")
           for agent in (life.root / "agents").rglob("*") if agent.is_file()):
        expected.staging_differs = True


def kill_promotion(life: Life, staging: OperatorClient, production: OperatorClient,
                   expected: Expected, draw: random.Random, step: str) -> None:
    """A release script dies in the middle of a promotion (SIGKILL); the next promotion
    finishes the job."""
    _apply(life, staging, expected, f"{step}: apply before promoting")
    delay = draw.uniform(0.2, 3.0)
    expected.said.append(f"promotion killed after {delay:.1f}s")
    _killed_after(_process(life.root, *PROMOTION), delay)
    promote(life, staging, production, expected, draw, f"{step}: the next promotion")


# The first variable's description, without the mark of an earlier tune.
VARIABLE_DESCRIPTION = re.compile(
    r"^(    variables:\n      - name: .*\n        description: .*?)(?: \(tune \d+\))?$",
    re.MULTILINE)
MODELS = ("openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-3-5-sonnet")
LANGUAGES = ("English", "Spanish", "German", "French")


def tune(life: Life, staging: OperatorClient, production: OperatorClient,
         expected: Expected, draw: random.Random, step: str) -> None:
    """A pull request changes a chat agent's settings rather than its prompt: its first
    variable's description (so that something always changes), and one of its model, its
    supported languages (in an order of the author's, which a platform may keep sorted) or
    whether it takes SMS."""
    key = draw.choice([key for key in expected.keys if key not in NON_CHAT_KEYS])
    path = life.root / "agents" / f"{key}.yaml"
    text = path.read_text(encoding="utf-8")
    expected.edits += 1
    text, found = re.subn(VARIABLE_DESCRIPTION, rf"\1 (tune {expected.edits})", text, count=1)
    _expect(step, found == 1, f"{path.name} has no variable to describe")
    what = draw.choice(("model", "languages", "sms"))
    if what == "model":
        text = re.sub(r"^(    model: ).*$", rf"\g<1>{draw.choice(MODELS)}", text, count=1,
                      flags=re.MULTILINE)
    elif what == "languages":
        others = draw.sample(LANGUAGES[1:], draw.randint(1, len(LANGUAGES) - 1))
        spoken = [*others, "English"] if draw.random() < 0.5 else ["English", *others]
        line = f"    supported_languages: [{', '.join(spoken)}]"
        text = re.sub(r"^    supported_languages: .*$", line, text, count=1, flags=re.MULTILINE) \
            if "supported_languages:" in text else \
            text.replace("    default_language: English\n",
                         f"    default_language: English\n{line}\n", 1)
    else:
        text = re.sub(r"^(    is_sms_enabled: )(true|false)$",
                      lambda found: found.group(1) + ("false" if found.group(2) == "true"
                                                      else "true"),
                      text, count=1, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    expected.said.append(f"tune {key} ({what})")
    expected.staging_differs = True


# Every kind of step, as often as a project sees it: edits and applies twice as often.
STEPS: tuple[Step, ...] = (edit, edit, review, apply, apply, dashboard_edit, dashboard_delete,
                           rollback, promote, race, rivals, kill, saved_plan, new_agent,
                           retire_agent, tune, pull, smoke, change_var, kill_promotion,
                           race_killed)


def _apply(life: Life, staging: OperatorClient, expected: Expected, step: str) -> None:
    expected.said.append("apply")
    life.run(step, "apply", "--env", "staging", "--prune", "--yes")
    # At once: an apply ends once the platform's lists show its writes.
    life.run(f"{step}: plan after it", "plan", "--env", "staging", "--prune",
             "--detailed-exitcode")
    settle(life.staging)
    _one_agent_per_key(step, staging, tuple(expected.keys))
    expected.staging_differs = False


def _apply_process(life: Life, root: Path | None = None) -> subprocess.Popen[str]:
    """``apply --yes`` on staging in a process of its own (the emulators stay in this one),
    of the checkout at ``root`` (default: the walk's)."""
    return _process(root or life.root, "apply", "--env", "staging", "--prune", "--yes")


def _process(root: Path, *args: str) -> subprocess.Popen[str]:
    """operator-iac ``args`` on the checkout at ``root``, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "operator_iac", "--project-file",
         str(root / "operator-iac.yaml"), "--no-color", *args], cwd=root,
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _killed_after(run: subprocess.Popen[str], delay: float) -> None:
    """``run`` killed (SIGKILL) ``delay`` seconds on, unless it ended before."""
    try:
        run.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)


def _said(life: Life, step: str, *args: str) -> tuple[int, str]:
    """Run ``args`` on the walk's checkout as ``step``, whatever it exits with: its exit code
    and what it said, for the step to judge."""
    life.steps.append(step)
    result = life.cli("--project-file", str(life.root / "operator-iac.yaml"), "--no-color",
                      *args)
    return result.exit_code, result.stdout + result.stderr


def _exit_code(life: Life, step: str, args: tuple[str, ...]) -> int:
    """The exit code of ``args`` (0 or 2), in a state the walk cannot predict."""
    code, said = _said(life, step, *args)
    _expect(step, code in (0, 2) and not FALSE_CONFLICTS.search(said), said)
    return code
