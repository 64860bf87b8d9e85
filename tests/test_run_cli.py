"""``agentnb run`` as a user types it: how options are read, and usage errors (exit 2, one line, no
traceback). Most tests here start no kernel."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from agentnb.batch.plan import add_arguments, parameters_from, parse_value
from agentnb.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agentnb run")
    add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def parameters(args: argparse.Namespace) -> dict:
    return parameters_from(args.parameters_yaml, args.parameters, args.parameters_raw)


# ----------------------------------------------------------------------------------------- -p, -y, -r

def test_p_reads_values_as_papermill_does():
    from papermill.cli import _resolve_type     # what `papermill -p` does, the reference

    samples = ["1", "-3", "0.5", "1e3", "1_000", " 7 ", "inf", "True", "False", "None", "true", "null",
               "yes", "[1, 2]", "{a: 1}", "2024-01-01", "", "opus", "a: b", "- a: b\n- c", "x\ny", "'quoted'"]
    for text in samples:
        assert parse_value(text) == _resolve_type(text), text
        assert type(parse_value(text)) is type(_resolve_type(text)), text


def test_y_gives_lists_and_mappings_and_r_keeps_strings():
    args = parse("nb.ipynb", "-y", "{tags: [a, b], n: 1, when: 2024-01-01}", "-p", "n", "2",
                 "-r", "code", "007", "--parameters-yaml", "limits: {max: 5}")
    assert parameters(args) == {"tags": ["a", "b"], "n": 2, "when": "2024-01-01", "code": "007",
                                "limits": {"max": 5}}
    # papermill's spellings work too
    args = parse("nb.ipynb", "--parameters_yaml", "n: 1", "--parameters_raw", "s", "True",
                 "--parameters", "m", "None")
    assert parameters(args) == {"n": 1, "s": "True", "m": None}
    for text, message in [("[1, 2]", "expected a mapping"), ("{n: [1", "not valid YAML"),
                          ("{1: x}", "not a valid parameter name")]:
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            parameters(parse("nb.ipynb", "-y", text))


def test_data_readme_vet_clinic_command_gives_the_recorded_parameter_set():
    """The command data/README.md shows must send exactly the recorded veterinary parameter set (the
    second set of data/design_grid.yaml), or its replay finds no recording."""
    import yaml

    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    [command] = [block for block in re.findall(r"```bash\n(.*?)```", readme, re.S) if "vétérinaire" in block]
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:2] == ["agentnb", "run"]
    args = parse(*argv[2:])
    recorded = yaml.safe_load((REPO / "data" / "design_grid.yaml").read_text(encoding="utf-8"))[1]
    assert parameters(args) == recorded
    assert all((REPO / nb).is_file() for nb in args.notebooks)


# ------------------------------------------------------------------------------------------ usage errors

NOTEBOOK = REPO / "tests" / "data" / "notebooks" / "params.ipynb"


def usage_error(capsys, *argv) -> str:
    """Run ``agentnb run ARGV``: it must exit 2 with one line on stderr and no traceback; returns it."""
    from agentnb.cli import main

    assert main(["run", *map(str, argv)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentnb: "), captured.err
    return lines[0]


def no_run_started(folder: Path) -> bool:
    return not [p for pattern in ("*.ipynb", "summary.*") for p in folder.rglob(pattern) if p.is_file()]


def test_a_negative_or_odd_budget_is_a_usage_error(workdir, capsys):
    for value in ("-1", "nan", "inf"):
        assert f"--budget {value}" in usage_error(capsys, NOTEBOOK, "--budget", value, "--out", "out")
    assert no_run_started(workdir)


def test_an_out_folder_that_cannot_be_written_is_a_usage_error(workdir, capsys):
    (workdir / "taken").write_text("a file")
    assert "a file is in the way" in usage_error(capsys, NOTEBOOK, "--out", "taken")
    assert "cannot create this folder" in usage_error(capsys, NOTEBOOK, "--out", "taken/sub")
    assert "--out /proc/agentnb-out" in usage_error(capsys, NOTEBOOK, "--out", "/proc/agentnb-out")
    assert "cannot write there" in usage_error(capsys, NOTEBOOK, "--out", "/proc/self")
    (workdir / "out" / "summary.md").mkdir(parents=True)
    assert "summary.md is a folder there" in usage_error(capsys, NOTEBOOK, "--out", "out")
    assert no_run_started(workdir)


def test_a_bad_record_mode_in_the_environment_stops_the_batch_before_any_kernel(workdir, capsys, monkeypatch):
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "bogus")
    line = usage_error(capsys, NOTEBOOK, "--out", "out")
    assert "'bogus'" in line and "AGENTNB_RECORD_MODE" in line
    assert no_run_started(workdir)


def test_a_folder_or_a_file_that_is_no_notebook_is_a_usage_error(workdir, capsys):
    (workdir / "notebooks").mkdir()
    assert "a folder, not a notebook" in usage_error(capsys, workdir / "notebooks", "--out", "out")
    (workdir / "README.md").write_text("# hello\n")
    assert "README.md: not a notebook: a .ipynb file is JSON" in usage_error(capsys, "README.md")
    (workdir / "data.json").write_text('{"rows": []}')
    assert "data.json: not a notebook: JSON without a list of cells" in usage_error(capsys, "data.json")
    assert "missing.ipynb: no such notebook" in usage_error(capsys, "missing.ipynb")
    assert no_run_started(workdir)


def test_a_malformed_grid_names_its_file(workdir, capsys):
    (workdir / "grid.yaml").write_text("n: [1, 2\nlabel: x\n")
    line = usage_error(capsys, NOTEBOOK, "--grid", "grid.yaml")
    assert line.startswith("agentnb: --grid grid.yaml: not valid YAML:") and "line 2" in line
    assert "<unicode string>" not in line
    assert no_run_started(workdir)
