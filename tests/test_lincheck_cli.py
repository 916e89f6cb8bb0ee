"""Tests for distlib.check.cli: the ``distcourse lincheck`` command and its exit status."""

from __future__ import annotations

import argparse

import pytest

import distlib.course.cli as course_cli
from distlib.check import cli

LEGAL = """\
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t1
"""
ILLEGAL = LEGAL.replace(":ok\t:read\t1", ":ok\t:read\t2")
KNOSSOS = """[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 0}]"""


def run(*argv: str) -> int:
    """Parse argv with a parser built here, the way distcourse builds its own, and run it."""
    parser = argparse.ArgumentParser(prog="distcourse")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in [("ok.log", LEGAL), ("bad.log", ILLEGAL), ("stale.edn", KNOSSOS)]:
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def test_linearizable_exits_0(files, capsys):
    """A linearizable history prints the verdict and exits 0."""
    assert run("lincheck", str(files["ok.log"]), "--format", "jepsen-etcd") == 0
    out = capsys.readouterr().out
    assert "linearizable" in out and "not linearizable" not in out
    assert "2 operations" in out


def test_not_linearizable_exits_1_with_explanation(files, capsys):
    """An illegal history prints the explanation and exits 1."""
    assert run("lincheck", str(files["bad.log"]), "--format", "jepsen-etcd") == 1
    out = capsys.readouterr().out
    assert "not linearizable" in out and "read() -> 2" in out


def test_unknown_exits_2(files, capsys):
    """A budget too small to decide exits 2 and says unknown."""
    assert run("lincheck", str(files["ok.log"]), "--max-steps", "0") == 2
    assert "unknown" in capsys.readouterr().out


def test_format_from_suffix_and_quiet(files, capsys):
    """Without --format the suffix decides; --quiet prints only the verdict."""
    assert run("lincheck", str(files["stale.edn"]), "--quiet") == 1
    assert capsys.readouterr().out.strip() == "not linearizable"


def test_sequential_flag(files, capsys):
    """--sequential checks sequential consistency instead."""
    assert run("lincheck", str(files["stale.edn"]), "--sequential", "--quiet") == 0
    assert capsys.readouterr().out.strip() == "sequentially consistent"


def test_missing_file_is_one_line_exit_2(tmp_path, capsys):
    """A missing file gives one clear line on stderr and exit 2."""
    assert run("lincheck", str(tmp_path / "none.log")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "no such file" in lines[0] and "none.log" in lines[0]


def test_parse_error_is_one_line_exit_2(tmp_path, capsys):
    """A malformed file gives one line naming the file and line, and exit 2."""
    path = tmp_path / "broken.log"
    path.write_text(LEGAL + "INFO jepsen.util - 3 :invoke\n")
    assert run("lincheck", str(path)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "broken.log, line 5" in lines[0]


def test_wrong_format_for_content_is_exit_2(files, capsys):
    """Reading a file in the wrong format is a clear error, not a crash."""
    assert run("lincheck", str(files["ok.log"]), "--format", "knossos-edn") == 2
    assert "ok.log" in capsys.readouterr().err


def test_unknown_suffix_asks_for_format(tmp_path, capsys):
    """A file whose suffix says nothing needs --format."""
    path = tmp_path / "history.dat"
    path.write_text(LEGAL)
    assert run("lincheck", str(path)) == 2
    assert "--format" in capsys.readouterr().err
    assert run("lincheck", str(path), "--format", "jepsen-etcd", "--quiet") == 0


def test_bad_limits_are_refused(files, capsys):
    """Negative step budgets and non-positive timeouts are refused with exit 2."""
    assert run("lincheck", str(files["ok.log"]), "--max-steps", "-1") == 2
    assert run("lincheck", str(files["ok.log"]), "--timeout", "0") == 2
    assert "--timeout" in capsys.readouterr().err


def test_through_distcourse_main(files, monkeypatch, capsys):
    """distcourse's own main runs the command once its module is listed."""
    monkeypatch.setattr(course_cli, "COMMAND_MODULES", ("distlib.check.cli",))
    assert course_cli.main(["lincheck", str(files["bad.log"]), "--quiet"]) == 1
    assert capsys.readouterr().out.strip() == "not linearizable"
    assert course_cli.main(["lincheck", str(files["ok.log"]), "--quiet"]) == 0


def test_every_subcommand_is_mapped_to_the_module_that_registers_it():
    """COMMANDS names, for each subcommand, the one module a command line naming it imports;
    the full parser (for --help) has exactly these subcommands."""
    parser = course_cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(course_cli.COMMANDS)
    for command, module in course_cli.COMMANDS.items():
        alone = course_cli.build_parser((module,))
        names = next(a for a in alone._actions if a.dest == "command").choices
        assert command in names, f"{module} does not register {command}"
