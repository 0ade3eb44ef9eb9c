"""Fault decisions: counted rules, seeded error rates, rate limits, lost responses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from operator_iac.emulator.faults import PASS, Decision, FaultSettings, FaultState


def decide_many(state: FaultState, n: int, method: str = "GET", path: str = "/x",
                now: float = 0.0) -> list[Decision]:
    return [state.decide(method, path, now) for _ in range(n)]


def test_no_faults_pass_everything() -> None:
    assert decide_many(FaultState(), 5) == [PASS] * 5


def test_fail_next_counts_down_and_matches_method_and_path() -> None:
    state = FaultState()
    state.fail_next(2, 503, method="PUT", path="^/conversational_agents/")
    assert state.decide("GET", "/conversational_agents/ca_1", 0) == PASS
    assert state.decide("PUT", "/procedural_agents/pa_1", 0) == PASS
    hits = decide_many(state, 3, "put", "/conversational_agents/ca_1")
    assert [d.status for d in hits] == [503, 503, 0]
    assert state.settings.fail_next == []


def test_fail_next_429_carries_retry_after_and_zero_means_reset() -> None:
    state = FaultState(FaultSettings(retry_after_s=4))
    state.fail_next(1, 429)
    state.fail_next(1, 0)
    assert state.decide("GET", "/", 0) == Decision("respond", 429, 4)
    assert state.decide("GET", "/", 0).action == "reset"


def test_error_rate_is_reproducible_with_a_seed() -> None:
    def run() -> list[int]:
        state = FaultState(FaultSettings(error_rate=0.5, seed=7))
        return [d.status for d in decide_many(state, 40)]

    first = run()
    assert first == run()
    assert 0 < first.count(0) < 40
    assert set(first) <= {0, 500, 503}


def test_rate_limit_answers_429_above_the_rate_and_recovers() -> None:
    state = FaultState(FaultSettings(rate_limit_rps=3, retry_after_s=1))
    burst = [d.status for d in decide_many(state, 5, now=10.0)]
    assert burst == [0, 0, 0, 429, 429]
    assert state.decide("GET", "/x", 11.5) == PASS


def test_lost_responses_are_counted() -> None:
    state = FaultState()
    state.lose_next_response(path="^/conversations$", mode="reset")
    assert state.decide("GET", "/conversations", 0) == PASS
    assert state.decide("POST", "/conversations", 0) == Decision("lose", lose_mode="reset")
    assert state.decide("POST", "/conversations", 0) == PASS


def test_update_validates_and_reset_clears() -> None:
    state = FaultState()
    state.update(latency_ms=50, compat=["is_released"])
    assert state.has("is_released") and state.settings.latency_ms == 50
    with pytest.raises(ValidationError):
        state.update(compat=["nonsense"])
    with pytest.raises(ValidationError):
        state.update(error_rate=2)
    state.reset()
    assert state.snapshot() == FaultSettings().model_dump()
