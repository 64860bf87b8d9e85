"""A real JupyterLab in a real headless Chromium, for the tests that judge the rendered page.

JupyterLab (PyPI) serves a folder of notebooks; a notebook signed with the server's own notary opens
trusted, an unsigned one untrusted (its HTML then goes through JupyterLab's sanitizer), exactly as a
user's would. Chromium is Debian's (``apt-get install chromium``), driven by playwright (PyPI), which
cannot download its own browser here. Whatever is missing skips the tests that need it, with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_or_skip() -> str:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    pytest.skip("no Chromium (apt-get install -y chromium)")


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on a folder of its own, its configuration and notary out of the user's."""

    def __init__(self, root: Path):
        pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install jupyterlab)")
        self.root = root
        self.data = root / ".jupyter-data"
        self.data.mkdir(parents=True)
        # no "Would you like to get notified about Jupyter news?" over the page
        settings = root / ".jupyter-config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
                    "JUPYTER_DATA_DIR": str(self.data), "JUPYTER_RUNTIME_DIR": str(root / ".jupyter-runtime")}
        self.log = open(root / ".jupyterlab.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={self.port}",
             "--ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
             f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api", timeout=1)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("JupyterLab did not start: " + (root / ".jupyterlab.log").read_text()[-2000:])
                time.sleep(0.2)

    def write(self, name: str, nb, trusted: bool) -> str:
        """Save ``nb``; signed by the server's notary when ``trusted``. Returns the page's address."""
        import nbformat
        from nbformat.sign import NotebookNotary

        nb = nbformat.from_dict(nb)
        nb.metadata["agentnb_test_copy"] = name       # two copies must not share a signature
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        if trusted:
            NotebookNotary(data_dir=str(self.data)).sign(nb)
        nbformat.write(nb, self.root / name)
        # a workspace of its own: JupyterLab would otherwise restore the notebook opened before
        return f"{self.url}/lab/workspaces/{Path(name).stem}/tree/{name}?reset"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def open_notebook(page, address: str, theme: str = "JupyterLab Light") -> None:
    """Open a notebook and wait until its outputs are drawn (the Mermaid diagram last), in ``theme``."""
    page.goto(address)
    page.wait_for_selector(".jp-OutputArea-output details", timeout=60_000)
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
                           ".every(i => i.complete)", timeout=30_000)
    page.wait_for_timeout(300)
