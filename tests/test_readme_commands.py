"""Issue 10: every command shown in README.md and docs/ works.

Every line of a fenced ``bash``/``sh``/``shell``/``console`` block is a
command (``a && b`` is two steps). Each step must match exactly one recipe
below, which runs it from the repository root, made small where the shown
command is long:

* ``python -m gossip_model.sim`` / ``gossip-sim``: run as shown, with at most
  3 seeds and 60 ops; ``py:mybackend:make_ledger`` runs in a directory whose
  ``mybackend.py`` defines ``make_ledger()``, as the README says;
* ``python -c ...`` and ``python benchmarks/...``: run as shown, a benchmark
  with at most 5 ``--examples``;
* ``python -m pytest``: run as shown (every option, profile and marker) on a
  small selection: for ``-m slow`` the first chunk of the slow sweep, exactly
  as shown (so a missing ``--no-cov`` fails on the coverage gate, as the full
  command would); for the battery (``--pyargs gossip_model.suite``) every
  item at ``--gossip-scale=0.1``; otherwise one short file, with ``--no-cov``
  added when missing, because the 95% gate measures the full default run,
  which is what ``.ci/run`` runs; a shown ``-n auto`` starts one xdist worker
  (``PYTEST_XDIST_AUTO_NUM_WORKERS=1``: the sample needs no second one);
* ``python -m pip install``: NOT run (it would reinstall the environment
  under test, which ``.ci/run`` does anyway); the extras it names must exist;
* ``bash -c '. .ci/postgres.sh; ...'``: the inner command runs (made small)
  when ``GOSSIP_POSTGRES_TEST_URL`` is set, as in CI; skipped otherwise
  (starting a cluster here would install PostgreSQL).
* ``GOSSIP_HYPOTHESIS_DB...=DIR python -m pytest ...``: the variables point
  into a temporary directory (a read-only one is created empty, standing for
  a downloaded CI artifact); a ``--pyargs`` run runs as shown, a ``tests``
  path as in the ``python -m pytest`` recipe;
* ``hypothesis fuzz ...``: skipped without hypofuzz (the ``fuzz`` extra, not
  in ``test``); with it, the options are parsed by HypoFuzz's command line and
  the pytest arguments after ``--`` must collect the machines the options
  select (``mybackend:make_ledger`` as above). The campaign itself runs
  until stopped: ``tests/fuzz/test_campaign.py`` runs one to its end (slow).

A new command in the docs without a recipe fails
:func:`test_every_shown_command_has_a_recipe`: add one here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
#: docs/backend-guide.md is left out: its commands need the files its earlier blocks
#: write, and tests/suite/test_backend_guide.py runs every block of it in order.
RUN_ELSEWHERE = {ROOT / "docs" / "backend-guide.md"}
DOCUMENTS = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if p not in RUN_ELSEWHERE),
]
SHELL_FENCE = re.compile(r"^```(bash|sh|shell|console)\s*$")
QUICK_LOOP_PROFILE = "dev"
"""conftest.py's quick-loop profile, under which no shown command is started."""
MAX_SEEDS = 3
MAX_OPS = 60
MAX_EXAMPLES = 5
"""A shown benchmark's ``--examples``, capped: the sample proves the command runs and prints
its figures; the figures themselves are the benchmark's business (issue 11 item 4: the
README's 30 examples cost about 8 s of CPU here)."""
BENCHMARK_CAPS = {
    "benchmarks/bench_linearizability.py": (["--max-ops", "1000"], "   1000   partitioned"),
}
"""Options added to a shown benchmark, and a line its output must hold: the checker's
figures stop at 1k operations (the 10k unpartitioned search of ``--quick`` cost about
10 s of CPU here, issue 11 item 4)."""
SLOW_NODE = "tests/sim/test_sweeps.py::test_done_ledger_sim_radioactive[seeds0-9]"
#: A slow test of a folder a shown ``-m slow`` command names: of the four planted-bug
#: shrinks there, the cheapest (5 s in one measured run; lost-update 7 s, the others 11-12 s).
SLOW_IN = {
    "tests/linearizability": (
        "tests/linearizability/test_parallel.py::"
        "test_planted_concurrency_bug_shrinks_to_a_small_program[findings-check-then-insert]"
    ),
}
#: A short file standing for a folder (or for the whole suite, key ""): the
#: options, plugins and Hypothesis profile are still loaded and checked.
SMALL = {
    "": "tests/rules/test_machine_shape.py",
    "tests/rules": "tests/rules/test_machine_shape.py",
    "tests/inmemory": "tests/inmemory/test_errors.py",
    "tests/linearizability": "tests/linearizability/test_history_recorder.py",
}
ONE_AUTO_WORKER = {"PYTEST_XDIST_AUTO_NUM_WORKERS": "1"}
"""For a shown ``-n auto``: xdist still starts, distributes and reports, with one worker.
The sample is one short file; a second worker would only add its start-up (about 1.5 s
of CPU each, next to the outer run's own workers on the same cores; issue 11 item 4)."""
BATTERY_SCALE = "--gossip-scale=0.1"
"""Added to a shown battery command (``--pyargs gossip_model.suite``): every item still
runs, at a tenth of the sizes (``tests/suite/test_plugin.py`` runs the same scale)."""
MYBACKEND = """\
from gossip_model.inmemory import InMemoryDoneLedger


def make_ledger():
    return InMemoryDoneLedger()
"""


def shown_commands() -> list[tuple[str, str]]:
    """``(document, step)`` for every step of every shell block of the docs."""
    found: list[tuple[str, str]] = []
    for document in DOCUMENTS:
        inside = False
        pending = ""
        for line in document.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                inside = bool(SHELL_FENCE.match(line)) and not inside
                continue
            if not inside:
                continue
            line = pending + line.strip()
            if line.endswith("\\"):
                pending = line[:-1].rstrip() + " "
                continue
            pending = ""
            line = re.sub(r"\s+#\s.*$", "", line).removeprefix("$ ")
            if line and not line.startswith("#"):
                name = str(document.relative_to(ROOT))
                found.extend((name, step.strip()) for step in line.split(" && "))
    return found


@dataclass(frozen=True)
class Run:
    """How a recipe runs a step: argv, working directory, expected output."""

    argv: list[str]
    cwd: Path = ROOT
    expect: str = ""
    status: int = 0
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    name: str
    pattern: re.Pattern[str]
    plan: Callable[[str, Path], Run | str]  # a str is a reason to skip or a static check


def _shrink(argv: list[str]) -> list[str]:
    out = list(argv)
    for option, limit in (
        ("--seeds", MAX_SEEDS),
        ("--ops", MAX_OPS),
        ("--examples", MAX_EXAMPLES),
    ):
        if option in out:
            index = out.index(option) + 1
            out[index] = str(min(int(out[index]), limit))
    return out


def _gossip_sim(command: str, tmp: Path) -> Run:
    argv = shlex.split(command)
    if argv[0] == "gossip-sim":
        script = Path(sys.executable).with_name("gossip-sim")
        head = [str(script)] if script.exists() else [sys.executable, "-m", "gossip_model.sim"]
        rest = argv[1:]
    else:
        head, rest = [sys.executable, "-m", "gossip_model.sim"], argv[3:]
    cwd = ROOT
    if any(arg.startswith("py:mybackend:") for arg in rest):
        (tmp / "mybackend.py").write_text(MYBACKEND)
        cwd = tmp
    if "--version" in rest:
        return Run([*head, *rest], cwd, "gossip-sim ")
    if rest[0] == "stress":
        # --delayed on a store without the control surface (a planted bug built without it):
        # exit 3 naming what is missing.
        from gossip_model.linearizability.planted import PLANTED

        if "--delayed" in rest and any(arg.removeprefix("planted:") in PLANTED for arg in rest):
            expect = "delayed mode needs the store's control surface"
            return Run([*head, *_shrink(rest)], cwd, expect, status=3)
        # A planted concurrency bug is shown to be caught: exit 1 with a counter-history.
        if any(arg.startswith("planted:") for arg in rest):
            return Run([*head, *_shrink(rest)], cwd, "verdict: NOT linearizable", status=1)
        return Run([*head, *_shrink(rest)], cwd, "verdict: linearizable")
    if rest[0] == "audit":
        # The file the README's previous step creates, made here in a private place.
        from gossip_model.sqlite import SqliteDoneLedger

        target = [arg for arg in rest if arg.startswith("sqlite:")]
        assert target, f"add a recipe for {command!r}"
        database = tmp / "demo.db"
        SqliteDoneLedger(str(database)).close()
        rest = [f"sqlite:{database}" if arg in target else arg for arg in rest]
        return Run([*head, *rest], cwd, "OK: no violations")
    return Run([*head, *_shrink(rest)], cwd, "OK: no violations")


def _python(command: str, tmp: Path) -> Run:
    """``python -c ...`` and ``python benchmarks/...``: run as shown, a benchmark with at
    most ``MAX_EXAMPLES`` examples and its ``BENCHMARK_CAPS``."""
    argv = shlex.split(command)
    if argv[1] == "-c":
        return Run([sys.executable, *argv[1:]], tmp)
    cap, expect = BENCHMARK_CAPS.get(argv[1], ([], ""))
    return Run([sys.executable, *_shrink(argv[1:]), *cap], ROOT, expect)


def _pytest(command: str, tmp: Path) -> Run:
    argv = shlex.split(command)[3:]
    paths = [a for a in argv if a.startswith("tests")]
    options = [a for a in argv if not a.startswith("tests")]
    if "-m" in options:
        # Run as shown: the gate applies (and fails) to a -m selection as to its first chunk.
        assert options[options.index("-m") + 1] == "slow", "add a selection for this marker"
        selection = [SLOW_IN[p] for p in paths] if paths else [SLOW_NODE]
    elif "--pyargs" in options:
        # The battery is the selection; it is made small by its own size option.
        selection = [BATTERY_SCALE]
    else:
        selection = [SMALL.get(p, p) for p in paths] if paths else [SMALL[""]]
        if "--no-cov" not in options:  # the gate is for the full run, not for a sample
            options.append("--no-cov")
    return Run(
        [sys.executable, "-m", "pytest", *options, *selection, "-p", "no:cacheprovider"],
        expect=" passed",
        env=ONE_AUTO_WORKER if "-n" in options else {},
    )


def _pip_install(command: str, tmp: Path) -> str:
    target = shlex.split(command)[-1]
    match = re.fullmatch(r"(?:\.|gossip-model)(?:\[(?P<extras>[\w,-]+)\])?", target)
    assert match is not None, f"unexpected install target {target!r}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    known = set(pyproject["project"]["optional-dependencies"])
    extras = set(filter(None, (match.group("extras") or "").split(",")))
    assert extras <= known, f"{command}: unknown extra(s) {sorted(extras - known)}"
    return "checked, not run: the extras exist (.ci/run performs the install)"


def _postgres(command: str, tmp: Path) -> Run | str:
    if not os.environ.get("GOSSIP_POSTGRES_TEST_URL"):
        return "skipped: needs a PostgreSQL server (GOSSIP_POSTGRES_TEST_URL, as in CI)"
    source, inner = shlex.split(command)[2].split("; ", 1)
    if not inner.startswith("python -m gossip_model.sim "):
        # A recipe of several steps (create a database, then audit it): run as shown.
        return Run(["bash", "-c", command.split(" ", 2)[2][1:-1]])
    words = _shrink(shlex.split(inner))
    assert words[0] == "python"
    # Rebuilt for bash: every word quoted, the URL variable left to bash to expand.
    quoted = [f'"{w}"' if "$GOSSIP_POSTGRES_TEST_URL" in w else shlex.quote(w) for w in words[1:]]
    script = f"{source}; {shlex.quote(sys.executable)} {' '.join(quoted)}"
    return Run(["bash", "-c", script], expect="OK: no violations")


ENV_PREFIX = re.compile(r"^((?:GOSSIP_HYPOTHESIS_DB\w*=\S+ )*)(.*)$")
FUZZ_TARGETS = ("TestFuzzDoneLedger", "TestFuzzFindingsSink", "TestFuzzPlainLedger")
FUZZ_COLLECT = """\
import sys

from hypofuzz.collection import collect_tests
from hypofuzz.entrypoint import fuzz

pytest_args = fuzz.make_context("fuzz", sys.argv[1:]).params["pytest_args"]
found = collect_tests(pytest_args).fuzz_targets
print("fuzz targets:", ", ".join(sorted(t.nodeid.split("::")[1] for t in found)))
"""


def _database_env(command: str, tmp: Path) -> tuple[dict[str, str], str]:
    """The ``GOSSIP_HYPOTHESIS_DB*`` words of ``command``, pointed into ``tmp``; the rest."""
    match = ENV_PREFIX.match(command)
    assert match is not None
    env = {}
    for word in match.group(1).split():
        name, value = word.split("=", 1)
        env[name] = str(tmp / value)
        if name.endswith("_READONLY"):
            (tmp / value).mkdir(parents=True, exist_ok=True)  # the downloaded artifact
    return env, match.group(2)


def _pytest_with_database(command: str, tmp: Path) -> Run:
    env, rest = _database_env(command, tmp)
    argv = shlex.split(rest)[3:]
    if "--pyargs" in argv:
        # The database is empty here: gossip-replay then runs nothing and says so.
        replay = "--hypothesis-profile=gossip-replay" in argv
        return Run(
            [sys.executable, "-m", "pytest", *argv, "-p", "no:cacheprovider", "-rs"],
            expect="told to run no examples" if replay else " passed",
            env=env,
        )
    plan = _pytest(rest, tmp)
    return replace(plan, env={**plan.env, **env})


def _fuzz(command: str, tmp: Path) -> Run | str:
    try:
        import hypofuzz  # noqa: F401
    except ImportError:
        return "skipped: hypofuzz is not installed (python -m pip install -e '.[fuzz]')"
    env, rest = _database_env(command, tmp)
    argv = shlex.split(rest)[2:]
    cwd = ROOT
    if any(arg.startswith("mybackend:") for arg in argv):
        (tmp / "mybackend.py").write_text(MYBACKEND)
        cwd = tmp
    targets = FUZZ_TARGETS
    if "--gossip-ledger" in argv and "--gossip-sink" not in argv:
        targets = ("TestFuzzDoneLedger", "TestFuzzPlainLedger")
    return Run(
        [sys.executable, "-c", FUZZ_COLLECT, *argv],
        cwd,
        expect=f"fuzz targets: {', '.join(targets)}\n",
        env=env,
    )


RECIPES = [
    Recipe("simulation", re.compile(r"^(python -m gossip_model\.sim|gossip-sim)\b"), _gossip_sim),
    Recipe("pytest", re.compile(r"^python -m pytest\b"), _pytest),
    Recipe("pip", re.compile(r"^python -m pip install\b"), _pip_install),
    Recipe("postgres", re.compile(r"^bash -c '\. \.ci/postgres\.sh; python "), _postgres),
    Recipe("python", re.compile(r"^python (-c |benchmarks/\S+\.py\b)"), _python),
    Recipe(
        "pytest with a database",
        re.compile(r"^(GOSSIP_HYPOTHESIS_DB\w*=\S+ )+python -m pytest\b"),
        _pytest_with_database,
    ),
    Recipe("fuzz", re.compile(r"^(GOSSIP_HYPOTHESIS_DB\w*=\S+ )*hypothesis fuzz\b"), _fuzz),
]
COMMANDS = shown_commands()


def recipes_for(command: str) -> list[Recipe]:
    return [recipe for recipe in RECIPES if recipe.pattern.search(command)]


def test_every_shown_command_has_a_recipe() -> None:
    assert COMMANDS, "no shell block found in README.md"
    unmatched = [(doc, c) for doc, c in COMMANDS if len(recipes_for(c)) != 1]
    assert not unmatched, f"commands without exactly one recipe (add one): {unmatched}"


def _clean_env() -> dict[str, str]:
    """The caller's environment without the outer pytest's coverage and xdist variables."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COV_CORE_", "PYTEST_XDIST_", "PYTEST_CURRENT_TEST"))
    }


@pytest.mark.parametrize(
    ("document", "command"), COMMANDS, ids=[f"{d}:{c[:60]}" for d, c in COMMANDS]
)
def test_shown_command_works(document: str, command: str, tmp_path: Path) -> None:
    """Issue 10: the command runs (made small) and succeeds, or is checked statically.

    Under the ``dev`` profile (the quick loop) a command that would start a
    process is skipped, saying so: each costs a fresh interpreter (often a
    pytest with xdist workers) and none depends on the profile; the default
    run and CI run every one (issue 11 item 4).
    """
    (recipe,) = recipes_for(command)
    plan = recipe.plan(command, tmp_path)
    if isinstance(plan, Run) and settings.get_current_profile_name() == QUICK_LOOP_PROFILE:
        pytest.skip("dev profile: shown commands run in the default run, not the quick loop")
    if isinstance(plan, str):
        if plan.startswith("skipped"):
            pytest.skip(plan)
        return  # a static check that passed
    result = subprocess.run(
        plan.argv,
        cwd=plan.cwd,
        env={**_clean_env(), **plan.env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == plan.status, (
        f"{plan.argv} exited {result.returncode}:\n{output[-3000:]}"
    )
    assert plan.expect in output, output[-3000:]


def test_shown_commands_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Continuations, ``&&`` chains, prompts and comments; non-shell fences are ignored."""
    doc = tmp_path / "guide.md"
    doc.write_text(
        "```bash\n# a comment\n$ python -m gossip_model.sim sweep \\\n  --seeds 9"
        "  # trailing\npython -m pip install . && gossip-sim --version\n```\n"
        "```python\nimport os\n```\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "DOCUMENTS", [doc])
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert shown_commands() == [
        ("guide.md", "python -m gossip_model.sim sweep --seeds 9"),
        ("guide.md", "python -m pip install ."),
        ("guide.md", "gossip-sim --version"),
    ]


def test_recipes_shrink_and_keep_the_shown_options(tmp_path: Path) -> None:
    run = _gossip_sim("python -m gossip_model.sim sweep --seeds 100 --ops 500", tmp_path)
    assert run.argv[-4:] == ["--seeds", "3", "--ops", "60"]
    bench = _python("python benchmarks/bench_rules.py --examples 30 --repeat 1", tmp_path)
    assert bench.argv[1:] == ["benchmarks/bench_rules.py", "--examples", "5", "--repeat", "1"]
    checker = _python("python benchmarks/bench_linearizability.py --quick", tmp_path)
    assert checker.argv[2:] == ["--quick", "--max-ops", "1000"]
    assert checker.expect == "   1000   partitioned"
    slow = _pytest("python -m pytest -n auto -m slow", tmp_path)
    assert "--no-cov" not in slow.argv  # the gate is kept: that command must document it
    assert SLOW_NODE in slow.argv
    assert slow.env == ONE_AUTO_WORKER  # -n auto as shown, one worker for the sample
    sample = _pytest("python -m pytest --hypothesis-profile=dev", tmp_path)
    assert sample.argv[3:6] == ["--hypothesis-profile=dev", "--no-cov", SMALL[""]]
    battery = _pytest("python -m pytest --no-cov --pyargs gossip_model.suite -n auto", tmp_path)
    assert battery.argv[3:] == [
        "--no-cov", "--pyargs", "gossip_model.suite", "-n", "auto", BATTERY_SCALE,
        "-p", "no:cacheprovider",
    ]  # fmt: skip
    lin = _pytest("python -m pytest --no-cov -q tests/linearizability", tmp_path)
    assert SMALL["tests/linearizability"] in lin.argv
    with pytest.raises(AssertionError, match="unknown extra"):
        _pip_install("python -m pip install -e '.[nope]'", tmp_path)


def test_database_variables_point_into_the_temporary_directory(tmp_path: Path) -> None:
    """A shown ``GOSSIP_HYPOTHESIS_DB*`` never writes into the repository; a read-only
    directory (a downloaded artifact) exists, empty, as the plugin requires."""
    env, rest = _database_env(
        "GOSSIP_HYPOTHESIS_DB=a GOSSIP_HYPOTHESIS_DB_READONLY=b python -m pytest x", tmp_path
    )
    assert env == {
        "GOSSIP_HYPOTHESIS_DB": str(tmp_path / "a"),
        "GOSSIP_HYPOTHESIS_DB_READONLY": str(tmp_path / "b"),
    }
    assert rest == "python -m pytest x"
    assert (tmp_path / "b").is_dir()
    assert not (tmp_path / "a").exists()


def test_a_broken_command_fails(tmp_path: Path) -> None:
    """The recipe runner is not vacuous: an unknown Hypothesis profile exits non-zero."""
    plan = _pytest("python -m pytest --hypothesis-profile=no-such-profile", tmp_path)
    result = subprocess.run(
        plan.argv, cwd=plan.cwd, env=_clean_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
