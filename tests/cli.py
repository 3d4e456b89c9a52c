"""Running ``leadq`` in tests: in this process through the real entry point (``leadq.cli.main``,
the function the installed script calls), or as a real subprocess where a process matters
(a server, a worker, a kill, Spark's JVM, the installed script itself).

In-process runs are what a terminal sees, minus the interpreter's start: the same argument
parsing, the same one-line refusals on stderr, the same exit codes; the settings are read from
the environment given, in the working directory given. They spare the suite the two seconds a
Python process takes to import leadq, many hundreds of times over.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from leadq.cli import main
from leadq.cli.support import err, out
from leadq.config import get_settings

LEADQ = [sys.executable, "-m", "leadq"]
WIDTH = 200
Result = subprocess.CompletedProcess[str]


def spawn(cwd: Path, args: list[str], env: dict[str, str], input: str | None = None,
          timeout: float = 300) -> Result:  # fmt: skip
    """``python -m leadq ARGS`` as a user runs it."""
    environment = {**os.environ, "COLUMNS": str(WIDTH), **env}
    return subprocess.run([*LEADQ, *args], cwd=cwd, env=environment, input=input,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@contextmanager
def _environment(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), Path.cwd(), sys.argv
    widths = out.width, err.width
    os.environ.update({"COLUMNS": str(WIDTH), **env})
    os.chdir(cwd)
    out.width = err.width = WIDTH
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        out.width, err.width = widths
        get_settings.cache_clear()


def invoke(cwd: Path, args: list[str], env: dict[str, str], input: str | None = None) -> Result:
    """``leadq ARGS`` through ``leadq.cli.main`` in this process: exit code, stdout, stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    saved_stdin = sys.stdin
    with _environment(cwd, env), redirect_stdout(stdout), redirect_stderr(stderr):
        sys.argv = ["leadq", *args]
        sys.stdin = io.StringIO(input or "")
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        finally:
            sys.stdin = saved_stdin
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):
        stderr.write(code + "\n")
    return subprocess.CompletedProcess(["leadq", *args], returncode, stdout.getvalue(),
                                       stderr.getvalue())  # fmt: skip
