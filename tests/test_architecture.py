"""The floors of the house hold: the import contracts in pyproject.toml are kept, and they
catch an import that runs up a floor or across a package boundary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``project/src``, with that project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "COLUMNS": "250"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


PLANTED = [
    # a pure-core module reaching for a use case (a floor up)
    ("domain/leads.py", "import leadq.services.intake.leads", "Floors"),
    # settings depending on a use case, as config.py once did
    ("config.py", "import leadq.services.errors", "Floors"),
    # one HTTP adapter reaching into the other
    ("web/inbox.py", "import leadq.api.schemas", "Floors"),
    # storage reaching up to an adapter
    ("store/db.py", "import leadq.cli.support", "Floors"),
    # a capability depending on the demo
    ("services/intake/leads.py", "import leadq.services.demo", "Services"),
    # the shared errors depending on a capability
    ("services/errors.py", "import leadq.services.scoring.versions", "Services"),
    # the pure core doing I/O
    ("predictive/features.py", "import sqlalchemy", "pure core"),
]


@pytest.mark.parametrize(("module", "line", "contract"), PLANTED,
                         ids=[p[0] for p in PLANTED])  # fmt: skip
def test_a_planted_import_breaks_its_contract(tmp_path: Path, module: str, line: str,
                                              contract: str) -> None:  # fmt: skip
    shutil.copytree(ROOT / "src" / "leadq", tmp_path / "src" / "leadq",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / "src" / "leadq" / module
    planted.write_text(planted.read_text() + f"\n{line}  # planted\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout
    assert line.split()[-1] in result.stdout  # the report names the offending import
