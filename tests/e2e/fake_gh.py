#!/usr/bin/env python3
"""A stand-in for the GitHub CLI's ``gh api``, enough for the action's comment script: list a
pull request's comments (``--paginate ... --jq '.[]'``, one JSON object a line), create one
(POST) and update one (PATCH), with ``-F body=@FILE`` and ``--jq .id``.

State lives in the JSON file named by ``FAKE_GH_STATE``: ``{"comments": [...], "calls": [...]}``.
A request the script should not make exits 1, as ``gh`` does on an HTTP error.
"""

from __future__ import annotations

import json
import os
import re
import sys


def main(argv: list[str]) -> int:
    state_file = os.environ["FAKE_GH_STATE"]
    with open(state_file, encoding="utf-8") as handle:
        state = json.load(handle)
    assert argv[0] == "api", argv
    method, path, fields, jq = "GET", "", {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg in ("--method", "-X"):
            method = next(args)
        elif arg == "-F":
            name, _, value = next(args).partition("=")
            if value.startswith("@"):
                with open(value[1:], encoding="utf-8") as handle:
                    value = handle.read()
            fields[name] = value
        elif arg == "--jq":
            jq = next(args)
        elif arg == "--paginate":
            pass
        else:
            path = arg
    state["calls"].append([method, path, os.environ.get("GH_TOKEN", "")])
    code = _serve(state, method, path, fields, jq)
    with open(state_file, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    return code


def _serve(state: dict, method: str, path: str, fields: dict, jq: str | None) -> int:
    listed = re.fullmatch(r"repos/[^/]+/[^/]+/issues/(\d+)/comments(\?per_page=\d+)?", path)
    updated = re.fullmatch(r"repos/[^/]+/[^/]+/issues/comments/(\d+)", path)
    if method == "GET" and listed and jq == ".[]":
        for comment in state["comments"]:
            if comment["issue"] == int(listed.group(1)):
                print(json.dumps({"id": comment["id"], "body": comment["body"]}))
        return 0
    if method == "POST" and listed and jq == ".id":
        comment = {"id": 1000 + len(state["comments"]), "issue": int(listed.group(1)),
                   "body": fields["body"]}
        state["comments"].append(comment)
        print(comment["id"])
        return 0
    if method == "PATCH" and updated and jq == ".id":
        for comment in state["comments"]:
            if comment["id"] == int(updated.group(1)):
                comment["body"] = fields["body"]
                print(comment["id"])
                return 0
    print(f"gh: HTTP 404: {method} {path}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
