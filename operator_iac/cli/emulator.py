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
    from operator_iac.services.emulator import Platform


def _ready_lines(url: str, ws_url: str, api_key: str,
                 variables: list[tuple[str | None, str]]) -> list[str]:
    """What a person needs to point operator-iac at the emulator: the URL, and the key under
    every variable the project's environments read (one variable may serve several)."""
    lines = [f"Operator emulator listening on {url}", f"  WebSocket base: {ws_url}",
             f"  API key:        {api_key}", "Point operator-iac at it with:",
             f"  export {API_URL_VARIABLE}={url}"]
    readers: dict[str, list[str]] = {}
    for env, variable in variables:
        readers.setdefault(variable, []).extend([env] if env else [])
    exports = {variable: f"  export {variable}={api_key}" for variable in readers}
    width = max(len(line) for line in exports.values())
    for variable, envs in readers.items():
        named = f"  # environment {', '.join(envs)}" if envs else ""
        lines.append(f"{exports[variable]:<{width}}{named}".rstrip())
    first = next((env for env, _ in variables if env), None)
    lines.append(f"Then try: operator-iac plan --env {first}" if first else
                 "Then try: operator-iac init, then operator-iac plan")
    return lines


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file that keeps the state across restarts (default: in memory).")
@click.option("--api-key", default="op_test_emulator", show_default=True,
              help="The key clients must send as Authorization: Bearer.")
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
              help="The agents list shows a new agent (and stops showing a deleted one) only "
                   "this long after the write.")
@click.option("--versions-lag", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Versions lists and status fields show a new revision or a release only "
                   "this long after it (reads by id are never late).")
@pass_app
def command(app: App, host: str, port: int, db: Path | None, api_key: str, rules: Path | None,
            silent: bool, latency_ms: int, error_rate: float, seed: int | None,
            rate_limit: float | None, drop_sse_after: int | None, compat: tuple[str, ...],
            keepalive: float, list_lag: float, versions_lag: float) -> int:
    """Run the local Operator emulator (REST, SSE and WebSocket) until Ctrl-C.

    \b
    Examples:
      operator-iac emulator
      operator-iac emulator --port 0 --db emulator.sqlite
      operator-iac emulator --latency-ms 50 --error-rate 0.1 --seed 7
      operator-iac emulator --compat no_greeting --compat trim_text
      operator-iac emulator --compat random --seed 7
      operator-iac emulator --compat help
    """
    from operator_iac.services.emulator import ServeRequest, key_variables, serve

    if "help" in compat:
        result("\n".join(f"{name:28} {what}" for name, what in sorted(compat_modes().items())))
        return 0
    request = ServeRequest(host, port, db, api_key, rules, silent, keepalive, latency_ms,
                           error_rate, seed, rate_limit, drop_sse_after, compat, list_lag,
                           versions_lag)

    def announce(running: EmulatorServer, platform: Platform) -> None:
        result("\n".join(_ready_lines(running.url, running.ws_url, running.api_key,
                                      key_variables(app.settings.project_file))))
        info(f"Platform: {platform.describe()}.")
        info("Press Ctrl-C to stop.")

    serve(request, on_ready=announce)
    info("Emulator stopped.")
    return 0
