"""Conversations become smoke tests: what a real conversation did, as a test to review.

``observe`` reads a conversation's events turn by turn: what the user said, what the agent
said, the tool calls it made (with arguments). ``suggest_test`` turns that into a smoke test
declaration: the user's messages are the script, and the tool calls, the end status and the
procedure outputs become *suggested* assertions (what the agent did then, not necessarily
what it should do; the agent's words are left as comments, since an LLM never says the same
twice). ``yaml_item`` writes it as one item of an agent file's ``smoke:`` list, with review
comments (values in JSON, which YAML reads back exactly). ``differences`` compares a replay
with the original. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from operator_iac.api.events import CONVERSATION_ENDED, Event
from operator_iac.api.models import Procedure
from operator_iac.smoke.matchers import clip, decode_json
from operator_iac.smoke.procedure_check import is_final
from operator_iac.smoke.turns import split_turns, tool_calls

REVIEW = "REVIEW"
# Output strings longer than this are free text (a summary): only their presence is checked.
MAX_EXACT_STRING = 40
MAX_COMMENT = 160


@dataclass(frozen=True)
class TurnSeen:
    """One turn of a conversation: the user's message (None in turn 0), the agent's replies,
    and its tool calls as ``(name, arguments)``."""

    index: int
    user: str | None
    replies: tuple[str, ...]
    calls: tuple[tuple[str, Any], ...]


def observe(events: Sequence[Event]) -> list[TurnSeen]:
    calls = tool_calls(events)
    return [TurnSeen(turn.index, turn.user_text, tuple(turn.agent_messages()),
                     tuple((c.name, decode_json(c.arguments) if c.arguments else {})
                           for c in calls if c.turn == turn.index))
            for turn in split_turns(events)]


def ended_status(events: Sequence[Event], fallback: str | None = None) -> str | None:
    """The final status from ``conversation.ended``, else ``fallback`` (read from the
    conversation, for platforms whose event carries none)."""
    ended = next((e for e in events if e.type == CONVERSATION_ENDED), None)
    status = ended.payload.get("status") if ended is not None else None
    return status if isinstance(status, str) else fallback


def _argument(value: Any) -> Any:
    # A mapping could be read as a matcher ({regex: ...}); equals says it is a literal.
    return {"equals": value} if isinstance(value, dict | list) else value


def _tool_assertion(name: str, arguments: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"name": name}
    if isinstance(arguments, dict) and arguments:
        call["arguments"] = {k: _argument(v) for k, v in arguments.items()}
    return {"tool_called": call}


def _output_matcher(value: Any) -> Any:
    if (isinstance(value, str) and len(value) > MAX_EXACT_STRING) or isinstance(value, dict | list):
        return {"any": True}
    return value


def _procedure_assertion(key: str, procedure: Procedure) -> dict[str, Any]:
    # The test asserts the status a run ends with. A run still pending or running when the
    # conversation was read has not ended: the test expects the usual end, success, and no
    # output yet known (for the reviewer to change); a status in between would fail every
    # replay, whose run is judged once it has ended.
    ended = is_final(procedure)
    expect: dict[str, Any] = {"agent": key,
                              "status": (procedure.status or "").lower() if ended else "success"}
    output = decode_json(procedure.output)
    if ended and expect["status"] == "success" and isinstance(output, dict) and output:
        expect["output"] = {k: _output_matcher(v) for k, v in output.items()}
    return {"procedure": expect}


def suggest_test(name: str, turns: Sequence[TurnSeen], status: str | None,
                 procedures: Sequence[Procedure],
                 key_of: Callable[[Procedure], str | None]) -> dict[str, Any]:
    """The smoke test declaration (as data) that replays ``turns``; ``key_of`` names a
    procedure's agent by project key (None: not an agent of this project, left out)."""
    declared: list[dict[str, Any]] = []
    for turn in turns:
        if turn.user is None and not (turn.replies or turn.calls):
            continue
        item: dict[str, Any] = {} if turn.user is None else {"user": turn.user}
        item["expect"] = [_tool_assertion(n, a) for n, a in turn.calls]
        declared.append(item)
    expect: list[Any] = ["no_server_errors"]
    if status:
        expect.append({"ended_with_status": status})
    for procedure in procedures:
        key = key_of(procedure)
        if key is not None:
            expect.append(_procedure_assertion(key, procedure))
    return {"name": name, "turns": declared, "expect": expect}


# ---- YAML with review comments ---------------------------------------------------------------


def _flow(value: Any) -> str:
    # JSON is YAML 1.2 (the project loader's dialect), so it reads back exactly: no string
    # such as 1e5 or "no" can turn into a number or a boolean.
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return clip(" ".join(text.split()), MAX_COMMENT)


def yaml_item(data: dict[str, Any], turns: Sequence[TurnSeen], conversation_id: str,
              left_out: Sequence[str] = ()) -> str:
    """One ``smoke:`` list item (at column 0) with comments marking it for review."""
    lines = [f"# {REVIEW}: generated from conversation {conversation_id}. The assertions are "
             "suggestions (what", "# the agent did then); keep those it must always do.",
             f"- name: {json.dumps(data['name'], ensure_ascii=False)}", "  turns:"]
    shown = [t for t in turns if t.user is not None or t.replies or t.calls]
    for item, seen in zip(data["turns"], shown, strict=True):
        said = [f"      # the agent said: {_comment(reply)}" for reply in seen.replies]
        expect = f"expect:{_expectations(item['expect'], 8)}"
        if "user" in item:
            lines += [f"    - user: {json.dumps(item['user'], ensure_ascii=False)}", *said,
                      f"      {expect}"]
        else:
            lines += [f"    - {expect}", *said]
    lines.append(f"  expect:{_expectations(data['expect'], 4)}")
    lines += [f"  # {REVIEW}: not suggested: {_comment(note)}" for note in left_out]
    return "\n".join(lines) + "\n"


def _expectations(items: list[Any], indent: int) -> str:
    if not items:
        return " []"
    pad = " " * indent
    return "".join(f"\n{pad}- {_item(item)}" for item in items)


def _item(item: Any) -> str:
    """``no_server_errors`` or ``tool_called: {name: x, ...}`` (the kind as a block key)."""
    if isinstance(item, dict) and len(item) == 1:
        [(kind, value)] = item.items()
        return f"{kind}: {_flow(value)}"
    return item if isinstance(item, str) else _flow(item)


# ---- how a replay differs --------------------------------------------------------------------


def differences(before: Sequence[TurnSeen], after: Sequence[TurnSeen],
                status_before: str | None, status_after: str | None) -> list[str]:
    """What the replay did differently, turn by turn: tool calls (names and arguments),
    whether the agent replied, and the end status. Replies are compared by presence only:
    their words vary by nature."""
    found: list[str] = []
    for index in range(max(len(before), len(after))):
        old = before[index] if index < len(before) else None
        new = after[index] if index < len(after) else None
        if old is None or new is None:
            found.append(f"turn {index}: {'only in the replay' if old is None else 'missing'}")
            continue
        if old.calls != new.calls:
            found.append(f"turn {index}: tool calls {_calls(old.calls)} before, "
                         f"{_calls(new.calls)} now")
        if bool(old.replies) != bool(new.replies):
            found.append(f"turn {index}: the agent {'replied' if old.replies else 'was silent'} "
                         f"before, {'replied' if new.replies else 'is silent'} now")
    if status_before != status_after:
        found.append(f"end status {status_before or '(none)'} before, "
                     f"{status_after or '(none)'} now")
    return found


def _calls(calls: Sequence[tuple[str, Any]]) -> str:
    if not calls:
        return "none"
    return ", ".join(f"{name}({_comment(json.dumps(args, ensure_ascii=False))})"
                     for name, args in calls)
