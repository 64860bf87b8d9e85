"""``--apply DIR`` / ``response.apply(DIR)``: write the answer's named files, never outside DIR."""

from __future__ import annotations

from pathlib import Path

from agentnb.errors import AgentnbError


def write_artifacts(artifacts, directory) -> list[Path]:
    root = Path(directory).expanduser().resolve()
    planned: dict[Path, object] = {}
    refused = []
    for artifact in artifacts.files:
        name = artifact.filename.strip().removeprefix("./")
        target = (root / name).resolve()
        if Path(name).is_absolute() or not target.is_relative_to(root) or target == root:
            refused.append(artifact.filename)
            continue
        planned[target] = artifact      # a later block with the same name wins, as in the answer
    if refused:
        raise AgentnbError(f"Refused to write outside {root}: {', '.join(refused)}. Nothing was written; "
                           "rename those files in the answer or write them by hand.")
    written = []
    for target, artifact in planned.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        code = artifact.code if artifact.code.endswith("\n") else artifact.code + "\n"
        target.write_text(code, encoding="utf-8")
        written.append(target)
    return written
