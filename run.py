#!/usr/bin/env python3
"""kafkalab's two commands, using only the standard library.

    python3 run.py course   # set up (first time), then open JupyterLab on the first notebook
    python3 run.py test     # set up (first time), then run every test (unit, scenario, graders,
                            # notebooks under nbval, the headless-browser checks, the browser edition)
    python3 run.py lite     # build the zero-install edition (JupyterLite + Pyodide) into build/lite/

Set-up: a virtual environment in .venv, uv from PyPI to install into it (pip if uv cannot be had),
kafkalab itself (editable) with its extras. Re-runs skip the install while pyproject.toml is
unchanged. ``test`` also installs Debian's chromium (and kcat, for the real-client battery) when it
is missing and this is a root shell on a Debian/Ubuntu machine; elsewhere the browser test (and the
kcat tests) are skipped and say why. Extra arguments after
``test`` go to pytest (``python3 run.py test -k murmur``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
FIRST_NOTEBOOK = "notebooks/00-how-to-use-this-course.ipynb"
MINIMUM_PYTHON = (3, 11)


def say(message: str) -> None:
    print(f"[kafkalab] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(command: list[str], **kwargs) -> None:
    subprocess.run(command, check=True, **kwargs)


def ensure_environment(extra: str) -> Path:
    """Create .venv and install kafkalab[extra] into it unless it is already up to date."""
    if sys.version_info < MINIMUM_PYTHON:
        sys.exit(
            f"kafkalab needs Python {MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} or newer; this is {sys.version.split()[0]}. "
            "Install a newer Python (python.org, your package manager, or `uv python install 3.12`) and run this again with it."
        )
    python = venv_python()
    if not python.exists():
        say(f"creating a virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    stamp = VENV / f".kafkalab-installed-{extra}"
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    say(f"installing kafkalab[{extra}] and its dependencies (first run only; ~1 minute)")
    uv_ready = subprocess.run([str(python), "-m", "uv", "--version"], capture_output=True).returncode == 0
    if not uv_ready:
        uv_ready = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv"]).returncode == 0
    target = f"{ROOT}[{extra}]"
    if uv_ready:
        run([str(python), "-m", "uv", "pip", "install", "--quiet", "--python", str(python), "-e", target])
    else:
        say("uv is not available; using pip (slower)")
        run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target])
    stamp.write_text(wanted)
    if extra == "test":  # the test extra includes the course and lite extras
        for included in ("course", "lite"):
            (VENV / f".kafkalab-installed-{included}").write_text(hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + included.encode()).hexdigest())
    if extra == "lite":
        (VENV / ".kafkalab-installed-course").write_text(hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + b"course").hexdigest())
    return python


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def ensure_chromium() -> None:
    """Install Debian's chromium for the browser test when we can; otherwise that test skips."""
    if find_chromium() or os.environ.get("KAFKALAB_NO_BROWSER_INSTALL"):
        return
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (is_root and shutil.which("apt-get")):
        say("no Chromium found and no root apt-get to install it: the browser test will be skipped")
        return
    say("installing Debian's chromium for the browser test (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    if subprocess.run(["apt-get", "update"], **quiet).returncode != 0 or subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"], **quiet
    ).returncode != 0:
        say("apt-get could not install chromium: the browser test will be skipped")


def ensure_kcat() -> None:
    """Install Debian's kcat for the real-client battery (tests/wire) when we can; otherwise its kcat tests skip."""
    if shutil.which("kcat") or shutil.which("kafkacat"):
        return
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (is_root and shutil.which("apt-get")):
        say("no kcat found and no root apt-get to install it: the kcat tests will be skipped")
        return
    say("installing Debian's kcat for the real-client battery (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    if subprocess.run(["apt-get", "update"], **quiet).returncode != 0 or subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "kcat"], **quiet
    ).returncode != 0:
        say("apt-get could not install kcat: the kcat tests will be skipped")


def course(args: list[str]) -> int:
    python = ensure_environment("course")
    say(f"opening JupyterLab on {FIRST_NOTEBOOK} (stop it with Ctrl+C)")
    command = [str(python), "-m", "jupyter", "lab", FIRST_NOTEBOOK, "--LabApp.news_url=None", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return subprocess.call(command, cwd=ROOT)


def test(args: list[str]) -> int:
    python = ensure_environment("test")
    ensure_chromium()
    ensure_kcat()
    command = [
        str(python), "-m", "pytest", "tests", "notebooks",
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
        "--nbval-sanitize-with", "tests/notebooks/sanitize.cfg",
        *args,
    ]
    say(" ".join(command[1:]))
    code = subprocess.call(command, cwd=ROOT)
    if code == 5:
        say("pytest collected no tests: that is a failure")
        return 1
    return code


def lite(args: list[str]) -> int:
    python = ensure_environment("lite")
    return subprocess.call([str(python), str(ROOT / "lite" / "build.py"), *args], cwd=ROOT)


COMMANDS = {"course": course, "test": test, "lite": lite}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
