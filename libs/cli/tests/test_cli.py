"""The command line itself: every command it parses runs a function, and bad input exits 2."""

from __future__ import annotations

import argparse
import inspect

import pytest

from drive_index_cli import cli


def test_every_command_the_parser_knows_has_a_function() -> None:
    [commands] = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(commands.choices) == list(cli.COMMANDS)
    for name in commands.choices:
        assert inspect.iscoroutinefunction(cli.command(name)), name


def test_an_unknown_command_exits_2_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["no-such-command"])
    assert exit_.value.code == 2
    assert "usage: drive-index" in capsys.readouterr().err


def test_a_command_without_its_settings_exits_2_naming_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["status", "some-file"])
    assert exit_.value.code == 2
    assert "DATABASE_URL" in capsys.readouterr().err
