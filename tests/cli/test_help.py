"""``--help`` of every command: no type after flags, a meaningful one after options."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from entegrator.cli import app

runner = CliRunner()


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "entegrator" for p in COMMANDS])
def test_help_shows_no_type_after_flags(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "<str>" not in re.sub(r"^  \w+ <str>", "", result.output, flags=re.M)  # arguments
    assert re.search(r"--help\s+Show this message", result.output)


def test_serve_help_names_what_options_take() -> None:
    out = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "120"}).output
    assert "--host ADDRESS" in out and "--port PORT" in out
    assert re.search(r"--demo / --no-demo\s+Create", out)


def test_demo_help_counts_the_companies_of_the_demo() -> None:
    from entegrator.cli.demo import COMPANIES

    out = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "120"}).output
    assert len(COMPANIES) == 4 and "four companies" in " ".join(out.split())
