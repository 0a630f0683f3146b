"""Champion changes: the compare-and-set `promote` (every interleaving of concurrent promotions against an
in-memory registry), the rule register applies when the champion changed after the gate ran, the registry lock
and the engine check."""

from __future__ import annotations

import contextlib
import copy
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import gate
import pytest
import register
from register import champion_rule, register_and_promote
from tabular_common.engine import (
    ENGINE_PID,
    REGISTRY_LOCK,
    EngineGone,
    check_engine_alive,
    registry_lock,
)
from tabular_common.registry import CHAMPION_TAG, Promotion, promote, search_versions, select_champion

NAME = "m"


@dataclass
class Version:
    version: str
    tags: dict[str, str] = field(default_factory=dict)


class Page(list):
    token = None


class FakeRegistry:
    """The two registry calls promotion makes, on dicts."""

    def __init__(self, tags: dict[int, dict[str, str]]) -> None:
        self.tags = copy.deepcopy(tags)

    def search_model_versions(self, filter_string: str, page_token: str | None = None) -> Page:
        assert filter_string == f"name='{NAME}'" and page_token is None
        return Page(Version(str(number), dict(tags)) for number, tags in sorted(self.tags.items()))

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.tags[int(version)][key] = value

    def create(self) -> Version:  # what mlflow.register_model does: the next version number
        number = max(self.tags, default=0) + 1
        self.tags[number] = {}
        return Version(str(number))

    def marked(self) -> list[int]:
        return sorted(n for n, tags in self.tags.items() if tags.get(CHAMPION_TAG) == "true")


# --- promote, one at a time ----------------------------------------------------------------------------------------


def test_promote_marks_the_version_and_demotes_every_older_champion() -> None:
    registry = FakeRegistry({1: {CHAMPION_TAG: "true"}, 2: {CHAMPION_TAG: "true"}, 3: {}, 4: {}})
    assert promote(registry, NAME, "4") == Promotion(champion=True, replaced="2", demoted=("2", "1"))
    assert registry.marked() == [4]
    assert registry.tags[1][CHAMPION_TAG] == registry.tags[2][CHAMPION_TAG] == "false"
    assert CHAMPION_TAG not in registry.tags[3]  # never a champion: left alone


def test_promote_steps_back_for_a_newer_champion_and_never_demotes_it() -> None:
    registry = FakeRegistry({1: {CHAMPION_TAG: "true"}, 2: {}, 3: {CHAMPION_TAG: "true"}})
    assert promote(registry, NAME, 2) == Promotion(champion=False, newer="3")
    assert registry.marked() == [1, 3]  # an older "true" is the newer champion's to demote; the read rule picks 3
    assert registry.tags[2][CHAMPION_TAG] == "false"
    assert select_champion(search_versions(registry, NAME)).version == "3"


def test_the_first_champion_replaces_nobody() -> None:
    registry = FakeRegistry({1: {}})
    assert promote(registry, NAME, 1) == Promotion(champion=True)
    assert registry.marked() == [1]


# --- promote, concurrently: every interleaving of the registry calls ------------------------------------------------


class Pause(Exception):
    """Raised at a promotion's next registry call, which the scheduler makes when it chooses to."""


class Stepper:
    """One promotion, one registry call at a time, without threads: `promote` is re-run from the start, the calls
    it already made answered from their recorded results, until it reaches its next call (`pending`)."""

    def __init__(self, registry: FakeRegistry, version: int) -> None:
        self.registry, self.version = registry, version
        self.answers: list[Any] = []
        self.pending: tuple[str, tuple] | None = None
        self.result: Promotion | None = None
        self._advance()

    def step(self) -> None:
        """Make the pending call against the registry now, then run on to the next one (or to the end)."""
        assert self.pending is not None
        method, args = self.pending
        self.answers.append(getattr(self.registry, method)(*args))
        self._advance()

    def _advance(self) -> None:
        stepper, made = self, iter(self.answers)

        class Client:
            def search_model_versions(self, filter_string: str, page_token: str | None = None) -> Any:
                return call("search_model_versions", (filter_string, page_token))

            def set_model_version_tag(self, *args: str) -> Any:
                return call("set_model_version_tag", args)

        def call(method: str, args: tuple) -> Any:
            answer = next(made, Pause)
            if answer is Pause:
                stepper.pending = (method, args)
                raise Pause
            return copy.deepcopy(answer)

        with contextlib.suppress(Pause):
            self.result, self.pending = promote(Client(), NAME, self.version), None


def run_once(
    start: dict[int, dict[str, str]], promotions: dict[str, int], prefix: list[str]
) -> tuple[FakeRegistry, dict[str, Promotion], list[list[str]]]:
    """One run: the first len(prefix) registry calls are made by the promotions `prefix` names, later ones by the
    first unfinished promotion (by name). Returns the registry, each result and who could have gone at each call."""
    registry = FakeRegistry(start)
    steppers = {name: Stepper(registry, version) for name, version in sorted(promotions.items())}
    options: list[list[str]] = []
    while runnable := [name for name, stepper in steppers.items() if stepper.pending]:
        chosen = prefix[len(options)] if len(options) < len(prefix) else runnable[0]
        options.append(runnable)
        steppers[chosen].step()
    return registry, {name: stepper.result for name, stepper in steppers.items()}, options


def every_interleaving(
    start: dict[int, dict[str, str]], promotions: dict[str, int]
) -> list[tuple[FakeRegistry, dict[str, Promotion]]]:
    """Run the promotions against a fresh registry once per distinct order of their registry calls (a depth-first
    walk: each run branches at every call where another promotion could have gone first)."""
    outcomes = []
    pending: list[list[str]] = [[]]
    while pending:
        prefix = pending.pop()
        registry, results, options = run_once(start, promotions, prefix)
        chosen = prefix + [runnable[0] for runnable in options[len(prefix) :]]
        for i in range(len(prefix), len(options)):
            pending.extend([*chosen[:i], alternative] for alternative in options[i][1:])
        outcomes.append((registry, results))
    return outcomes


STARTS = {
    "no champion yet": {1: {}, 2: {}},
    "champion 1": {1: {CHAMPION_TAG: "true"}, 2: {}, 3: {}},
    "two stale trues (a crashed promotion)": {1: {CHAMPION_TAG: "true"}, 2: {CHAMPION_TAG: "true"}, 3: {}, 4: {}},
}


@pytest.mark.parametrize("start", STARTS.values(), ids=list(STARTS))
def test_concurrent_promotions_leave_exactly_the_newest_one_champion(start: dict[int, dict[str, str]]) -> None:
    older, newer = sorted(start)[-2:]
    outcomes = every_interleaving(start, {"older": older, "newer": newer})
    assert len(outcomes) >= 10  # really interleaved: C(6, 3) orders of three calls each, fewer when one steps back
    for registry, results in outcomes:
        assert registry.marked() == [newer], registry.tags
        assert results["newer"].champion is True
        if results["older"].champion:
            # it was champion when it finished, and the newer one then replaced exactly it
            assert results["newer"].replaced == str(older)
        else:
            assert results["older"].newer == str(newer)
            assert registry.tags[older][CHAMPION_TAG] == "false"


def test_three_concurrent_promotions() -> None:
    outcomes = every_interleaving({1: {}, 2: {}, 3: {}}, {"a": 1, "b": 2, "c": 3})
    assert len(outcomes) > 1000
    for registry, results in outcomes:
        assert registry.marked() == [3]
        said_champion = {str(v) for v, name in ((1, "a"), (2, "b")) if results[name].champion}
        demoted = {version for result in results.values() for version in result.demoted}
        assert said_champion <= demoted  # every "I am champion" was demoted by a later promotion
        for result in results.values():
            assert result.champion == (result.newer is None)
            assert result.replaced == (result.demoted[0] if result.demoted else None)


# --- the rule when the champion changed after the gate ran ------------------------------------------------------


SPLIT = "ab" * 32


def decision(**changes: Any) -> dict[str, Any]:
    """What evaluate writes (the fields register reads): compared with champion 3, roc_auc 0.85."""
    base = {
        "mode": "enabled",
        "primary_metric": "roc_auc",
        "higher_is_better": True,
        "candidate_value": 0.85,
        "champion_version": "3",
        "min_improvement": 0.01,
        "register": True,
        "test_split_sha256": SPLIT,
    }
    return base | changes


def tags(value: float, split: str | None = SPLIT) -> dict[str, str]:
    return {"roc_auc": repr(value), "champion": "true"} | ({"test_split_sha256": split} if split else {})


RULES = {
    "same champion": (decision(), "3", tags(0.99), True, "replaces champion version 3, the one the gate compared"),
    "no champion then or now": (decision(champion_version=None), None, {}, True, "no champion to replace"),
    "compared champion gone": (decision(), None, {}, True, "champion version 3, the one the gate compared it with"),
    "new champion, re-check passes": (
        decision(),
        "5",
        tags(0.84),
        True,
        "the gate compared it with version 3, but version 5 became the champion since; the gate re-applied to its "
        "tagged roc_auc 0.8400 (same test split): improvement +0.0100 >= min_improvement 0.01, so it replaces "
        "version 5",
    ),
    "new champion, re-check fails": (
        decision(champion_version=None),
        "5",
        tags(0.845),
        False,
        "compared it with no champion, but version 5 became the champion since; the gate re-applied to its tagged "
        "roc_auc 0.8450 (same test split): improvement +0.0050 < min_improvement 0.01, so not made champion",
    ),
    "lower is better": (
        decision(primary_metric="log_loss", higher_is_better=False, candidate_value=0.30),
        "5",
        {"log_loss": "0.35", "test_split_sha256": SPLIT},
        True,
        "improvement +0.0500 >= min_improvement 0.01",
    ),
    "new champion on another test split": (
        decision(),
        "5",
        tags(0.5, split="cd" * 32),
        False,
        "cannot be compared with it (version 5 was not evaluated on the same test split",
    ),
    "new champion without tags (registered by older code)": (
        decision(),
        "5",
        {"champion": "true"},
        False,
        "version 5 has no roc_auc tag; version 5 was not evaluated on the same test split",
    ),
    "decision without a fingerprint": (
        decision(test_split_sha256=None),
        "5",
        tags(0.1),
        False,
        "decision.json has no test_split_sha256",
    ),
    "unknown mode enforces": (decision(mode=None), "5", tags(0.9), False, "-0.0500 < min_improvement"),
    "dry_run promotes over an unseen champion": (
        decision(mode="dry_run"),
        "5",
        tags(0.99),
        True,
        "gate_mode dry_run does not enforce the gate, so it replaces version 5",
    ),
    "disabled promotes over an unseen champion": (
        decision(mode="disabled"),
        "5",
        {},
        True,
        "gate_mode disabled does not enforce the gate",
    ),
}


@pytest.mark.parametrize(("decided", "current", "current_tags", "promotes", "reason"), RULES.values(), ids=list(RULES))
def test_champion_rule(decided: dict, current: str | None, current_tags: dict, promotes: bool, reason: str) -> None:
    allowed, why = champion_rule(decided, current, current_tags)
    assert allowed is promotes
    assert reason in why and "\n" not in why


def test_unenforced_modes_are_the_gates() -> None:
    assert set(gate.MODES) - set(register.UNENFORCED_MODES) == {"enabled"}
    assert set(register.UNENFORCED_MODES) < set(gate.MODES)


def register_into(registry: FakeRegistry, decided: dict, tags: dict, alive=None) -> dict:
    """register_and_promote on the fake registry: registering creates its next version."""
    extra = {} if alive is None else {"alive": alive}
    return register_and_promote(registry, NAME, "runs:/r/model", decided, tags, lambda s, n: registry.create(), **extra)


def test_register_and_promote_replaces_the_compared_champion() -> None:
    registry = FakeRegistry({1: {CHAMPION_TAG: "false"}, 2: tags(0.80) | {CHAMPION_TAG: "true"}})
    record = register_into(registry, decision(champion_version="2"), {"roc_auc": "0.85"})
    assert record["version"] == "3" and record["champion"] is True
    assert record["previous_champion_version"] == "2" and record["compared_champion_version"] == "2"
    assert record["tags"][CHAMPION_TAG] == "true" and registry.marked() == [3]


def test_register_and_promote_keeps_a_champion_the_candidate_does_not_beat() -> None:
    """The gate compared with version 2; version 4 became champion meanwhile and is better: 5 is registered only."""
    registry = FakeRegistry({2: {CHAMPION_TAG: "false"}, 4: tags(0.90)})
    record = register_into(registry, decision(champion_version="2"), {"roc_auc": "0.85"})
    assert record["version"] == "5" and record["champion"] is False
    assert record["previous_champion_version"] is None
    assert "version 2" in record["champion_reason"] and "version 4" in record["champion_reason"]
    assert registry.tags[5] == {"roc_auc": "0.85", CHAMPION_TAG: "false"}
    assert registry.marked() == [4]


def test_a_step_whose_engine_died_registers_nothing() -> None:
    registry = FakeRegistry({1: tags(0.8)})

    def gone() -> None:
        raise EngineGone("the mlops engine (pid 1) that started this step has exited; not changing the registry")

    with pytest.raises(EngineGone):
        register_into(registry, decision(), {}, gone)
    assert sorted(registry.tags) == [1]


def test_a_step_whose_engine_died_after_registering_changes_no_tag() -> None:
    registry = FakeRegistry({1: tags(0.8)})
    calls = []

    def dies_second_time() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise EngineGone("gone")

    with pytest.raises(EngineGone):
        register_into(registry, decision(champion_version="1"), {"roc_auc": "0.9"}, dies_second_time)
    assert registry.tags[2] == {} and registry.marked() == [1]


# --- the engine check and the lock ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The PID of a process that has exited (reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    return process.pid


def test_engine_check(dead_pid: int) -> None:
    check_engine_alive({})  # Azure: no engine to outlive
    check_engine_alive({ENGINE_PID: str(os.getpid())})
    with pytest.raises(EngineGone, match=f"pid {dead_pid}"):
        check_engine_alive({ENGINE_PID: str(dead_pid)})


def test_register_exits_1_with_one_line_when_its_engine_died(
    dead_pid: int, tmp_path, monkeypatch, capsys, inprocess_mlflow, mlflow_store, model_name: str
) -> None:
    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "decision.json").write_text('{"register": true, "mode": "disabled"}')
    (tmp_path / "evaluation" / "metrics.json").write_text('{"roc_auc": 0.8}')
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\nmetadata:\n  training_run_id: abc\n")
    monkeypatch.setenv(ENGINE_PID, str(dead_pid))
    monkeypatch.setenv(REGISTRY_LOCK, str(tmp_path / "registry.lock"))
    inprocess_mlflow("register")
    with pytest.raises(SystemExit) as exit_info:
        register.main(
            [
                "--model",
                str(tmp_path / "model"),
                "--evaluation",
                str(tmp_path / "evaluation"),
                "--model_name",
                model_name,
                "--registration",
                str(tmp_path / "registration"),
            ]
        )
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: register_model: the mlops engine (pid {dead_pid}) that started this step has exited; "
        "not changing the registry"
    ]
    assert search_versions(mlflow_store.client(), model_name) == []
    assert not (tmp_path / "registration" / "registration.json").exists()


def test_registry_lock_serialises_holders_and_says_it_waits(tmp_path) -> None:
    environ = {REGISTRY_LOCK: str(tmp_path / "state" / "registry.lock")}
    events: list[str] = []
    held = threading.Event()

    def first() -> None:
        with registry_lock(environ, echo=events.append):
            events.append("first in")
            held.set()
            time.sleep(0.3)
            events.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(timeout=10)
    with registry_lock(environ, echo=events.append):
        events.append("second in")
    thread.join(timeout=10)
    assert events[0] == "first in" and events[-2:] == ["first out", "second in"]
    assert any(event.startswith("waiting for the registry lock ") for event in events)


def test_registry_lock_without_the_variable_is_a_no_op(tmp_path) -> None:
    with registry_lock({}, echo=pytest.fail), registry_lock({}, echo=pytest.fail):
        pass  # not re-entrant when real: nesting only works because nothing is locked


# --- what the gate's numbers were measured on -------------------------------------------------------------------


def test_test_split_fingerprint(frame) -> None:
    from evaluate import fingerprint_test_split

    base = fingerprint_test_split(frame, "diabetic", 1)
    assert len(base) == 64 and fingerprint_test_split(frame.copy(), "diabetic", 1) == base
    changed = frame.copy()
    changed.loc[0, "bmi"] += 0.1
    others = {
        "a value": fingerprint_test_split(changed, "diabetic", 1),
        "the row order": fingerprint_test_split(frame.iloc[::-1], "diabetic", 1),
        "fewer rows": fingerprint_test_split(frame.iloc[1:], "diabetic", 1),
        "the target": fingerprint_test_split(frame, "sex", 1),
        "the positive class": fingerprint_test_split(frame, "diabetic", 0),
        "no positive class": fingerprint_test_split(frame, "diabetic", None),
    }
    assert base not in others.values() and len(set(others.values())) == len(others)
