"""Rules about secrets and personal data written into what is sent to the platform: keys and
tokens, phone numbers, e-mail addresses and card numbers in prompts and descriptions, and
secrets anywhere else in a declaration."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from operator_iac.lint import detect, examples
from operator_iac.lint.detect import Match
from operator_iac.lint.findings import Hit, Location
from operator_iac.lint.rule import Check, Context, Rule
from operator_iac.lint.views import AgentView
from operator_iac.spec.checks import sent_strings
from operator_iac.spec.prompts import PROMPT_TEXT

GROUP = "Secrets and personal data"
Detector = Callable[[str], Iterable[Match]]


def texts(view: AgentView) -> Iterator[tuple[str, Callable[[int], Location]]]:
    """The prompt and the description, each with how to locate an offset in it."""
    if view.prompt is not None:
        yield view.prompt.text, view.in_prompt
    description = view.spec.description
    if description:
        where = view.at(("description",))
        yield description, lambda _offset: where


def secret_in_prompt(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    for found in detect.secrets(view.prompt_text):
        yield Hit(view.in_prompt(found.start),
                  f"the prompt holds what looks like {found.kind} ({found.shown()}); "
                  "reference it as ${env:NAME} instead")


def secret_in_declaration(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    for path, text in sent_strings(view.data):
        if path == PROMPT_TEXT:
            continue  # the prompt is the previous rule's
        for found in detect.secrets(text):
            yield Hit(view.at(path), f"{'.'.join(map(str, path))} holds what looks like "
                                     f"{found.kind} ({found.shown()}); use ${{env:NAME}}")


def _in_texts(detector: Detector, message: Callable[[Match], str]) -> Check:
    """A check reporting what ``detector`` finds in the prompt and the description."""
    def check(view: AgentView, _ctx: Context) -> Iterator[Hit]:
        for text, locate in texts(view):
            for found in detector(text):
                yield Hit(locate(found.start), message(found))
    return check


def _hard_coded(what: str, public: str) -> Callable[[Match], str]:
    return lambda m: (f"hard-coded {what} {m.text!r}; give it through ${{var:NAME}} or "
                      f"${{env:NAME}}, or suppress it with a reason if it is a public {public}")


phone_number = _in_texts(detect.phone_numbers, _hard_coded("phone number", "number"))
email_address = _in_texts(detect.email_addresses, _hard_coded("e-mail address", "address"))
card_number = _in_texts(detect.card_numbers, lambda m: (
    f"what looks like a payment card number ({m.text[:4]}…); remove it"))


_HOOK = "https://hooks.acme-support.com/calls?token="
_KEY = "AKIAIOSFODNN7EXAMPLE"  # the access key id AWS documents as an example
_FIXED_PROMPT = examples.PROMPT + "Look orders up with the key you are given; never say it.\n"

RULES = (
    Rule("OIC101", "secret-in-prompt", "error",
         "A key, token or password is written into a prompt",
         "A prompt is sent to the platform, shown in every plan and pull-request comment, "
         "and read by the model, which may repeat it to a caller. A key written there is "
         "leaked to everyone who can read the repository, the plan or a transcript.",
         "Remove the secret. If the agent really needs it (a tool that takes a key), keep it "
         "out of the prompt text, or give it as `${env:NAME}` (with `NAME` under `secrets:` in the "
         "project file): the value then comes from the environment at apply time, is masked "
         "in plans and never written into a file.",
         examples.support(prompt=examples.PROMPT + f"The order API key is {_KEY}.\n"),
         examples.support(prompt=_FIXED_PROMPT),
         secret_in_prompt, GROUP),
    Rule("OIC102", "secret-in-declaration", "error",
         "A key, token or password is written into the name, description or config",
         "Everything in `name`, `description` and `config` is sent to the platform and shown "
         "in plans; a webhook URL with a token, a password in a URL, or a key in "
         "`config.extra` is leaked the same way as one in a prompt.",
         "Write the secret as `${env:NAME}` inside `config` (a `post_url` such as "
         "`https://hooks.example.com/calls?token=${env:HOOK}`, with `HOOK` declared under "
         "`secrets:` in the project file); remove it from the name and description, where "
         "secrets are not allowed.",
         examples.with_summary(output=f"{examples.SCHEMA}    post_url: {_HOOK}f4c3b00c5e1a\n"),
         examples.with_summary(output=f"{examples.SCHEMA}    post_url: {_HOOK}${{env:HOOK}}\n",
                               project="secrets: [HOOK]\n"),
         secret_in_declaration, GROUP),
    Rule("OIC103", "phone-number-in-text", "warning",
         "A phone number is hard-coded in a prompt or description",
         "Numbers differ between environments and change over time; a number in a prompt is "
         "personal data when it is someone's, and it cannot be told apart from a test number "
         "in review.",
         "Give the number as `${var:NAME}` (a value per environment in the project file) or "
         "`${env:NAME}`; for a public number that never changes, suppress the finding with "
         "a reason.",
         examples.support(prompt=examples.PROMPT + "If the line drops, call +1 415 555 0100.\n"),
         examples.support(prompt=examples.PROMPT + "If the line drops, call ${var:callback}.\n",
                          project="environments:\n  staging:\n    vars: {callback: "
                                  "\"+14155550100\"}\n"),
         phone_number, GROUP),
    Rule("OIC104", "email-in-text", "warning",
         "An e-mail address is hard-coded in a prompt or description",
         "An address in a prompt is personal data when it is someone's, reaches every caller "
         "the model repeats it to, and differs between environments. Addresses of the "
         "reserved example and test domains (example.com, .test, .invalid) are not reported.",
         "Give the address as `${var:NAME}` or `${env:NAME}`; for a public address, "
         "suppress the finding with a reason.",
         examples.support(prompt=f"{examples.PROMPT}Refunds: write to dana@acme-support.com.\n"),
         examples.support(prompt=examples.PROMPT + "Refunds: write to ${var:refunds_address}.\n",
                          project="environments:\n  staging:\n    vars: {refunds_address: "
                                  "refunds@acme-support.com}\n"),
         email_address, GROUP),
    Rule("OIC105", "card-number-in-text", "error",
         "A payment card number is written in a prompt or description",
         "Card numbers are regulated data (PCI DSS): they must not be stored in a repository, "
         "sent to a model or shown in plans. Numbers that fail the Luhn check are ignored.",
         "Remove the number. To test payments, give test data in a smoke test's context, "
         "never in the agent.",
         examples.support(prompt=examples.PROMPT + "Test purchases use 4111 1111 1111 1111.\n"),
         examples.support(),
         card_number, GROUP),
)
