"""The pages `mlops run` writes, opened in headless Chromium as a person would: each loads without a console error,
makes no network request (self-contained: opens offline and from an artifact store), and says first what matters.

The pages come from one `mlops run` in the trained state (the `whole_loop` fixture). Screenshots go to pytest's tmp
folder, or to the folder named by MLOPS_SCREENSHOTS when set (to look at them).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from chromium_page import available, render

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("trained"),
    pytest.mark.skipif(
        not available(),
        reason="Debian's chromium is not installed: `make test` installs it where apt-get can (as root); "
        "without a browser these checks cannot run",
    ),
]

CARDS = """[...document.querySelectorAll('[data-signal]')].map(card => ({
    signal: card.dataset.signal,
    status: card.dataset.status,
    breaching: [...card.querySelectorAll('.breaching li')].map(item => item.innerText.trim()),
    top: card.getBoundingClientRect().top,
}))"""
SECTIONS = """Object.fromEntries([...document.querySelectorAll('section[id]')]
    .map(section => [section.id, section.dataset.verdict ?? '']))"""
BROKEN_LINKS = """[...document.querySelectorAll('a[href^="#"]')]
    .map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))"""


@pytest.fixture(scope="module")
def printed(whole_loop) -> str:
    return whole_loop[0]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    named = os.environ.get("MLOPS_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def printed_path(printed: str, pattern: str) -> Path:
    found = re.search(pattern, printed, re.MULTILINE)
    assert found, f"`mlops run` did not print a line matching {pattern!r}:\n{printed}"
    path = Path(found.group(1).strip())
    assert path.is_file(), path
    return path


def opened(page: Path, shots: Path, name: str, evaluate: str = "null"):
    rendered = render(page, evaluate=evaluate, screenshot=shots / f"{name}.png")
    assert rendered.console_errors == [], f"{page}: console errors {rendered.console_errors}"
    assert rendered.network_requests() == [], f"{page} fetched from the network: {rendered.network_requests()}"
    assert rendered.screenshot.startswith(b"\x89PNG"), "no screenshot"
    return rendered


def test_the_drifted_windows_report_names_the_breaching_features_in_its_first_card(printed, shots, repo_root):
    report = printed_path(printed, r"^monitoring \(diabetes-production-drifted\): .*; report (\S+)$")
    rendered = opened(report, shots, "monitor-drifted", CARDS)
    cards = {card["signal"]: card for card in rendered.evaluated}
    drifted = json.loads((repo_root / "data/production/drift.json").read_text())["drifted_features"]
    breached = [card for card in cards.values() if card["status"] == "breach"]
    assert breached, f"no card says breach: {cards}"
    drift_card = next((card for card in breached if set(drifted) <= set(card["breaching"])), None)
    assert drift_card, f"no breach card names all of {drifted}: {breached}"
    assert set(cards["data_drift"]["breaching"]) == set(drifted), cards["data_drift"]
    assert drift_card["top"] < 900, "the breach card is below the first screen"
    assert all(feature in rendered.text for feature in drifted)
    assert render(report, evaluate=BROKEN_LINKS).evaluated == [], "a row links to a plot that is not on the page"


def test_the_baseline_windows_report_says_ok(printed, shots):
    report = printed_path(printed, r"^monitoring \(diabetes-production-baseline\): .*; report (\S+)$")
    cards = opened(report, shots, "monitor-baseline", CARDS).evaluated
    assert cards and {card["status"] for card in cards} <= {"ok", "not-enough-data"}, cards


def test_the_history_page_plots_each_window(printed, shots):
    history = printed_path(printed, r"history[^:\n]*: (\S+\.html)$")
    rendered = opened(history, shots, "monitor-history", "document.querySelectorAll('svg, img').length")
    assert rendered.evaluated >= 1, "the history page has no chart"
    assert "threshold" in rendered.text.lower()


def test_the_run_report_shows_the_gate_metrics_and_lineage_first(printed, shots):
    report = printed_path(printed, r"^run report: (\S+)$")
    sections = opened(report, shots, "run-report", SECTIONS).evaluated
    assert {"gate", "metrics", "lineage"} <= set(sections), sections
    assert sections["gate"], "the gate section carries no verdict"


def test_the_responsible_ai_report_opens(printed, shots):
    report = printed_path(printed, r"^responsible AI report: (\S+)$")
    assert "fairness" in opened(report, shots, "responsible-ai").text.lower()
