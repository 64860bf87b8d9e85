"""``--apply`` with hostile or careless answers, judged from the folder: what is on disk afterwards."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from agentnb.apply import ApplyError
from agentnb.response import Response


def answer(*files: tuple[str, str]) -> Response:
    """An answer holding one fenced block per (file name, code), named by a path comment."""
    blocks = []
    for name, code in files:
        lang = "python" if name.endswith(".py") else "bash" if name.endswith(".sh") else "text"
        blocks.append(f"```{lang} title=\"{name}\"\n{code}```\n")
    return Response(text="Here are the files.\n\n" + "\n".join(blocks), agent="backend-dev", model="m")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int] | str]:
    """Every entry under ``folder``: content and mode for files, the target for links."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        else:
            out[rel] = "dir"
    return out


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})


def test_new_files_are_written_without_execute_bits(tmp_path):
    r = answer(("app/main.py", "print('hi')\n"), ("scripts/run.sh", "#!/bin/sh\necho run\n"))
    result = r.apply(tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "app" / "main.py").read_text() == "print('hi')\n"
    umask = os.umask(0)
    os.umask(umask)
    for name in ("app/main.py", "scripts/run.sh"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644 & ~umask
    assert result.written == ["app/main.py", "scripts/run.sh"]
    assert "wrote 2 file(s)" in str(result)
    assert sorted(p.name for p in out.iterdir()) == ["app", "scripts"]      # no staging folder left


def test_scripts_are_executable_only_when_asked(tmp_path):
    r = answer(("run.sh", "#!/bin/sh\necho run\n"), ("notes.sh", "echo not a script\n"))
    result = r.apply(tmp_path, executable_scripts=True)
    assert os.access(tmp_path / "run.sh", os.X_OK)
    assert not os.access(tmp_path / "notes.sh", os.X_OK)      # no shebang: stays plain
    assert result.executable == ["run.sh"]


def test_git_config_with_fsmonitor_is_refused_and_nothing_is_written(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    assert git(repo, "init", "-q").returncode == 0
    before = snapshot(repo)
    marker = tmp_path / "pwned"
    r = answer(("README.md", "# project\n"),
               (".git/config", f"[core]\n\tfsmonitor = touch {marker}\n"),
               ("src/app.py", "x = 1\n"))
    with pytest.raises(ApplyError) as info:
        r.apply(repo)
    assert "'.git/config'" in str(info.value) and "version-control" in str(info.value)
    assert "Nothing written to" in str(info.value)
    assert snapshot(repo) == before                    # not even README.md or src/
    git(repo, "status")
    assert not marker.exists()


@pytest.mark.parametrize("name", [".git/hooks/pre-commit", "sub/.git/config", ".GIT/config", ".git",
                                  ".hg/hgrc", "./.svn/entries"])
def test_version_control_internals_anywhere_in_the_path(tmp_path, name):
    with pytest.raises(ApplyError, match="version-control"):
        answer((name, "x\n")).apply(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_executable_hook_is_not_replaced(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    before = snapshot(repo)
    with pytest.raises(ApplyError):
        answer((".git/hooks/pre-commit", f"#!/bin/sh\ntouch {tmp_path / 'pwned'}\n")).apply(repo, overwrite=True,
                                                                                      executable_scripts=True)
    assert snapshot(repo) == before
    # and through a link planted inside the folder
    (repo / "hooks").symlink_to(repo / ".git" / "hooks")
    with pytest.raises(ApplyError, match=r"\.git/"):
        answer(("hooks/pre-commit", "#!/bin/sh\necho x\n")).apply(repo, overwrite=True)
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_a_file_the_user_edited_is_kept_unless_overwrite(tmp_path):
    answer(("app/main.py", "v = 1\n"), ("schema.sql", "CREATE TABLE a (id int);\n")).apply(tmp_path)
    (tmp_path / "app" / "main.py").write_text("v = 1  # my edit\n")
    r = answer(("app/main.py", "v = 2\n"), ("schema.sql", "CREATE TABLE a (id int);\n"), ("new.txt", "n\n"))
    result = r.apply(tmp_path)
    assert (tmp_path / "app" / "main.py").read_text() == "v = 1  # my edit\n"
    assert (result.written, result.unchanged, result.kept) == (["new.txt"], ["schema.sql"], ["app/main.py"])
    message = str(result)
    assert "not replaced" in message and "app/main.py" in message and "--overwrite" in message
    assert "unchanged: schema.sql" in message
    again = r.apply(tmp_path, overwrite=True)
    assert (tmp_path / "app" / "main.py").read_text() == "v = 2\n"
    assert again.written == ["app/main.py"] and sorted(again.unchanged) == ["new.txt", "schema.sql"]


def test_a_replaced_file_loses_its_execute_bit_and_keeps_its_privacy(tmp_path):
    (tmp_path / "deploy.sh").write_text("#!/bin/sh\necho old\n")
    (tmp_path / "deploy.sh").chmod(0o755)
    (tmp_path / ".env").write_text("SECRET=mine\n")
    (tmp_path / ".env").chmod(0o600)
    answer(("deploy.sh", "#!/bin/sh\necho new\n"), (".env", "SECRET=\n")).apply(tmp_path, overwrite=True)
    assert (tmp_path / "deploy.sh").read_text() == "#!/bin/sh\necho new\n"
    assert not os.access(tmp_path / "deploy.sh", os.X_OK)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


def test_a_hard_link_to_a_file_outside_is_replaced_not_written_through(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    folder = tmp_path / "out"
    folder.mkdir()
    os.link(outside, folder / "notes.txt")
    answer(("notes.txt", "new\n")).apply(folder, overwrite=True)
    assert outside.read_text() == "keep me\n"
    assert (folder / "notes.txt").read_text() == "new\n"


@pytest.mark.parametrize("bad, words", [
    ("app/ma\0in.py", "NUL"),
    ("a" * 300 + ".py", "303 bytes"),
    ("/".join(["d" * 200] * 25) + "/x.py", "path longer"),
    ("/etc/cron.d/job", "absolute path"),
    ("~/.bashrc", "absolute path"),
    ("../escape.py", "outside"),
    ("app/../../escape.py", "outside"),
    ("app\\main.py", "backslash"),
    ("app/\nmain.py", "control character"),
])
def test_a_bad_name_fails_before_any_file_is_written(tmp_path, bad, words):
    r = answer(("first.py", "x = 1\n"), ("placeholder.py", "y = 2\n"), ("last.py", "z = 3\n"))
    # a fence's info line cannot hold every character: give the artifact the hostile name itself
    r.artifacts.file("placeholder.py").filename = bad
    with pytest.raises(ApplyError) as info:
        r.apply(tmp_path / "out")
    message = str(info.value)
    assert words in message and "Nothing written to" in message
    assert "\n" not in message and "\0" not in message      # one line, the name shown escaped
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_inside_the_folder_that_leads_outside_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "config").symlink_to(outside)
    (folder / "link.txt").symlink_to(outside / "target.txt")
    before = snapshot(tmp_path)
    with pytest.raises(ApplyError, match="outside") as info:
        answer(("ok.py", "x\n"), ("config/settings.py", "x\n")).apply(folder)
    assert "'config/settings.py'" in str(info.value)
    with pytest.raises(ApplyError, match="symbolic link"):
        answer(("link.txt", "x\n")).apply(folder, overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_symlink_that_stays_inside_is_followed(tmp_path):
    (tmp_path / "packages" / "api").mkdir(parents=True)
    (tmp_path / "api").symlink_to(tmp_path / "packages" / "api")
    answer(("api/main.py", "x = 1\n")).apply(tmp_path)
    assert (tmp_path / "packages" / "api" / "main.py").read_text() == "x = 1\n"


def test_names_that_are_folders_or_under_files(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "README.md").write_text("mine\n")
    before = snapshot(tmp_path)
    with pytest.raises(ApplyError, match="is a folder"):
        answer(("ok.txt", "x\n"), ("app", "x\n")).apply(tmp_path)
    with pytest.raises(ApplyError, match="README.md is a file, not a folder"):
        answer(("README.md/notes.txt", "x\n")).apply(tmp_path)
    with pytest.raises(ApplyError, match="also names 'lib' as a file"):
        answer(("lib", "x\n"), ("lib/util.py", "x\n")).apply(tmp_path)
    assert snapshot(tmp_path) == before


def test_the_folder_itself_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("x\n")
    with pytest.raises(ApplyError, match="a file, not a folder"):
        answer(("a.py", "x\n")).apply(tmp_path / "file")


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    (tmp_path / "keep.py").write_text("old\n")
    before = snapshot(tmp_path)
    calls = []
    real_replace = os.replace

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 4:        # keep.py moved aside, keep.py in place, a/b.py in place, then fail
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    r = answer(("keep.py", "new\n"), ("a/b.py", "x\n"), ("c/d.py", "y\n"))
    with pytest.raises(ApplyError, match="No space left on device"):
        r.apply(tmp_path, overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(tmp_path) == before


def test_a_migration_split_into_up_and_down_is_written_whole(tmp_path):
    text = ("```sql\n-- migrations/0001_init.sql\n-- migrate:up\nCREATE TABLE a (id int);\n"
            "-- migrate:down\nDROP TABLE a;\n```\n")
    Response(text=text, agent="a", model="m").apply(tmp_path)
    written = (tmp_path / "migrations" / "0001_init.sql").read_text()
    assert "CREATE TABLE a" in written and "DROP TABLE a" in written


def test_magic_apply_overwrite_and_executable_scripts(workdir, api, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.testing.server import text

    monkeypatch.setenv("AGENTNB_DISPLAY", "static")
    ip = InteractiveShell.instance()
    ip.run_line_magic("reload_ext", "agentnb")
    reply = "```bash title=bin/start.sh\n#!/bin/sh\necho v{}\n```\n"
    api.enqueue(text(reply.format(1)), text(reply.format(2)), text(reply.format(2)))
    ip.run_cell_magic("backend_dev", "--apply out --no-check --no-stream", "x")
    start = workdir / "out" / "bin" / "start.sh"
    assert "echo v1" in start.read_text() and not os.access(start, os.X_OK)
    start.write_text(start.read_text() + "# mine\n")
    ip.run_cell_magic("backend_dev", "--apply out --no-check --no-stream", "y")
    assert start.read_text().endswith("# mine\n")
    ip.run_cell_magic("backend_dev", "--apply out --overwrite --executable-scripts --no-check --no-stream", "z")
    assert "echo v2" in start.read_text() and os.access(start, os.X_OK)


def test_overwrite_without_apply_is_a_usage_error(workdir, api):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("reload_ext", "agentnb")
    with pytest.raises(UsageError, match="--apply"):
        ip.run_cell_magic("backend_dev", "--overwrite --no-check", "x")
    assert api.message_requests == []      # nothing sent
