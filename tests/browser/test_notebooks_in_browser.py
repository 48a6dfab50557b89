"""Each notebook in a real browser: JupyterLab headless, Chromium driven by Playwright.

For every notebook: open it, Run All, wait until every code cell ran and the kernel is idle, then
check there is no error output (cells tagged ``raises-exception`` excepted), that widgets rendered
(no "Loading widget...", no "Error displaying widget"), and that moving the first slider changes
what the widgets show. Skips — with the reason — when Chromium or Playwright is missing; never a
silent pass. Uses Debian's chromium (``executable_path``); never ``playwright install``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory):
    if chromium_path() is None:
        pytest.skip("no Chromium on this machine (python3 run.py test installs Debian's chromium when run as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(runtime / "config")}
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root",
    ]
    log = open(runtime / "server.log", "w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(runtime / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        os.killpg(server.pid, signal.SIGKILL)
        pytest.fail("JupyterLab did not start within 60 s")
    yield base, token
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def browser(jupyter_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


STATE_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) { cells.push(model.cells.get(i).toJSON()); }
  const running = Array.from(panel.content.node.querySelectorAll('.jp-InputPrompt')).some(n => n.textContent.includes('*'));
  return {kernel: kernel ? kernel.status : 'none', running, cells};
}"""

WIDGET_TEXT_JS = """() => Array.from(document.querySelectorAll('.jp-OutputArea .widget-html-content, .jp-OutputArea .widget-output, .jp-OutputArea .widget-label'))
  .map(n => n.innerText).join('\\n')"""


def wait_for_run_all(page, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    idle_since = None
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS)
        code = [c for c in (state or {}).get("cells", []) if c["cell_type"] == "code"]
        done = state and code and all(c.get("execution_count") for c in code) and not state["running"] and state["kernel"] == "idle"
        if done:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 1.5:
                return state
        else:
            idle_since = None
        time.sleep(0.5)
    raise AssertionError(f"Run All did not finish within {timeout_s} s: {json.dumps(state)[:2000] if state else 'no notebook panel'}")


def error_outputs(state: dict) -> list[str]:
    problems = []
    for index, cell in enumerate(state["cells"]):
        if cell["cell_type"] != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return problems


def assert_ran_cleanly_with_live_widgets(page, state: dict) -> None:
    """No error outputs (raises-exception cells excepted), widgets rendered, and the first slider changes an output."""
    assert not error_outputs(state), error_outputs(state)
    has_widgets = any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for cell in state["cells"] if cell["cell_type"] == "code" for output in cell.get("outputs", [])
    )
    assert "Error displaying widget" not in page.inner_text(".jp-Notebook")
    if has_widgets:
        page.wait_for_function("() => !document.querySelector('.jp-Notebook').innerText.includes('Loading widget...')", timeout=60_000)
        assert page.locator(".jp-OutputArea .jupyter-widgets").count() > 0, "widgets did not render"
        handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
        if handle.count():
            before = page.evaluate(WIDGET_TEXT_JS)
            handle.scroll_into_view_if_needed()
            handle.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and page.evaluate(WIDGET_TEXT_JS) == before:
                time.sleep(0.3)
            assert page.evaluate(WIDGET_TEXT_JS) != before, "moving the first slider changed no widget output"


def run_notebook_in_browser(base: str, token: str, browser, relative_path: str, screenshots: Path) -> None:
    """Open one notebook, Run All, and assert: no errors, widgets rendered, the first slider is live."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{base}/lab/tree/{relative_path}?token={token}&reset", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext && window.jupyterapp.shell.currentWidget.sessionContext.session && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=90_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=90_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        state = wait_for_run_all(page)
        assert_ran_cleanly_with_live_widgets(page, state)
    except BaseException:
        shot = screenshots / (Path(relative_path).stem + ".png")
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        raise
    finally:
        page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_the_browser_with_live_widgets(jupyter_server, browser, notebook: Path, tmp_path: Path) -> None:
    base, token = jupyter_server
    run_notebook_in_browser(base, token, browser, f"notebooks/{notebook.name}", tmp_path)


# The harness must be able to fail: notebooks written during the test (so nbval never collects them).
HARNESS_CASES = {
    "a-cell-raises": (["import ipywidgets as w\nw.IntSlider()", "1/0"], "ZeroDivisionError"),
    "a-dead-slider": (["import ipywidgets as w\nw.VBox([w.IntSlider(), w.HTML('static')])"], "changed no widget output"),
}


@pytest.mark.parametrize("case", sorted(HARNESS_CASES))
def test_the_harness_fails_a_broken_notebook(jupyter_server, browser, case: str, tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    sources, expected = HARNESS_CASES[case]
    folder = ROOT / "tests" / "browser" / "_generated"
    folder.mkdir(exist_ok=True)
    path = folder / f"{case}.ipynb"
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    base, token = jupyter_server
    try:
        with pytest.raises(AssertionError, match=expected):
            run_notebook_in_browser(base, token, browser, path.relative_to(ROOT).as_posix(), tmp_path)
    finally:
        path.unlink()
