"""The commands of README.md and docs/*.md hold (issue 35): every ``python -m harness…`` line of
their shell blocks is parsed by that command's own argparse parser, a sweep it names is resolved by
a dry run (a ``harness.cluster`` check is run), a ``make`` target it names is in the Makefile, and a
YAML block headed by its file's path (``# search_spaces/my_study.yaml``) is checked as that file
would be. So a renamed flag, subcommand, search space or target cannot leave the front door wrong.
No Ray, no training.

Why the real parsers and not ``--help`` appended in a subprocess: argparse acts on ``--help`` where
it meets it and exits 0 before it reports unknown arguments, so ``--renamed-flag --help`` passes
(``test_help_hides_an_unknown_flag`` pins that)."""

from __future__ import annotations

import io
import re
import shlex
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.registry import resolve
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

# each command's parser factory; a command the docs name that is missing here fails its test
PARSERS = {
    "harness": "harness.__main__:_parser",
    "harness.backbones": "harness.backbones.__main__:_parser",
    "harness.cluster": "harness.cluster:parser",
    "harness.data": "harness.data.__main__:_parser",
    "harness.plan": "harness.plan.__main__:parser",
    "harness.report": "harness.report.__main__:parser",
    "harness.sweep": "harness.sweep.cli:_parser",
}
SHELL = {"bash", "sh", "shell", "console", ""}  # a fence's info string; console and bare blocks: `$ ` lines only
ENDS = {"|", "||", "&&", ";", ">", ">>", "2>", "&"}  # what ends the command (a pipe, a redirect, the next one)


@dataclass(frozen=True)
class Command:
    where: str  # page:line
    argv: tuple[str, ...]  # the words after the program: `harness.sweep`, `search_spaces/mos.yaml`, … or `make` words


def blocks(text: str):
    """(info string, first line number, lines) of each fenced block of a Markdown text."""
    info, start, lines = None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^\s*```\s*([\w-]*)", line)
        if fence and info is None:
            info, start, lines = fence.group(1).lower(), number + 1, []
        elif fence:
            yield info, start, lines
            info = None
        elif info is not None:
            lines.append(line)


def logical_lines(lines: list[str], start: int, prompts_only: bool):
    """(line number, text) with `\\` continuations joined and `$ ` prompts dropped."""
    pending, first = "", start
    for number, line in enumerate(lines, start):
        stripped = line.strip()
        if not pending:
            first = number
            if stripped.startswith("$ "):
                stripped = stripped[2:]
            elif prompts_only:
                continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        yield first, pending + stripped
        pending = ""


def command_of(line: str) -> tuple[str, ...] | None:
    """The words a harness or make command line runs, past env assignments, nice/time and the
    interpreter: ("harness.sweep", "search_spaces/mos.yaml", …) or ("make", "test"); None otherwise."""
    words = shlex.split(line, comments=True)
    for i, word in enumerate(words):
        if word in ENDS:
            words = words[:i]
            break
    while words and (re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]) or words[0] in ("time", "nice")):
        words = words[3:] if words[0] == "nice" and words[1:2] == ["-n"] else words[1:]
    if words[:1] == ["make"]:
        return tuple(words)
    if len(words) >= 3 and re.fullmatch(r"(\S*/)?python(3(\.\d+)?)?", words[0]) and words[1] == "-m":
        if words[2] == "harness" or words[2].startswith("harness."):
            return tuple(words[2:])
    return None


def commands_in(text: str, page: str) -> list[Command]:
    found = []
    for info, start, lines in blocks(text):
        if info not in SHELL:
            continue
        for number, line in logical_lines(lines, start, prompts_only=info in ("console", "")):
            argv = command_of(line)
            if argv:
                found.append(Command(f"{page}:{number}", argv))
    return found


def files_in(text: str) -> dict[str, str]:
    """YAML blocks whose first line is `# PATH.yaml` (a comment may follow a colon): path -> text."""
    named = {}
    for info, _, lines in blocks(text):
        head = re.match(r"^#\s*(\S+\.yaml):?(\s|$)", lines[0]) if info in ("yaml", "yml") and lines else None
        if head:
            named[head.group(1)] = "\n".join(lines) + "\n"
    return named


def read_pages():
    return {page.relative_to(ROOT).as_posix(): page.read_text() for page in PAGES}


COMMANDS = [c for page, text in read_pages().items() for c in commands_in(text, page)]
FILES = {path: body for text in read_pages().values() for path, body in files_in(text).items()}


def run_parser(module: str, argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of ``python -m MODULE ARGV``'s argument parsing alone."""
    assert module in PARSERS, f"python -m {module}: no parser known to tests/test_docs.py (add it to PARSERS)"
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        try:
            resolve(PARSERS[module])().parse_args(argv)
        except SystemExit as stop:
            return int(stop.code or 0), err.getvalue()
    return 0, err.getvalue()


def option_value(argv: list[str], option: str) -> str | None:
    for i, word in enumerate(argv):
        if word == option and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None


def materialise(path: str, tmp_path: Path) -> str:
    """A search space the docs name: the repository's file, else the docs' own YAML block written
    beside a copy of the repository's defaults.yaml (which a space extends from its folder)."""
    if (ROOT / path).is_file():
        return str(ROOT / path)
    assert path in FILES, f"{path}: neither in the repository nor written in a docs YAML block headed `# {path}`"
    folder = tmp_path / "spaces"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "search_spaces" / "defaults.yaml", folder / "defaults.yaml")
    (folder / Path(path).name).write_text(FILES[path])
    return str(folder / Path(path).name)


def dry_run(where: str, argv: list[str], tmp_path: Path, capsys) -> None:
    """The sweep's --dry-run (no Ray) on the space the command names, its storage a fresh folder."""
    from harness.sweep.cli import main

    words, skip = [], False
    for word in argv:  # drop --storage/--address (an s3:// bucket, a cluster) and --dry-run's own flags
        if skip:
            skip = False
        elif word in ("--storage", "--address"):
            skip = True
        elif word not in ("--dry-run", "--json") and not word.startswith(("--storage=", "--address=")):
            words.append(word)
    words[0] = materialise(words[0], tmp_path)
    status = main([*words, "--dry-run", "--storage", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert status == 0, f"{where}: the dry run of {shlex.join(argv)} exited {status}: {err or out}"


def check(command: Command, tmp_path: Path, capsys, monkeypatch) -> None:
    module, argv = command.argv[0], list(command.argv[1:])
    if module == "make":
        targets = set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(), re.M))
        missing = [w for w in argv if not w.startswith("-") and "=" not in w and w not in targets]
        assert not missing, f"{command.where}: make {' '.join(argv)}: no Makefile target {missing}"
        return
    status, err = run_parser(module, argv)
    assert status == 0, f"{command.where}: python -m {module} {shlex.join(argv)}: argparse refused it: {err}"
    if "-h" in argv or "--help" in argv:
        others = [w for w in argv if w.startswith("-") and w not in ("-h", "--help")]
        assert not others, f"{command.where}: --help hides unknown flags, so give it alone (found {others})"
        return
    monkeypatch.chdir(ROOT)
    if SHARED_DATA.is_dir():  # the real data, where a check wants it (tests/conftest.py's convention)
        monkeypatch.setenv("HARNESS_DATA_DIR", str(SHARED_DATA))
    if module == "harness.sweep" and argv and not argv[0].startswith("-") and "--list" not in argv:
        dry_run(command.where, argv, tmp_path, capsys)
    elif module == "harness.cluster":
        from harness.cluster import main

        status = main([materialise(argv[0], tmp_path), *argv[1:]])
        out, err = capsys.readouterr()
        assert status == 0, f"{command.where}: python -m harness.cluster {shlex.join(argv)}: {err or out}"


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_command(command, tmp_path, capsys, monkeypatch):
    check(command, tmp_path, capsys, monkeypatch)


def test_the_front_door_has_its_commands():
    """The README shows the two commands and a study's steps in a researcher's order."""
    readme = [c.argv for c in COMMANDS if c.where.startswith("README.md:")]
    assert ("make", "quickstart") in readme and ("make", "test") in readme
    steps = ["harness.plan", "harness.sweep --dry-run", "harness.sweep", "harness.report"]
    seen = [
        "harness.sweep --dry-run" if argv[0] == "harness.sweep" and "--dry-run" in argv else argv[0]
        for argv in readme
        if argv[0] != "make"
    ]
    order = [seen.index(step) for step in steps if step in seen]
    assert len(order) == len(steps) and order == sorted(order), f"README's study commands, in order: {seen}"


@pytest.mark.parametrize("path", sorted(p for p in FILES if p.endswith("report.yaml")))
def test_report_options_block(path, tmp_path):
    """A docs report.yaml (options and claims) is read as `python -m harness.report` reads it."""
    from harness.report.__main__ import CLAIMS, options_file, parser
    from harness.report.claims import parse_claims

    (tmp_path / "report.yaml").write_text(FILES[path])
    values = options_file(parser(), str(tmp_path))
    assert parse_claims(values.pop(CLAIMS, None), path), f"{path}: no claims"


def anchors(text: str) -> set[str]:
    """GitHub's anchors of a Markdown text's headings: lower case, punctuation dropped, spaces to -."""
    inside, found = False, set()  # a line in a fenced block is not a heading
    for line in text.splitlines():
        if re.match(r"^\s*```", line):
            inside = not inside
        elif not inside and (heading := re.match(r"^#{1,6}\s+(.*?)\s*$", line)):
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-"))
    return found


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_links(page):
    """Every relative link of the README and the docs names a file that exists (and a heading it has)."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_a_renamed_flag_fails(tmp_path, capsys, monkeypatch):
    text = "```bash\npython -m harness.sweep search_spaces/mos.yaml --dryrun   # renamed\n```\n"
    [command] = commands_in(text, "page.md")
    assert command == Command("page.md:2", ("harness.sweep", "search_spaces/mos.yaml", "--dryrun"))
    with pytest.raises(AssertionError, match="argparse refused it"):
        check(command, tmp_path, capsys, monkeypatch)


def test_a_missing_search_space_fails(tmp_path, capsys, monkeypatch):
    [command] = commands_in("```console\n$ python -m harness.sweep search_spaces/gone.yaml\n```\n", "page.md")
    with pytest.raises(AssertionError, match="neither in the repository"):
        check(command, tmp_path, capsys, monkeypatch)


def test_help_hides_an_unknown_flag():
    """Why the commands are parsed, not run with --help: argparse exits 0 at --help first."""
    assert run_parser("harness.sweep", ["--no-such-flag", "--help"])[0] == 0
    assert run_parser("harness.sweep", ["--no-such-flag"])[0] == 2


def test_extraction():
    text = (
        "```sh\nHARNESS_DATA_DIR=x nice -n 10 .venv/bin/python -m harness.report results/q \\\n"
        "    --reference mos | head   # note\npip install x\n```\n"
        "```\n$ make test TEST_WORKERS=0\npython -m harness.plan ignored\n```\n"
        "```yaml\n# results/e/report.yaml: an example\nz: 1.0\n```\n"
    )
    assert [c.argv for c in commands_in(text, "p.md")] == [
        ("harness.report", "results/q", "--reference", "mos"),
        ("make", "test", "TEST_WORKERS=0"),
    ]
    assert files_in(text) == {"results/e/report.yaml": "# results/e/report.yaml: an example\nz: 1.0\n"}
    assert yaml.safe_load(files_in(text)["results/e/report.yaml"]) == {"z": 1.0}
