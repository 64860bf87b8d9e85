"""Refresh the AsyncAPI specification JSON Schemas vendored in agentnb/checks/specs/.

    python data/fetch_asyncapi_specs.py [--version 6.11.1]

Downloads the npm package ``@asyncapi/specs`` with ``npm pack`` (the AsyncAPI Initiative's own
bundles, Apache-2.0), and writes, for each AsyncAPI version agentnb checks (``VERSIONS``), the bundle
without ``$id``s (``schemas/<v>-without-$id.json``: every ``$ref`` local, nothing to fetch) as compact
JSON ``asyncapi-<v>.json``, plus the package's LICENSE and NOTICE and a SOURCE.md saying which package
version they came from. Needs ``npm`` on PATH and the npm registry; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import tarfile
import tempfile

PACKAGE = "@asyncapi/specs"
VERSIONS = ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "3.0.0", "3.1.0")
TARGET = pathlib.Path(__file__).resolve().parent.parent / "agentnb" / "checks" / "specs"


def fetch(version: str | None) -> None:
    spec = f"{PACKAGE}@{version}" if version else PACKAGE
    with tempfile.TemporaryDirectory(prefix="asyncapi-specs-") as scratch:
        done = subprocess.run(["npm", "pack", spec, "--silent"], cwd=scratch, capture_output=True,
                              text=True, timeout=300, check=True)
        tarball = pathlib.Path(scratch) / done.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            tar.extractall(scratch, filter="data")
        package = pathlib.Path(scratch) / "package"
        meta = json.loads((package / "package.json").read_text())
        TARGET.mkdir(parents=True, exist_ok=True)
        for v in VERSIONS:
            schema = json.loads((package / "schemas" / f"{v}-without-$id.json").read_text())
            (TARGET / f"asyncapi-{v}.json").write_text(json.dumps(schema, separators=(",", ":")) + "\n")
        for name in ("LICENSE", "NOTICE"):
            (TARGET / name).write_text((package / name).read_text())
        (TARGET / "SOURCE.md").write_text(
            "# AsyncAPI specification JSON Schemas\n\n"
            f"Vendored from the npm package `{PACKAGE}` version {meta['version']} ({meta['license']}; "
            f"{meta['repository']['url'].removeprefix('git+')}), by `data/fetch_asyncapi_specs.py`.\n\n"
            "Each `asyncapi-<version>.json` is the package's `schemas/<version>-without-$id.json` "
            "re-serialised as compact JSON (whitespace only): the AsyncAPI Initiative's own bundle of "
            "the specification's JSON Schema, every `$ref` local. LICENSE and NOTICE are the package's.\n\n"
            f"Versions: {', '.join(VERSIONS)}.\n")
        print(f"{PACKAGE} {meta['version']}: {len(VERSIONS)} schemas written to {TARGET}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help=f"the {PACKAGE} version (default: the latest)")
    fetch(parser.parse_args().version)
