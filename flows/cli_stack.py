"""``outtask stack up|down|status``: the native production stack (PostgreSQL, a moto S3/SQS
server, a Prefect server with outtask's deployments, process workers, the SQS listener and the
portal, all on loopback). The work is done by ``infra/stack``; this is its front door."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from .console import UsageError

stack_app = typer.Typer(no_args_is_help=True,
                        help="Start, stop and show the native production stack on this machine.")

StateOption = Annotated[Path | None, typer.Option(
    "--state", help="Folder for pids, logs, stack.env and PostgreSQL's data "
    "(default: $OUTTASK_STACK_DIR or outtask-data/stack).")]


def _script() -> Path:
    path = Path(__file__).resolve().parents[1] / "infra" / "stack"
    if not path.is_file():
        raise UsageError(f"outtask stack runs infra/stack from a source checkout, and there is "
                         f"none at {path}: run it from a clone of the repository (pip install "
                         "-e .)")
    return path


def _run(command: str, state: Path | None, *options: str) -> None:
    args = [sys.executable, str(_script()), command, *options]
    if state is not None:
        args += ["--state", str(state)]
    # its own exit status (0 up, 1 a service did not start) is ours
    raise typer.Exit(subprocess.run(args).returncode)


@stack_app.command("up")
def up(
    state: StateOption = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=16, help="Process workers on the outtask pool (default 2, or as last time).")
    ] = None,
    port_base: Annotated[int | None, typer.Option(
        min=1024, max=65000, help="Prefect server port; moto +1, PostgreSQL +2, portal +3 "
        "(default 14200).")] = None,
) -> None:
    """Start whatever is not running yet, wait until it answers, write stack.env (source it
    to point outtask at the stack) and show what runs where."""
    options = []
    if workers is not None:
        options += ["--workers", str(workers)]
    if port_base is not None:
        options += ["--port-base", str(port_base)]
    _run("up", state, *options)


@stack_app.command("down")
def down(state: StateOption = None) -> None:
    """Stop every service of the stack (SIGTERM, then wait); data and logs stay."""
    _run("down", state)


@stack_app.command("status")
def status(
    state: StateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What runs, where, and whether it answers. Always exits 0."""
    _run("status", state, *(["--json"] if as_json else []))
