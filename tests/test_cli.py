"""The ``wonderland`` command (API.md §8): version, help, one-line errors, exit statuses,
a quiet exit into ``| head``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import wonderland as wl
from wonderland.cli import main as cli_main
from wonderland.cli import practice
from wonderland.cli.common import DEBUG_VARIABLE
from wonderland.cli.main import EXIT_BROKEN_PIPE, main

FIGURES = ("paths.png", "paths_momentum.png", "grad_norms.png")


def _run(args, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != DEBUG_VARIABLE}
    return subprocess.run([sys.executable, "-m", "wonderland", *args], capture_output=True,
                          text=True, timeout=300, env=env, **kwargs)


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def _one_error_line(err, prefix="wonderland practice: error: "):
    assert "Traceback" not in err, err
    lines = _lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), lines[0]
    assert "usage:" not in err
    return lines[0]


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a folder\n")
    return path


# ---------------------------------------------------------------- version and help


def test_version_through_main(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"wonderland {wl.__version__}" == "wonderland 0.1.0"


def test_version_as_a_subprocess():
    proc = _run(["--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "wonderland 0.1.0"
    assert proc.stderr == ""


@pytest.mark.parametrize("command", [[], ["practice"], ["examples"]],
                         ids=["top", "practice", "examples"])
def test_help_describes_and_shows_defaults(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    prog = " ".join(["wonderland", *command])
    assert out.startswith(f"usage: {prog}")
    description = out.split("\n\n")[1]  # the paragraph after the usage
    assert len(description.split()) >= 25, description
    assert DEBUG_VARIABLE in out  # the epilog: exit statuses and the debug switch
    if command == ["practice"]:
        for option, default in [("--starts", "20"), ("--steps", "200"), ("--lr", "0.1"),
                                ("--momentum", "0.9"), ("--framework", "wonderland"),
                                ("--out", "practice"), ("--seed", "0")]:
            assert option in out
            assert f"(default: {default})" in " ".join(out.split()), option
    if not command:
        assert "practice" in out and "examples" in out


def test_help_as_a_subprocess():
    proc = _run(["practice", "--help"])
    assert proc.returncode == 0 and proc.stderr == ""
    assert "hand-written" in proc.stdout


def test_no_command_runs_the_examples(capsys):
    assert main([]) == 0
    assert "== broadcasting" in capsys.readouterr().out


# ---------------------------------------------------------------- bad arguments: exit 2


BAD_PRACTICE_ARGUMENTS = {
    "seed negative": (["--seed", "-1"], "--seed", "'-1'"),
    "seed not whole": (["--seed", "1.5"], "--seed", "'1.5'"),
    "steps zero": (["--steps", "0"], "--steps", "'0'"),
    "steps negative": (["--steps", "-3"], "--steps", "'-3'"),
    "steps not a number": (["--steps", "abc"], "--steps", "'abc'"),
    "starts zero": (["--starts", "0"], "--starts", "'0'"),
    "lr zero": (["--lr", "0"], "--lr", "'0'"),
    "lr negative": (["--lr", "-1"], "--lr", "'-1'"),
    "lr not a number": (["--lr", "fast"], "--lr", "'fast'"),
    "lr nan": (["--lr", "nan"], "--lr", "'nan'"),
    "lr inf": (["--lr", "inf"], "--lr", "'inf'"),
    "momentum one": (["--momentum", "1"], "--momentum", "'1'"),
    "momentum negative": (["--momentum", "-0.1"], "--momentum", "'-0.1'"),
    "framework unknown": (["--framework", "nope"], "--framework", "'nope'"),
    "out empty": (["--out", ""], "--out", "''"),
    "out missing value": (["--out"], "--out", "expected one argument"),
    "unknown option": (["--bogus", "3"], "--bogus", "unrecognized"),
}


@pytest.mark.parametrize("case", list(BAD_PRACTICE_ARGUMENTS))
def test_bad_practice_argument_is_one_line(case, tmp_path, capsys, monkeypatch):
    args, option, value = BAD_PRACTICE_ARGUMENTS[case]
    monkeypatch.chdir(tmp_path)  # nothing may be written, not even the default folder
    out = [] if args[0] == "--out" else ["--out", str(tmp_path / "figs")]
    assert main(["practice", "--starts", "2", "--steps", "2", *out, *args]) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert option in line and value in line, line
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_an_existing_file(a_file, capsys):
    assert main(["practice", "--steps", "2", "--out", str(a_file)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and str(a_file) in line and "file" in line
    assert a_file.read_text() == "not a folder\n"


def test_out_under_an_existing_file(a_file, capsys):
    assert main(["practice", "--steps", "2", "--out", str(a_file / "figs")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "cannot create" in line and str(a_file) in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into any folder")
def test_out_in_a_folder_that_is_not_writable(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["practice", "--steps", "2", "--out", str(locked / "figs")]) == 2
    finally:
        locked.chmod(0o700)
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "not writable" in line


@pytest.mark.parametrize("args", [["--seed", "-1"], ["--out", ""], ["--bogus"],
                                  ["--steps", "x"]], ids=["seed", "out", "option", "steps"])
def test_bad_arguments_as_a_subprocess(args, tmp_path):
    proc = _run(["practice", *args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr)
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_unknown_command(capsys):
    assert main(["nope"]) == 2
    line = _one_error_line(capsys.readouterr().err, prefix="wonderland: error: ")
    assert "unknown command 'nope'" in line and "practice" in line


def test_unknown_top_level_option_as_a_subprocess():
    proc = _run(["--bogus"])
    assert proc.returncode == 2
    line = _one_error_line(proc.stderr, prefix="wonderland: error: ")
    assert "--bogus" in line


# ---------------------------------------------------------------- failures inside a command


def _boom(exc):
    def run(**kwargs):
        raise exc

    return run


@pytest.mark.parametrize("exc, status, words", [
    (ValueError("boom\nsecond line"), 1, ["unexpected ValueError: boom second line",
                                          DEBUG_VARIABLE]),
    (PermissionError(13, "Permission denied", "/figs/paths.png"), 1,
     ["Permission denied", "/figs/paths.png"]),
    (KeyboardInterrupt(), 130, ["interrupted"]),
    (practice.FrameworkMissing("--framework torch needs torch"), 2, ["needs torch"]),
], ids=["bug", "oserror", "interrupt", "framework-missing"])
def test_failures_inside_a_command_are_one_line(exc, status, words, monkeypatch, capsys,
                                                tmp_path):
    monkeypatch.delenv(DEBUG_VARIABLE, raising=False)
    monkeypatch.setattr(practice, "exercise", _boom(exc))
    assert main(["practice", "--out", str(tmp_path)]) == status
    line = _one_error_line(capsys.readouterr().err)
    for word in words:
        assert word in line, line


def test_debug_variable_shows_the_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv(DEBUG_VARIABLE, "1")
    monkeypatch.setattr(practice, "exercise", _boom(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        main(["practice", "--out", str(tmp_path)])


def test_commands_share_the_error_handling():
    """Each registered command has its own module with ``add_parser`` and ``run``."""
    parser, commands = cli_main.build_parser()
    assert set(commands) == set(cli_main.COMMANDS) >= {"examples", "practice"}
    for name, sub in commands.items():
        assert sub.prog == f"wonderland {name}"
        assert sub.description and sub.epilog and DEBUG_VARIABLE in sub.epilog
        assert callable(sub.get_default("_run"))


# ---------------------------------------------------------------- a closed pipe


def test_practice_into_head_exits_quietly(tmp_path):
    """Far more output than a pipe holds, read by ``head -n 2``: the writes after head
    exits fail with EPIPE, and the command still ends quietly."""
    env = {k: v for k, v in os.environ.items() if k != DEBUG_VARIABLE}
    writer = subprocess.Popen(
        [sys.executable, "-m", "wonderland", "practice", "--starts", "1500", "--steps", "3",
         "--out", str(tmp_path / "figs")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    head = subprocess.Popen(["head", "-n", "2"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # head alone holds the read end now
    shown, _ = head.communicate(timeout=300)
    err = writer.stderr.read().decode()
    writer.stderr.close()
    status = writer.wait(timeout=300)
    assert shown.decode().splitlines()[0].startswith("practice on wonderland")
    assert len(shown.decode().splitlines()) == 2
    assert err == "", err
    assert status == EXIT_BROKEN_PIPE, status


def test_closed_pipe_through_the_shell(tmp_path):
    proc = subprocess.run(
        f"'{sys.executable}' -m wonderland practice --starts 1500 --steps 3 "
        f"--out '{tmp_path / 'figs'}' | head -n 2", shell=True, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0  # head's status
    assert len(proc.stdout.splitlines()) == 2
    assert proc.stderr == "", proc.stderr


@pytest.mark.parametrize("command", ["fit", "predict", "practice", "tour", "bench"])
def test_help_shows_no_empty_or_doubled_default(command):
    done = _run([command, "--help"])
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "(default: None)" not in text
    assert "None:" not in text  # reads as a placeholder: say what happens without the flag
    assert not re.search(r"\(default: [^)]*\) \(default:", text), text


def test_fit_help_says_what_the_dask_options_default_to():
    done = _run(["fit", "--help"])
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "--workers N worker processes of the local cluster (default: 2)" in text
    assert ("--memory-limit SIZE memory per local worker, e.g. 2GB (default: the machine's "
            "memory shared out among the workers)") in text
