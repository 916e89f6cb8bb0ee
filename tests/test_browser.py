"""A real browser runs Lab 1's student notebook in JupyterLab, as a student would (with no
instructor tools, no news pop-up and the Validate button), and drives the explorer's widget
(take a step, go back, jump to a counterexample).

JupyterLab is served on localhost from a scratch copy of the lab; the system's Chromium (never a
downloaded browser), driven by Playwright, opens the notebook, runs every cell, and checks that
the only errors are the exercises a student has not done yet, and that figures render. On
failure a screenshot is written to tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from distlib.course.start import student_config, student_environment

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
LAB = "lab01-models"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.full]


def need_chromium() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run must install Debian's chromium package")
    pytest.skip("no system chromium on this workstation (Debian/Ubuntu: apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(tmp_path: Path, work: Path, notebook: str):
    """JupyterLab serving ``work``; yields the URL that opens ``notebook`` in it."""
    port, token = free_port(), "distcourse-browser-test"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path),
    )
    # A student's JupyterLab, configured as `distcourse start` configures it.
    env = student_environment(student_config(tmp_path / "student"), base=env)
    log = open(tmp_path / "jupyter.log", "w")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.disable_check_xsrf=True",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("JupyterLab exited:\n" + (tmp_path / "jupyter.log").read_text())
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield f"{base}/lab/tree/{notebook}?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab serving a scratch copy of Lab 1's student notebook; yields its URL."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "labs" / LAB, work)
    with jupyterlab(tmp_path, work, f"{LAB}.ipynb") as url:
        yield url


def wait_until_idle(page) -> None:
    """Wait for JupyterLab to open the notebook and for its kernel to be ready."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.connectionStatus === 'connected'"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=90_000,
    )


def test_student_runs_lab1_in_a_browser(lab_server):
    """All cells run; errors come only from unimplemented exercises; a figure is rendered."""
    chromium = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(lab_server, wait_until="domcontentloaded", timeout=90_000)
            # Wait until the kernel is ready, then run every cell through JupyterLab's own command.
            wait_until_idle(page)
            # Run the cells one at a time, as a student working down the notebook does: with
            # "Run All" the kernel would skip everything after the first unfinished exercise.
            ran = page.evaluate(
                """async () => {
                    const app = window.jupyterapp;
                    const panel = app.shell.currentWidget;
                    const nb = panel.content;
                    let ran = 0;
                    for (let i = 0; i < nb.widgets.length; i++) {
                        if (nb.widgets[i].model.type !== 'code') continue;
                        nb.activeCellIndex = i;
                        await app.commands.execute('notebook:run-cell');
                        ran++;
                    }
                    return ran;
                }"""
            )
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
                " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
                timeout=240_000,
            )
            assert ran >= 10, f"only {ran} code cells were run"
            # What a student sees: no instructor tools, no news pop-up, the Validate button.
            menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
            assert menus and "Nbgrader" not in menus, f"the menu bar shows {menus}"
            html = page.content()
            assert "Create Assignment" not in html and "Formgrader" not in html
            assert "notified about" not in html, "JupyterLab's news pop-up is showing"
            assert page.get_by_role("button", name="Validate").count() >= 1, "no Validate button"
            errors = page.eval_on_selector_all(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                "els => els.map(e => e.textContent)",
            )
            unexpected = [e for e in errors if "NotImplementedError" not in e]
            assert not unexpected, "unexpected error output in the student notebook:\n" + (
                "\n---\n".join(e[-600:] for e in unexpected)
            )
            assert errors, "the unanswered exercises should fail with NotImplementedError"
            images = page.locator(".jp-RenderedImage img").count()
            assert images >= 3, f"expected rendered figures in the lab, found {images}"
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-lab01.png"), full_page=True)
            raise
        finally:
            browser.close()


EXPLORER_NOTEBOOK = "explorer.ipynb"
EXPLORER_CELL = """\
from distlib.explore import Explorer, agreement, chosen, explore_widget
from distlib.protocols.paxos import PaxosNode
from distlib.testing.broken import PromiseBreakingAcceptor

nodes = {
    "n0": lambda: PaxosNode(value="v0"),
    "n1": lambda: PaxosNode(value="v1"),
    "n2": PromiseBreakingAcceptor,
}
explorer = Explorer(nodes, properties=[agreement(), chosen()], timers=1)
result = explorer.search()
explore_widget(explorer, result)
"""


@pytest.fixture
def explorer_server(tmp_path):
    """JupyterLab serving a one-cell notebook (written here, not a lab) that builds the explorer
    widget for Paxos with an acceptor that breaks its promises; yields its URL."""
    work = tmp_path / "work"
    work.mkdir()
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "explorer",
                "metadata": {},
                "outputs": [],
                "source": EXPLORER_CELL.splitlines(keepends=True),
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (work / EXPLORER_NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
    with jupyterlab(tmp_path, work, EXPLORER_NOTEBOOK) as url:
        yield url


def test_explorer_widget_steps_goes_back_and_jumps_to_the_counterexample(explorer_server):
    """In JupyterLab the explorer widget renders; clicking an enabled step takes it, back undoes
    it, and jumping to the counterexample shows the violated property and the path's diagram;
    back and forward step through the counterexample."""
    chromium = need_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        try:
            page.goto(explorer_server, wait_until="domcontentloaded", timeout=90_000)
            wait_until_idle(page)
            page.evaluate(
                """async () => {
                    const app = window.jupyterapp;
                    app.shell.currentWidget.content.activeCellIndex = 0;
                    await app.commands.execute('notebook:run-cell');
                }"""
            )
            widget = page.locator(".distlib-explorer")
            expect(widget).to_be_visible(timeout=90_000)
            position = widget.locator(".distlib-explorer-position")
            expect(position).to_contain_text("depth 0", timeout=30_000)
            steps = widget.locator(".distlib-explorer-step")
            expect(steps.first).to_be_visible(timeout=30_000)
            assert steps.count() == 5, f"5 timers may fire at first, found {steps.count()} steps"
            expect(widget.locator(".distlib-explorer-status")).to_contain_text(
                "every invariant holds"
            )

            widget.locator(".distlib-explorer-step", has_text="'proposer' fires at n1").click()
            expect(position).to_contain_text("depth 1")
            expect(steps.filter(has_text="deliver Prepare")).to_have_count(2)
            expect(widget.locator(".distlib-explorer-path")).to_contain_text(
                "1. timer 'proposer' fires at n1"
            )

            widget.locator(".distlib-explorer-back").click()
            expect(position).to_contain_text("depth 0")

            widget.locator(".distlib-explorer-jump").click()
            expect(position).to_contain_text("depth 8", timeout=30_000)
            violated = widget.locator(".distlib-explorer-violated")
            expect(violated).to_contain_text("Agreement violated", timeout=30_000)
            diagram = widget.locator(".distlib-explorer-diagram")
            expect(diagram).to_contain_text("Agreement violated after 8 steps", timeout=30_000)
            expect(diagram.locator("img")).to_have_count(1)
            page.wait_for_function(
                "() => { const i = document.querySelector('.distlib-explorer-diagram img');"
                " return i && i.complete && i.naturalWidth > 200; }",
                timeout=30_000,
            )

            # Back and forth through the counterexample: the last step is the one that breaks it.
            widget.locator(".distlib-explorer-back").click()
            expect(position).to_contain_text("depth 7")
            expect(violated).to_have_count(0)
            expect(widget.locator(".distlib-explorer-status")).to_contain_text(
                "every invariant holds"
            )
            expect(diagram).to_contain_text("diagram of the path: 7 steps", timeout=30_000)
            widget.locator(".distlib-explorer-forward").click()
            expect(violated).to_contain_text("Agreement violated", timeout=30_000)
            expect(diagram).to_contain_text("Agreement violated after 8 steps", timeout=30_000)
            expect(diagram.locator("img")).to_have_count(1)

            errors = page.eval_on_selector_all(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                "els => els.map(e => e.textContent)",
            )
            assert not errors, "error output in the explorer notebook:\n" + "\n".join(errors)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-explorer.png"), full_page=True)
            raise
        finally:
            browser.close()
