"""Rules about what an agent runs on and where it sends callers: approved models per
environment, model names that pin nothing, and transfers to phone numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from operator_iac.lint import examples
from operator_iac.lint.detect import is_phone_number, normalised_number
from operator_iac.lint.findings import Hit
from operator_iac.lint.rule import Context, Rule
from operator_iac.lint.views import TRANSFERS, AgentView
from operator_iac.spec.loader import DataPath
from operator_iac.spec.templates import Substitution, substitute_string

GROUP_MODELS = "Models"
GROUP_TRANSFERS = "Transfers"
MODEL: DataPath = ("config", "runtime", "model")
_MOVING_ALIAS = re.compile(r"(?i)(^|[-:/.@_])latest$")
_TRANSFER_WORDS = re.compile(r"(?i)\b(transfer\w*|hand(s|ing)?[ -]?(it |the call |them )?"
                             r"(over|off)|put (them|the caller|the customer|you) through|"
                             r"escalat\w+|forward\w*)\b")


def model_not_allowed(view: AgentView, ctx: Context) -> Iterator[Hit]:
    allowed = ctx.config.allowed_models
    model = view.spec.config.runtime.model
    if allowed is None or any(fnmatchcase(model, pattern) for pattern in allowed):
        return
    yield Hit(view.at(MODEL), f"model {model!r} is not approved "
                              f"(lint.allowed_models: {', '.join(allowed) or 'none'})")


def model_moving_alias(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    model = view.spec.config.runtime.model
    if _MOVING_ALIAS.search(model):
        yield Hit(view.at(MODEL), f"model {model!r} is an alias that moves: the platform may "
                                  "switch the model under the agent without a plan showing it")


def model_without_provider(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    model = view.spec.config.runtime.model
    if "/" not in model.strip("/"):
        yield Hit(view.at(MODEL), f"model {model!r} names no provider; the platform documents "
                                  "models as provider/model (openai/gpt-4o)")


def _filled(value: str, view: AgentView) -> str | None:
    """``value`` with ``${var:...}`` filled in from this view's values; None when one has
    no value here (or it needs a secret), so nothing can be said about the number."""
    missing: list[Substitution] = []

    def lookup(sub: Substitution) -> object:
        if sub.kind == "var" and sub.name in view.vars:
            return view.vars[sub.name]
        missing.append(sub)
        return ""

    filled = str(substitute_string(value, lookup))
    return None if missing else filled


def transfer_not_allowed(view: AgentView, ctx: Context) -> Iterator[Hit]:
    allowed = ctx.config.allowed_transfer_numbers
    if allowed is None:
        return
    patterns = [normalised_number(p) if is_phone_number(p) else p for p in allowed]
    for path, entity in view.transfers():
        number = _filled(entity, view)
        if number is None or not is_phone_number(number):
            continue
        if any(fnmatchcase(normalised_number(number), p) for p in patterns):
            continue
        given = "" if number == entity else f" ({entity} here)"
        yield Hit(view.at(path), f"transfer to {number}{given} is not an allowed number "
                                 f"(lint.allowed_transfer_numbers: {', '.join(allowed) or 'none'})")


def transfer_hard_coded(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    for path, entity in view.transfers():
        if "${" not in entity and is_phone_number(entity):
            yield Hit(view.at(path), f"transfer to the hard-coded number {entity}; give it as "
                                     "${var:NAME} so that each environment sets its own")


def transfer_not_mentioned(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if next(view.transfers(), None) is None:
        return
    if not _TRANSFER_WORDS.search(view.prompt_text):
        yield Hit(view.at(TRANSFERS),
                  "the agent may transfer calls but the prompt never says when (no "
                  "\"transfer\", \"hand over\", \"escalate\" or \"put through\")")


_PROJECT_MODELS = ("lint:\n  allowed_models: [openai/gpt-4o, anthropic/*]\n"
                   "environments:\n  production:\n    lint:\n      allowed_models: "
                   "[openai/gpt-4o]\n")
_TRANSFER_PROMPT = examples.PROMPT + "Transfer the call to billing when asked about invoices.\n"
_QUEUE = "  tool:\n    tools:\n      - {ns: acme, name: lookup_order}\n    transfers:\n" \
         "      - {entity_id: \"${var:billing}\"}\n"
# Production's billing line, the value of the transfer's ${var:billing}.
_BILLING = "environments:\n  production:\n    vars: {billing: \"+14155550100\"}\n"
_NUMBERS = "lint:\n  allowed_transfer_numbers: [\"+1415555*\"]\n" + _BILLING

RULES = (
    Rule("OIC301", "model-not-allowed", "error",
         "The agent uses a model outside the approved list of its environment",
         "Teams approve models for cost, data processing agreements and quality; production "
         "often allows fewer than staging. The rule runs when `lint.allowed_models` is set "
         "(at the top of `lint:` or in an environment's `lint:`), on the model each "
         "environment receives after its overrides. Entries are `provider/model` or "
         "shell-style patterns (`anthropic/*`).",
         "Use an approved model (in the agent file, or in the environment's `overrides`), or "
         "add the model to the environment's `lint.allowed_models` after review.",
         examples.support(model="anthropic/claude-3-5-sonnet", project=_PROJECT_MODELS),
         examples.support(project=_PROJECT_MODELS),
         model_not_allowed, GROUP_MODELS),
    Rule("OIC302", "model-moving-alias", "warning",
         "The model is an alias that moves (`...-latest`)",
         "An alias is repointed by the provider: the agent's behaviour changes with no change "
         "in the repository and no plan to review.",
         "Name a dated or versioned model (`openai/gpt-4o-2024-08-06`).",
         examples.support(model="openai/chatgpt-4o-latest"),
         examples.support(model="openai/gpt-4o-2024-08-06"),
         model_moving_alias, GROUP_MODELS),
    Rule("OIC303", "model-without-provider", "warning",
         "The model names no provider",
         "The platform documents models as `provider/model`; a bare name depends on a default "
         "provider that is not documented and may change.",
         "Write the provider: `openai/gpt-4o`, `anthropic/claude-3-5-sonnet`.",
         examples.support(model="gpt-4o"),
         examples.support(),
         model_without_provider, GROUP_MODELS),
    Rule("OIC401", "transfer-number-not-allowed", "error",
         "A call is transferred to a phone number outside the allowed list",
         "A transfer to a wrong number sends customers, and their data, to a stranger; a "
         "premium-rate number costs money. The rule runs when `lint.allowed_transfer_numbers` "
         "is set, and checks each environment's number after `${var:...}` is filled in. "
         "Entries are E.164 numbers or shell-style patterns (`+1415555*`).",
         "Transfer to an allowed number, or add the number to the list after review.",
         examples.support(prompt=_TRANSFER_PROMPT, tools=_QUEUE,
                          project=_NUMBERS.replace("+14155550100", "+19005550199")),
         examples.support(prompt=_TRANSFER_PROMPT, tools=_QUEUE, project=_NUMBERS),
         transfer_not_allowed, GROUP_TRANSFERS),
    Rule("OIC402", "transfer-number-hard-coded", "warning",
         "A transfer target is a phone number written into the agent file",
         "Staging and production transfer to different lines; a number in the agent file "
         "sends test calls to the real desk, or production calls to a test line.",
         "Give the number as `${var:NAME}` and set it in each environment's `vars`.",
         examples.support(prompt=_TRANSFER_PROMPT,
                          tools=_QUEUE.replace("\"${var:billing}\"", "\"+14155550100\"")),
         examples.support(prompt=_TRANSFER_PROMPT, tools=_QUEUE, project=_BILLING),
         transfer_hard_coded, GROUP_TRANSFERS),
    Rule("OIC403", "transfer-not-mentioned", "warning",
         "Transfers are configured but the prompt never says when to transfer",
         "The model decides to transfer from the prompt; without a word about it, callers "
         "are transferred at random or never.",
         "Say when to transfer (\"Transfer the call to billing when asked about invoices.\"), "
         "or remove the transfer.",
         examples.support(tools=_QUEUE, project=_BILLING),
         examples.support(prompt=_TRANSFER_PROMPT, tools=_QUEUE, project=_BILLING),
         transfer_not_mentioned, GROUP_TRANSFERS),
)
