"""The CLI starts at once: the root imports no command's libraries, and each command loads only
its own module."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from leadq.cli import COMMANDS, load

HEAVY = ("sklearn", "lightgbm", "matplotlib", "pyspark", "fastapi", "polars", "sqlalchemy",
         "numpy", "uvicorn", "alembic")  # fmt: skip


def _loaded_after(code: str) -> set[str]:
    """Top-level modules (and leadq.cli's) loaded by a fresh interpreter running ``code``."""
    probe = (f"import sys\n{code}\n"
             "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules}"
             " | {m for m in sys.modules if m.startswith('leadq.cli.')})))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return set(done.stdout.split())


def test_importing_the_cli_loads_none_of_the_heavy_libraries() -> None:
    loaded = _loaded_after("import leadq.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "typer" in loaded  # the probe sees what is imported


def test_the_root_help_lists_every_command_without_loading_one() -> None:
    code = ("from leadq.cli import main\nsys.argv = ['leadq', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")  # fmt: skip
    loaded = _loaded_after(code)
    assert not {m for m in loaded if m.startswith("leadq.cli.")}, loaded
    assert not loaded & set(HEAVY)


def test_scoring_files_needs_no_database_library() -> None:
    loaded = _loaded_after("from leadq.cli import load\nload('score')")
    assert "leadq.cli.batch" in loaded and "polars" in loaded
    assert not {"sqlalchemy", "sklearn", "lightgbm", "pyspark", "fastapi"} & loaded


def test_scoring_a_file_loads_no_learner_and_no_database(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("id,seniority,company_size\n1,director,250\n2,,3\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    code = ("from leadq.cli import main\n"
            f"sys.argv = ['leadq', 'score', '--leads', {str(leads)!r}, '--out', {str(out)!r}]\n"
            "try:\n    main()\n"
            "except SystemExit as done:\n    assert not done.code, done")  # fmt: skip
    loaded = _loaded_after(code)
    assert out.read_text(encoding="utf-8").startswith("id,score,grade")
    assert not {"sklearn", "lightgbm", "sqlalchemy", "matplotlib", "fastapi"} & loaded


def test_a_command_loads_its_own_module_only() -> None:
    loaded = _loaded_after("from leadq.cli import load\nload('audit')")
    assert "leadq.cli.audit" in loaded
    assert not {"leadq.cli.predictive", "leadq.cli.analytics"} & loaded
    assert not {"sklearn", "lightgbm", "matplotlib", "pyspark", "fastapi"} & loaded


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_entry_says_what_its_command_says(name: str) -> None:
    command = load(name)
    target = getattr(__import__(f"leadq.cli.{COMMANDS[name].module}", fromlist=["x"]),
                     COMMANDS[name].attribute)  # fmt: skip
    if isinstance(target, typer.Typer):
        own = target.info.help
    else:
        own = " ".join(inspect.getdoc(target).split("\n\n")[0].split())  # type: ignore[union-attr]
    assert command.name == name and COMMANDS[name].help == own
