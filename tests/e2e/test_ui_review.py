"""The Dagster UI in a real browser: a finished build's run panel, and an approval from the
Launchpad. `mb ui` runs on its own storage root and a free port; Debian's chromium drives it
through Playwright. Screenshots are kept in test-artifacts/ui/ (the path is printed)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mb_core.models import ApprovalDecision, BuildRun, BuildStatus, EvalReport
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id

REPO = Path(__file__).resolve().parents[2]
MB = str(Path(sys.executable).parent / "mb")
CHROMIUM = "/usr/bin/chromium"  # Debian's package (make system / .ci/run install it)
SHOTS = REPO / "test-artifacts" / "ui"
LOCATION = "mb_dagster.definitions:defs"
FINISHED = "Build a CRM system with contacts and deals"
WAITING = "Build a ledger of invoices and payments"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_signals() -> None:
    # A shell that started the tests in the background leaves SIGINT/SIGTERM ignored; dagster
    # dev inherits that and could then only be killed.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _wait_for(what: str, ready, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _build(env: BuildEnvironment, text: str) -> str:
    from mb_dagster import driver
    from mb_dagster.instance import open_instance

    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=text, status=BuildStatus.running))
    driver.run_build(env, open_instance(env.settings), build_id)
    return build_id


@pytest.fixture
def ui(mb_home, monkeypatch):
    """A released build, a build waiting at the gate, and `mb ui` serving both."""
    env = BuildEnvironment.open(Settings.from_env())
    finished = _build(env, FINISHED)
    assert env.store.get_build(finished).status == BuildStatus.released
    monkeypatch.setenv("MB_RISK_THRESHOLD", "1")  # every risk holds this one for a person
    waiting = _build(env, WAITING)
    monkeypatch.delenv("MB_RISK_THRESHOLD")
    assert env.store.get_build(waiting).status == BuildStatus.awaiting_approval

    port = _free_port()
    log = (mb_home / "ui.log").open("wb")
    proc = subprocess.Popen([MB, "ui", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"},
                            preexec_fn=_reset_signals,  # noqa: PLW1509 - no threads yet
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for("the Dagster UI", lambda: proc.poll() is None and _answers(f"{base}/server_info"),
                  timeout=240, every=2)
        yield env, base, finished, waiting
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


def _close_community_dialog(page) -> None:
    """A new instance greets the first visit with "Join the Dagster community": Skip it."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=20_000)
    except Exception:  # noqa: BLE001 - the dialog did not come: nothing to close
        return
    skip.click()
    skip.wait_for(state="hidden", timeout=10_000)


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_run_panel_and_launchpad_approval_in_a_browser(ui):
    from playwright.sync_api import expect, sync_playwright

    env, base, finished, waiting = ui
    report = env.assets.read("eval_report", finished, EvalReport)
    gate = env.store.get_gate(finished)
    first_test = report.tests[0].nodeid
    assert os.path.exists(CHROMIUM), "chromium is missing: apt-get install -y chromium (make system)"

    expect.set_options(timeout=120_000)  # the UI answers slowly on a loaded machine
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        finished_ok = False
        try:
            # The run panel: the finished build's eval_report materialization.
            page.goto(f"{base}/assets/eval_report?view=partitions&partition={finished}")
            _close_community_dialog(page)
            metadata = page.get_by_text("spec_first_line", exact=True)
            expect(metadata).to_be_visible()
            for key in ("risk_score", "confidence_level", "requirements", "budget", "tests"):
                expect(page.get_by_text(key, exact=True).first).to_be_visible()
            expect(page.get_by_text(f"{gate.risk_score}/100", exact=False).first).to_be_visible()
            level = f"{report.confidence.score}/100 ({report.confidence.level.value})"
            expect(page.get_by_text(level).first).to_be_visible()
            expect(page.get_by_text("records of contact").first).to_be_visible()  # requirements table
            expect(page.get_by_text(first_test).first).to_be_visible()  # per-test table
            _shot(page, "run_panel")

            # The Launchpad: pick the waiting build's partition, give the reviewer, launch.
            page.goto(f"{base}/locations/{LOCATION}/jobs/approve_build_job/playground")
            _close_community_dialog(page)
            launch = page.get_by_role("button", name=re.compile("Launch Run"))
            expect(launch).to_be_visible()
            partition = page.get_by_placeholder("Partition")
            partition.click()
            partition.fill(waiting)
            partition.press("Enter")
            page.locator(".CodeMirror").first.click()
            page.keyboard.press("Control+A")
            page.keyboard.insert_text("ops:\n  approve_build:\n    config:\n      reviewer: ana\n"
                                      "      comment: read the diff in the browser\n")
            expect(page.get_by_text('Missing required config entry "reviewer"')).to_have_count(0)
            _shot(page, "launchpad")
            launch.click()

            gate_now = _wait_for("the approval in the store", lambda: (
                g if (g := env.store.get_gate(waiting)).decision != ApprovalDecision.pending
                else None), timeout=180, every=2)
            assert (gate_now.decision, gate_now.decided_by, gate_now.reason) == (
                ApprovalDecision.approved, "ana", "read the diff in the browser")
            assert gate_now.decided_at is not None
            # The daemon's approvals sensor releases it, as after `mb approve`.
            _wait_for("the release", lambda: env.store.get_build(waiting).status
                      == BuildStatus.released, timeout=300, every=3)
            _shot(page, "approval_run")
            finished_ok = True
        finally:
            if not finished_ok:
                _shot(page, "failure")
            browser.close()
