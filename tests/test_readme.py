"""The README runs: every Python block on its own, its printed output as the README shows
it; every `>>>` session as a doctest; every shell command through the CLI.

A ```python block is a complete script (its own imports and definitions). When the next
block is a ```text block, that is what the script prints. A ```pycon block is a doctest
session (``...`` matches any text). A ```bash block's commands run in a scratch folder,
except the two setup commands at the top, which CI runs itself (``.ci/run``).
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def _blocks() -> list[tuple[str, str, int]]:
    """(language, text, line number) of every fenced block, in order."""
    text = README.read_text()
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text)]


def _scripts() -> list[tuple[str, str | None, int]]:
    """Each Python block with the output block that follows it (or None)."""
    blocks = _blocks()
    found = []
    for i, (lang, code, line) in enumerate(blocks):
        if lang == "python":
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            shown = after[1] if after is not None and after[0] == "text" else None
            found.append((code, shown, line))
    return found


def _run(args: list[str], cwd: Path, stdin: str | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout)


def _normalize(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


SCRIPTS = _scripts()


def test_the_readme_has_examples_and_the_first_shows_its_output() -> None:
    assert len(SCRIPTS) >= 3
    first_code, first_output, _ = SCRIPTS[0]
    assert "import wonderland as wl" in first_code
    assert first_output is not None, "the first example must show what it prints"


@pytest.mark.parametrize(("code", "shown", "line"), SCRIPTS,
                         ids=[f"line{line}" for _, _, line in SCRIPTS])
def test_python_block_runs_on_its_own_and_prints_what_the_readme_shows(
        code: str, shown: str | None, line: int, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code)
    done = _run([sys.executable, str(script)], tmp_path)
    assert done.returncode == 0, f"README block at line {line} failed:\n{done.stderr}"
    if shown is not None:
        assert _normalize(done.stdout) == _normalize(shown), (
            f"README block at line {line} printed:\n{done.stdout}\nthe README shows:\n{shown}")


SESSIONS = [(code, line) for lang, code, line in _blocks() if lang == "pycon"]


@pytest.mark.parametrize(("session", "line"), SESSIONS,
                         ids=[f"line{line}" for _, line in SESSIONS])
def test_interactive_session_matches(session: str, line: int) -> None:
    test = doctest.DocTestParser().get_doctest(session, {}, f"README line {line}",
                                               str(README), line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda report: pytest.fail(report, pytrace=False))
    assert runner.summarize(verbose=False).attempted > 0


def _setup_command(command: str) -> bool:
    return "pip install" in command or "-m venv" in command


SHELL_BLOCKS = [([cmd for cmd in code.strip().splitlines()
                  if cmd.strip() and not cmd.startswith("#")], line)
                for lang, code, line in _blocks() if lang == "bash"]
SHELL_BLOCKS = [(commands, line) for commands, line in SHELL_BLOCKS
                if not any(_setup_command(cmd) for cmd in commands)]


@pytest.mark.parametrize(("commands", "line"), SHELL_BLOCKS,
                         ids=[f"line{line}" for _, line in SHELL_BLOCKS])
def test_shell_block_runs(commands: list[str], line: int, tmp_path: Path) -> None:
    """A block's commands run one after the other in one scratch folder."""
    for command in commands:
        words = shlex.split(command.split(" #")[0])
        assert words[0].startswith(".venv/bin/"), (
            f"README line {line}: commands run from the venv the first command makes")
        words[0] = str(BIN / words[0].removeprefix(".venv/bin/"))
        done = _run(words, tmp_path)
        assert done.returncode == 0, f"README line {line}: {command}\n{done.stderr}"
        assert "Traceback" not in done.stderr


EXCERPT = re.compile(r"^<!-- excerpt: (\S+) -->\n```\w*\n(.*?)^```$", re.S | re.M)


def test_quoted_source_is_in_the_source() -> None:
    """A block marked as an excerpt of a file quotes lines that are in that file."""
    found = EXCERPT.findall(README.read_text())
    assert found
    for path, quoted in found:
        source = (ROOT / path).read_text()
        for line in quoted.strip().splitlines():
            assert line in source, f"README quotes {line!r} from {path}, which lacks it"


CONSOLE = [(code, line) for lang, code, line in _blocks() if lang == "console"]


def _console_steps(session: str) -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ `` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for text in session.strip().splitlines():
        if text.startswith("$ "):
            steps.append((text[2:], []))
        else:
            steps[-1][1].append(text)
    return [(command, "\n".join(shown)) for command, shown in steps]


@pytest.mark.parametrize(("session", "line"), CONSOLE,
                         ids=[f"line{line}" for _, line in CONSOLE])
def test_console_session_prints_what_the_readme_shows(session: str, line: int,
                                                      tmp_path: Path) -> None:
    """Each ``$ command`` runs in a folder holding a copy of the README; what it prints
    (stdout and stderr) matches the lines below it, ``...`` matching any text."""
    (tmp_path / "README.md").write_text(README.read_text())
    env = {**os.environ, "MPLBACKEND": "Agg", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    checker = doctest.OutputChecker()
    for command, shown in _console_steps(session):
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True,
                              text=True, env=env, timeout=300)
        printed = done.stdout + done.stderr
        assert "Traceback" not in printed
        assert checker.check_output(shown.strip() + "\n", printed.strip() + "\n",
                                    doctest.ELLIPSIS), (
            f"README line {line}: `{command}` printed:\n{printed}\nthe README shows:\n{shown}")


def test_the_test_command_is_what_ci_runs() -> None:
    bash = [code.strip() for lang, code, _ in _blocks() if lang == "bash"]
    assert bash[1] in (ROOT / ".ci" / "run").read_text()
