"""agentnb's own PostgreSQL cluster dies with the process that started it, however that process dies.

Judged from outside: the ``agentnb-pg-*`` folders and the postmasters a killed process started (found
by the owner pid in each folder's ``owner.json`` and by the data folder on each postmaster's command
line), counted before, while it runs and after it is killed. Other processes' clusters on the machine
are not counted. Waits are bounded polls, never fixed sleeps.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agentnb.checks import pgserver

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from agentnb.checks import pgserver
server = pgserver.get_server()
print(server.folder, flush=True)
sys.stdin.read()          # until killed
"""


@pytest.fixture(scope="module", autouse=True)
def binaries():
    if not pgserver.find_bindirs():
        pytest.skip("no PostgreSQL binaries on this machine")


def folders_of(pid: int) -> list[str]:
    """The cluster folders whose owner is ``pid``."""
    found = []
    for parent in {tempfile.gettempdir(), "/tmp"}:
        for folder in glob.glob(os.path.join(parent, "agentnb-pg-*")):
            try:
                owner = json.loads(Path(folder, "owner.json").read_text())
            except (OSError, ValueError):
                continue
            if owner.get("pid") == pid:
                found.append(folder)
    return found


def cmdlines():
    """(pid, command line split on NULs) of every process still there to be read."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                yield int(entry), Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue


def postmasters_in(folder: str) -> list[int]:
    """Processes running PostgreSQL from ``folder`` (the postmaster names its data folder)."""
    data = os.path.join(folder, "data").encode()
    return [pid for pid, cmdline in cmdlines() if os.path.basename(cmdline[0]) == b"postgres" and data in cmdline]


def running(pid: int) -> bool:
    try:
        state = Path("/proc", str(pid), "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")      # a zombie has exited; only its parent's wait() is missing


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "AGENTNB_POSTGRES_URL"}   # its own cluster
    env["PYTHONPATH"] = str(REPO)
    env["ANTHROPIC_API_KEY"] = "sk-ant-kernel-secret-4242"
    return env


def start_child() -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    folder = child.stdout.readline().strip()
    assert folder, "the child could not start a server"
    return child, folder


def test_a_process_killed_with_sigkill_leaves_no_cluster():
    child, folder = start_child()
    try:
        assert folders_of(child.pid) == [folder]
        (postmaster,) = postmasters_in(folder)
        # the server got a clean environment: nothing of the owner's, its API key least of all
        environ = Path("/proc", str(postmaster), "environ").read_bytes()
        assert b"ANTHROPIC" not in environ and b"sk-ant-kernel-secret" not in environ
    finally:
        os.killpg(child.pid, signal.SIGKILL)      # its whole process group, as a kernel manager does
        child.wait()
    assert wait_until(lambda: not os.path.exists(folder) and not postmasters_in(folder))
    assert folders_of(child.pid) == []
    assert wait_until(lambda: not running(postmaster))


def watchdog_of(folder: str) -> int:
    for pid, cmdline in cmdlines():
        if any(b"pgwatchdog" in part for part in cmdline) and folder.encode() in cmdline:
            return pid
    raise AssertionError(f"no watchdog for {folder}")


def test_what_a_crash_left_is_cleaned_by_the_next_start():
    # the owner and its watchdog both killed (a reboot, a killed session): the cluster stays...
    first, folder = start_child()
    os.kill(watchdog_of(folder), signal.SIGKILL)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    (postmaster,) = postmasters_in(folder)
    # ...until the next process that starts a cluster cleans it
    second, second_folder = start_child()
    try:
        assert wait_until(lambda: not os.path.exists(folder) and not postmasters_in(folder))
        assert os.path.exists(second_folder)
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait()
    assert wait_until(lambda: not os.path.exists(second_folder) and not postmasters_in(second_folder))


def test_a_clean_exit_stops_the_cluster_at_once():
    code = ("from agentnb.checks import pgserver\n"
            "print(pgserver.get_server().folder)\n")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True,
                         timeout=120)
    folder = out.stdout.strip()
    assert folder.startswith(tempfile.gettempdir()) or folder.startswith("/tmp"), out.stderr
    assert not os.path.exists(folder) and not postmasters_in(folder)      # no wait: atexit did it


def test_the_cluster_listens_on_no_tcp_port(shared_postgres):
    server = pgserver.get_server()
    with server.connect() as conn:
        listen = conn.execute("SELECT current_setting('listen_addresses')").fetchone()[0]
    assert listen == ""


def test_a_kernel_shut_down_with_sigkill_leaves_no_cluster(tmp_path):
    """As nbval, papermill's timeouts and `agentnb run` end a kernel: shutdown_kernel(now=True)."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=child_env())
    try:
        msg_id = kc.execute("from agentnb.checks import pgserver\nprint(pgserver.get_server().folder)")
        reply = kc.get_shell_msg(timeout=120)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=120)
        assert reply["content"]["status"] == "ok", reply
        folder = ""
        while not folder:
            msg = kc.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "stream":
                folder = msg["content"]["text"].strip()
        kernel_pid = km.provisioner.pid
        assert folders_of(kernel_pid) == [folder] and len(postmasters_in(folder)) == 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert wait_until(lambda: not os.path.exists(folder) and not postmasters_in(folder))
