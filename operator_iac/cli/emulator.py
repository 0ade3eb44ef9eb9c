"""``operator-iac emulator``: run the local Operator emulator in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.output import info, result
from operator_iac.services.emulator import compat_modes
from operator_iac.settings import API_URL_VARIABLE

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer
    from operator_iac.services.emulator import Account, Platform


def _ready_lines(url: str, ws_url: str, accounts: list[Account]) -> list[str]:
    """What a person needs to point operator-iac at the emulator: the URL, and each account's
    key under every variable the project's environments read it from."""
    keys = list(dict.fromkeys(a.key for a in accounts))
    lines = [f"Operator emulator listening on {url}", f"  WebSocket base: {ws_url}",
             f"  API key:        {keys[0]}" if len(keys) == 1 else
             f"  API keys:       {', '.join(keys)} (one account each)",
             "Point operator-iac at it with:", f"  export {API_URL_VARIABLE}={url}"]
    exports = {a.variable: f"  export {a.variable}={a.key}" for a in accounts if a.variable}
    width = max((len(line) for line in exports.values()), default=0)
    for account in accounts:
        if account.variable is None:
            continue
        named = f"  # environment {', '.join(account.environments)}" \
            if account.environments else ""
        lines.append(f"{exports[account.variable]:<{width}}{named}".rstrip())
    if not exports:
        lines.append("  and set each environment's API-key variable to one of the keys")
    first = next((env for a in accounts for env in a.environments), None)
    lines.append(f"Then try: operator-iac plan --env {first}" if first else
                 "Then try: operator-iac init, then operator-iac plan")
    return lines


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file that keeps the state across restarts (default: in memory).")
@click.option("--api-key", "api_keys", multiple=True, metavar="KEY",
              help="A key clients send as Authorization: Bearer; repeat it for several "
                   "accounts, one per key. Default: one account per API-key variable of the "
                   "project in the working directory (op_test_<environment>), or "
                   "op_test_emulator without a project.")
@click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON file scripting replies and tool calls per regex.")
@click.option("--silent", is_flag=True, help="The agent never answers (timeout tests).")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delay added to every HTTP request.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fraction of requests answered 500 or 503.")
@click.option("--seed", type=int,
              help="Seed for --compat random, --error-rate and rules with a chance, so runs "
                   "repeat.")
@click.option("--rate-limit", type=click.FloatRange(min=0, min_open=True), metavar="RPS",
              help="Answer 429 with Retry-After above this many requests per second.")
@click.option("--drop-sse-after", type=click.IntRange(min=0), metavar="N",
              help="Cut every event stream after N events.")
@click.option("--compat", multiple=True, metavar="MODE",
              help="Behave like a platform that made another plausible choice where the "
                   "API is undocumented (repeatable; 'operator-iac emulator --compat help' "
                   "describes each; 'random' draws a plausible platform from --seed): "
                   f"{', '.join(sorted(compat_modes()))}.")
@click.option("--keepalive", type=click.FloatRange(min=0, min_open=True), default=15.0,
              show_default=True, help="Seconds between SSE keep-alive comments.")
@click.option("--list-lag", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="The agents and conversations lists show a new item (and stop showing a "
                   "deleted one) only this long after the write.")
@click.option("--versions-lag", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Versions lists and status fields show a new revision or a release only "
                   "this long after it.")
@click.option("--read-lag", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="A read of a revision by its id shows a write only this long after it "
                   "(until then a new revision is not found, a rewritten one reads as before).")
@pass_app
def command(app: App, host: str, port: int, db: Path | None, api_keys: tuple[str, ...],
            rules: Path | None,
            silent: bool, latency_ms: int, error_rate: float, seed: int | None,
            rate_limit: float | None, drop_sse_after: int | None, compat: tuple[str, ...],
            keepalive: float, list_lag: float, versions_lag: float, read_lag: float) -> int:
    """Run the local Operator emulator (REST, SSE and WebSocket) until Ctrl-C.

    It keeps a separate account per API key. In a project, each API-key variable its
    environments read gets an account of its own, so staging and production are apart as
    on the platform; the banner prints the export lines.

    \b
    Examples:
      operator-iac emulator
      operator-iac emulator --api-key op_test_one --api-key op_test_two
      operator-iac emulator --port 0 --db emulator.sqlite
      operator-iac emulator --latency-ms 50 --error-rate 0.1 --seed 7
      operator-iac emulator --compat no_greeting --compat trim_text
      operator-iac emulator --compat random --seed 7
      operator-iac emulator --compat help
    """
    from operator_iac.services.emulator import ServeRequest, emulator_accounts, serve

    if "help" in compat:
        result("\n".join(f"{name:28} {what}" for name, what in sorted(compat_modes().items())))
        return 0
    accounts = emulator_accounts(api_keys, app.settings.project_file)
    request = ServeRequest(host, port, db, [a.key for a in accounts], rules, silent, keepalive,
                           latency_ms, error_rate, seed, rate_limit, drop_sse_after, compat,
                           list_lag, versions_lag, read_lag)

    def announce(running: EmulatorServer, platform: Platform) -> None:
        result("\n".join(_ready_lines(running.url, running.ws_url, accounts)))
        info(f"Platform: {platform.describe()}.")
        info("Press Ctrl-C to stop.")

    serve(request, on_ready=announce)
    info("Emulator stopped.")
    return 0
