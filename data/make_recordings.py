"""Regenerate the recorded answers and the saved outputs of the shipped notebooks: one command.

    python data/make_recordings.py            # every notebook and parameter set, then delete stale recordings
    python data/make_recordings.py 02_migrations design_session/vet_clinic   # only these runs
    python data/make_recordings.py --jobs 1   # one run at a time (default: 3 in parallel)

For each run (a notebook and a parameter set, listed in RUNS):

1. start agentnb's local fake of the Messages API (``agentnb.testing.server``) and queue the run's sample
   answers, in order (the Markdown files under ``data/answers/``);
2. execute the notebook with papermill, its kernel pointed at that server (``ANTHROPIC_BASE_URL`` and a
   fake key) and ``record_mode="all"``: every exchange is written to ``data/recordings/``;
3. check that the server received exactly one request per queued answer (otherwise the notebook and
   its answers disagree: a cell was added or removed);
4. execute it again with ``record_mode`` none, no server and no key: a pure replay. For the default
   parameter set, the executed notebook is saved in place, so that the shipped ``.ipynb`` carries the
   outputs nbval compares (papermill's timing metadata removed, so an unchanged notebook stays
   byte-identical).

Re-run it whenever ``agents/backend-dev.md``, a prompt in a notebook, an answer, or the way agentnb builds
its requests changes: a recording is found by a hash of the exact request (system prompt, model,
max_tokens, history), so any of those changes needs new recordings.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent
REPO = DATA.parent
ANSWERS = DATA / "answers"
RECORDINGS = DATA / "recordings"
FAKE_KEY = "sk-ant-fake-recording-0000000000"

# The second parameter set of design_session.ipynb (papermill / `agentnb run -p NAME VALUE`).
VET_CLINIC = {
    "domain": "Une clinique vétérinaire",
    "requirements": (
        "- Des propriétaires prennent rendez-vous pour leurs animaux avec un vétérinaire.\n"
        "- Les créneaux font 30 minutes ; un vétérinaire n'a jamais deux rendez-vous sur le même créneau.\n"
        "- On garde l'historique des consultations : poids, diagnostic, traitements."
    ),
    "change": (
        "Les annulations à moins de 24 h du rendez-vous sont facturées 15 €.\n"
        "Après 3 absences non excusées, un propriétaire ne peut plus réserver en ligne."
    ),
}

LIBRARY = ["design_session/01.md", "design_session/02.md", "design_session/03.md", "design_session/04.md"]


@dataclass
class Run:
    name: str                       # how the command line and the report call it
    notebook: str                   # relative to the repository
    answers: list[str]              # relative to data/answers, in the order the notebook asks
    parameters: dict = field(default_factory=dict)   # papermill parameters; {} = the notebook's defaults
    save: bool = True               # save the replayed notebook in place (default parameters only)
    workspace: str | None = None    # a --tools notebook: its workspace (relative to the notebook), whose
                                    # path replaces ${AGENTNB_WORKSPACE} in the scripted tool steps
    failing: int = 0                # answers with a failed check on purpose: a mistake the notebook shows
                                    # being caught (every other answer must pass every check)


# The workshop notebooks replay the design session's conversation up to their topic: the same prompts
# with the same context make the same requests, hence the same recordings.
RUNS = [
    Run("design_session", "notebooks/design_session.ipynb", LIBRARY),
    Run("design_session/vet_clinic", "notebooks/design_session.ipynb",
        [f"design_session/vet_clinic/{n:02d}.md" for n in range(1, 5)], VET_CLINIC, save=False),
    Run("01_first_schema", "notebooks/workshop/01_first_schema.ipynb", LIBRARY[:1] + ["01_first_schema/02.md"]),
    Run("02_migrations", "notebooks/workshop/02_migrations.ipynb", LIBRARY[:2]),
    Run("03_api_contract", "notebooks/workshop/03_api_contract.ipynb", LIBRARY[:3]),
    Run("04_review", "notebooks/workshop/04_review.ipynb", LIBRARY),
    # a --tools cell: each answer is the YAML list of its loop's replies (tool_use steps, then the text)
    Run("05_tools", "notebooks/workshop/05_tools.ipynb", ["05_tools/01.yaml"], workspace="workspace"),
    # its own conversation: an existing SQLite base (made by the notebook) given with --with-db
    Run("06_existing_database", "notebooks/workshop/06_existing_database.ipynb", ["06_existing_database/01.md"]),
    # the design session's first answer, then GraphQL, then gRPC with a mistake protoc catches, then its fix
    Run("07_graphql_grpc", "notebooks/workshop/07_graphql_grpc.ipynb",
        LIBRARY[:1] + [f"07_graphql_grpc/{n:02d}.md" for n in range(2, 5)], failing=1),
]


def replies(answer: str, workspace: Path | None) -> list:
    """The server replies for one answer: a Markdown file is one text reply; a YAML file is a tools cell's
    loop, each step a tool_use (after an optional text) or a final text."""
    from agentnb.testing.server import text, tool_use

    raw = (ANSWERS / answer).read_text(encoding="utf-8")
    if not answer.endswith(".yaml"):
        return [text(raw)]
    import yaml

    if workspace is not None:
        raw = raw.replace("${AGENTNB_WORKSPACE}", str(workspace))
    return [tool_use(step["tool"], step["input"], step.get("text", "")) if "tool" in step else text(step["text"])
            for step in yaml.safe_load(raw)]


def recording_name(body: dict) -> str:
    """The file a request is recorded in (the same hash as agentnb.llm.recording)."""
    from agentnb.llm.recording import canonical_request, recording_path

    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return recording_path(RECORDINGS, canonical_request("POST", "/v1/messages", raw)).name


def clean_metadata(path: Path) -> None:
    """Drop papermill's timings and run metadata: an unchanged notebook must stay byte-identical."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("papermill", None)
    nbformat.write(nb, path)


def failed_checks(path: Path) -> list[str]:
    """The answers' summaries that report a failed check (from the outputs' agentnb metadata)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            summary = output.get("metadata", {}).get("agentnb", {}).get("summary", "")
            if re.search(r"\b[1-9]\d* failed", summary):
                found.append(summary)
    return found


def _clean_env(home: str) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "AGENTNB_")):
            del os.environ[name]
    os.environ["AGENTNB_HOME"] = home          # the session log goes to a scratch folder


def _execute(notebook: Path, output: Path, parameters: dict | None) -> None:
    import papermill

    papermill.execute_notebook(str(notebook), str(output), parameters=parameters or None,
                               cwd=str(notebook.parent), kernel_name="python3", progress_bar=False,
                               log_output=False)


def do_run(run: Run) -> dict:
    """Record, check, replay (in a worker process: the environment is the run's own)."""
    sys.path.insert(0, str(REPO))
    from agentnb.testing.server import MessagesServer

    notebook = REPO / run.notebook
    workspace = (notebook.parent / run.workspace).absolute() if run.workspace else None
    texts = [reply for a in run.answers for reply in replies(a, workspace)]
    started = time.monotonic()
    wall_start = time.time()
    with tempfile.TemporaryDirectory(prefix="agentnb-recordings-") as tmp:
        _clean_env(os.path.join(tmp, "home"))
        with MessagesServer() as server:
            server.enqueue(*texts)
            os.environ["ANTHROPIC_BASE_URL"] = server.url
            os.environ["ANTHROPIC_API_KEY"] = FAKE_KEY
            _execute(notebook, Path(tmp) / "live.ipynb", {**run.parameters, "record_mode": "all"})
            requests = server.message_requests
        if len(requests) != len(texts):
            raise RuntimeError(
                f"{run.name}: the notebook sent {len(requests)} request(s) for {len(texts)} answer(s) in "
                f"{run.answers}: the notebook's agent cells and the answers disagree")
        if workspace is None:
            used = [recording_name(r.body) for r in requests]
        else:     # agentnb's tools endpoint names its recordings on the normalised request: those written now
            used = [p.name for p in RECORDINGS.glob("*.json") if p.stat().st_mtime >= wall_start - 1]
        missing = [name for name in used if not (RECORDINGS / name).is_file()]
        if missing:
            raise RuntimeError(f"{run.name}: no recording written for {missing}")
        recorded = time.monotonic() - started

        # the replay: no server, no key, replay only
        _clean_env(os.path.join(tmp, "home"))
        os.environ["AGENTNB_RECORD_MODE"] = "none"
        output = notebook if run.save else Path(tmp) / "replay.ipynb"
        _execute(notebook, output, run.parameters)
        failed = failed_checks(output)
        if len(failed) != run.failing:
            raise RuntimeError(f"{run.name}: the sample answers must pass every check (but the {run.failing} "
                               f"failing on purpose); failed: {failed}")
        if run.save:
            clean_metadata(notebook)
    return {"name": run.name, "recordings": used, "recorded_s": recorded,
            "total_s": time.monotonic() - started, "saved": run.notebook if run.save else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", help=f"runs to regenerate (default: all): {', '.join(r.name for r in RUNS)}")
    parser.add_argument("--jobs", type=int, default=3, help="runs in parallel (default 3)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.runs if n not in {r.name for r in RUNS}]
    if unknown:
        parser.error(f"unknown run(s) {unknown}; known: {', '.join(r.name for r in RUNS)}")
    runs = [r for r in RUNS if not args.runs or r.name in args.runs]
    RECORDINGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context) as pool:
        results = list(pool.map(do_run, runs))
    used: set[str] = set()
    for run, result in zip(runs, results):
        used.update(result["recordings"])
        saved = f"; saved {result['saved']}" if result["saved"] else "; replayed (not saved)"
        print(f"{run.name}: {len(run.answers)} answers -> {len(set(result['recordings']))} recordings, "
              f"recorded and replayed in {result['total_s']:.1f}s{saved}")
    if not args.runs:
        stale = [p for p in sorted(RECORDINGS.glob("*.json")) if p.name not in used]
        for path in stale:
            path.unlink()
        print(f"{len(used)} recordings in {RECORDINGS.relative_to(REPO)}; {len(stale)} stale removed")
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
