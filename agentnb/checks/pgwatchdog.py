"""Stops a throwaway PostgreSQL cluster when the process that started it dies, however it dies.

``pgserver`` starts this file as a script (``python -I -S pgwatchdog.py FOLDER``), detached in a session
of its own, right after it creates the cluster's folder and before ``initdb``: a kernel killed with
SIGKILL runs no ``atexit``, and its process group may be killed with it, but this process lives on.
It waits for the owner named in ``FOLDER/owner.json`` to exit (a pidfd: no polling, no pid reuse
mistake), then stops the cluster (``pg_ctl stop -m immediate``), kills whatever still runs from the
folder (an ``initdb`` or a postmaster still starting) and removes the folder.

``pgserver`` also imports it to clean what an earlier crash left when even this process could not run
(a machine reboot, a killed session): ``sweep()``. Standard library only: it starts in ~20 ms.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

OWNER_FILE = "owner.json"
PREFIX = "agentnb-pg-"


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot, from /proc), None when there is no such process.

    A pid and its start time name one process for good: pids are reused, start times with them are not.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        if not os.path.isdir("/proc/self"):     # no /proc: the pid alone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass
            return "?"
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_alive(info: dict) -> bool:
    start = process_start(int(info["pid"]))
    return start is not None and (start == "?" or info.get("start") in (None, "?", start))


def read_owner(folder: str) -> dict | None:
    try:
        with open(os.path.join(folder, OWNER_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _processes_using(folder: str) -> list[int]:
    """Processes whose command line names the folder (postmaster, initdb, postgres --single...)."""
    mine = {os.getpid(), os.getppid()}
    found = []
    needle = os.path.join(folder, "").encode()
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline.replace(b"\0", b" ") + b"/" and b"pgwatchdog" not in cmdline:
            found.append(int(entry))
    return found


def stop_cluster(folder: str, info: dict) -> None:
    """Stop the cluster in ``folder`` if it runs, then remove the folder. Safe to run twice at once."""
    data = os.path.join(folder, "data")
    pg_ctl, runas = info.get("pg_ctl"), info.get("user")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    if pg_ctl and os.path.exists(os.path.join(data, "postmaster.pid")):
        prefix = ["runuser", "-u", runas, "--"] if runas else []
        try:
            subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "20", "stop"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env, timeout=30)
        except (OSError, subprocess.SubprocessError):
            pass
    for _ in range(20):          # a postmaster still starting, an initdb: nothing may keep using it
        pids = _processes_using(folder)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
    shutil.rmtree(folder, ignore_errors=True)


def sweep(parents: list[str]) -> list[str]:
    """Clean the folders of clusters whose owner is gone (and whose watchdog could not): their paths."""
    cleaned = []
    for parent in dict.fromkeys(parents):
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            folder = os.path.join(parent, name)
            if not name.startswith(PREFIX):
                continue
            info = read_owner(folder)
            if info is None or owner_alive(info):
                continue        # no owner file: not made by this version of agentnb; leave it alone
            stop_cluster(folder, info)
            cleaned.append(folder)
    return cleaned


def wait_for_exit(pid: int, start: str | None) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        fd = None
    if process_start(pid) != start and start not in (None, "?"):
        return      # already gone, and the pid now names another process
    if fd is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll():
            pass
        os.close(fd)
        return
    while owner_alive({"pid": pid, "start": start}):
        time.sleep(0.5)


def main(folder: str) -> None:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    info = read_owner(folder)
    if info is None:
        return
    wait_for_exit(int(info["pid"]), info.get("start"))
    if os.path.isdir(folder):
        stop_cluster(folder, info)


if __name__ == "__main__":
    main(sys.argv[1])
