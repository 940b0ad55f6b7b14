"""The `sca-conformance` command as a user meets it, run in a folder of its own: --version
and help change nothing, an unknown command or option is a usage error (exit 4) with a
suggestion and never a run, collect-only builds no report and deletes no results, the
lists, profile templates and upgrades, and `report` rebuilding from two shards' results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from sca_conformance import cli
from sca_conformance.config import RETIRED
from sca_conformance.requirements import registry
from sca_conformance.texts import PAGES
from sca_sandbox.faults import FAULTS

ROOT = Path(__file__).resolve().parents[1]


def sca(cwd: Path, *args: str, timeout: float = 300,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sca_conformance.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"/"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """A folder with an earlier run's results in it."""
    results = tmp_path / "sca-report" / "allure-results"
    results.mkdir(parents=True)
    (results / "0001-result.json").write_text('{"name": "an earlier run"}', encoding="utf-8")
    (results / cli.MARKER).write_text("written by sca-conformance\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version_prints_the_package_version_and_changes_nothing(earlier: Path,
                                                                option: str) -> None:
    before = tree(earlier)
    done = sca(earlier, option)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"sca-conformance {metadata.version('sca-conformance')}\n"
    assert tree(earlier) == before


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["run", "--help"], ["report", "-h"],
                                  ["list", "--help"], ["init", "--help"]])
def test_help_changes_nothing(earlier: Path, args: list[str]) -> None:
    before = tree(earlier)
    done = sca(earlier, *args)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower() or "sca-conformance run" in done.stdout
    assert tree(earlier) == before


@pytest.mark.parametrize(("args", "said"), [
    (["rnu"], "sca-conformance: unknown command 'rnu'; did you mean 'run'?"),
    (["lsit", "faults"], "unknown command 'lsit'; did you mean 'list'?"),
    (["--verison"], "sca-conformance: unknown option --verison; did you mean '--version'?"),
    (["--target", "p.toml"], "did you mean `sca-conformance run --target p.toml`?"),
    (["run", "--tagret", "p.toml"], "sca-conformance run: unknown option --tagret; did you mean "
                                    "'--target'?"),
    (["run", "-k", "approval"], "sca-conformance run: unknown option -k; pytest's own arguments "
                                "go after --: sca-conformance run -- -k NAME"),
    (["run", "suites"], "sca-conformance run: unexpected argument 'suites'"),
    (["list", "requirments"], "sca-conformance list: nothing called 'requirments'; did you mean "
                              "'requirements'?"),
    (["init", "--from", "intergiro"], "no template 'intergiro'; did you mean "
                                      "'intergiro-staging'?"),
    ([], "usage: sca-conformance [--version] [--help] COMMAND"),
])
def test_an_unknown_command_or_option_is_a_usage_error_never_a_run(
        earlier: Path, args: list[str], said: str) -> None:
    before = tree(earlier)
    done = sca(earlier, *args)
    assert done.returncode == 4, done.stdout + done.stderr
    assert said in done.stderr, done.stderr
    assert "collected" not in done.stdout and not done.stdout, done.stdout
    assert tree(earlier) == before


@pytest.mark.parametrize("informational", [["--collect-only", "-q"], ["--co"], ["--markers"]])
def test_collect_only_builds_no_report_and_leaves_earlier_results(
        earlier: Path, informational: list[str]) -> None:
    before = tree(earlier)
    done = sca(earlier, "run", "--", *informational)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    if "--markers" not in informational:
        assert "tests collected" in done.stdout, done.stdout[-2000:]
    assert "report:" not in done.stdout
    assert tree(earlier) == before


def test_target_and_target_url_together_test_the_url_with_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "staging.toml"
    profile.write_text('format = 2\n[target]\nname = "staging"\nbase_url = '
                       '"https://staging.example"\n[keys]\nprimary_env = "STAGING_KEY"\n',
                       encoding="utf-8")
    done = sca(tmp_path, "run", "--target", str(profile), "--target-url",
               "http://127.0.0.1:9", "--", "--co", env={"STAGING_KEY": "sk-test"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "sca target: http://127.0.0.1:9 (profile staging)" in done.stdout


def test_a_profile_with_a_removed_key_names_its_successor_and_runs_nothing(
        earlier: Path) -> None:
    profile = earlier / "old.toml"
    profile.write_text('[target]\nembedded = true\n[formats]\nthousands_separator = " "\n'
                       '[texts.summary]\nconsent_region = "Consent"\n', encoding="utf-8")
    before = tree(earlier)
    done = sca(earlier, "run", "--target", "old.toml")
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr
    assert ("'formats.thousands_separator' was removed: amounts are read with whatever "
            "grouping the page shows; only formats.decimal_separator is said") in done.stderr
    assert "'texts.summary.consent_region' was removed: the summary may name" in done.stderr
    assert "says no format: read as format 2" in done.stderr  # the note, for a format-1 file
    assert tree(earlier) == before


@pytest.mark.parametrize(("body", "said"), [
    ('base_url = "https://a.example"\n', "'base_url' is now 'target.base_url'"),
    ('format = 3\n[target]\nembedded = true\n',
     "is format 3, newer than this sca-conformance"),
    ('format = "2"\n[target]\nembedded = true\n', "format must be a whole number"),
])
def test_renamed_keys_and_newer_formats_are_refused_in_one_line(
        tmp_path: Path, body: str, said: str) -> None:
    from sca_conformance.config import ProfileError, load_profile

    profile = tmp_path / "p.toml"
    profile.write_text(body, encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_profile(profile)
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_every_retired_key_says_what_it_became() -> None:
    assert {"formats.thousands_separator", "texts.summary.consent_region"} <= set(RETIRED)
    for became in RETIRED.values():
        assert became.startswith("removed: ") or "." in became, became


def test_the_shipped_templates_read_as_the_current_format(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from sca_conformance.config import load_profile

    shipped = cli.templates()
    assert {"sandbox", "sandbox-nordic", "intergiro-staging"} <= set(shipped)
    for name in shipped:
        assert cli.main(["init", "--from", name, str(tmp_path / f"{name}.toml")]) == 0
        assert (tmp_path / f"{name}.toml").read_text(encoding="utf-8") == shipped[name]
        assert load_profile(tmp_path / f"{name}.toml").name
    assert f"wrote {tmp_path / 'sandbox.toml'} (template sandbox)" in capsys.readouterr().out
    # never over a file that is there
    assert cli.main(["init", "--from", "sandbox", str(tmp_path / "sandbox.toml")]) == 4
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize(("subject", "expected"), [
    ("requirements", [f"{r.id:<11} {r.level:<6} {r.text}" for r in registry().values()]),
    ("faults", [f"{f.name:<36} {f.requirement:<11} {f.description}" for f in FAULTS.values()]),
    ("templates", None),
    ("texts", [f"{page}.{key} = " for page, keys in PAGES.items() for key in keys]),
])
def test_list(subject: str, expected: list[str] | None,
              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", subject]) == 0
    lines = capsys.readouterr().out.splitlines()
    if subject == "templates":
        assert [line.split()[0] for line in lines] == list(cli.templates())
        assert any("The embedded reference sandbox" in line for line in lines)
    elif subject == "texts":
        assert lines[0].startswith("# [texts] language = en | sv")
        assert [line.split("'")[0] for line in lines[1:]] == expected
    else:
        assert lines == expected


def test_a_results_folder_of_someone_else_stops_the_run_before_it_starts(
        tmp_path: Path) -> None:
    theirs = tmp_path / "sca-report" / "allure-results"
    theirs.mkdir(parents=True)
    (theirs / "0001-result.json").write_text("{}", encoding="utf-8")
    before = tree(tmp_path)
    for args in (["run"], ["report", "sca-report/allure-results"]):
        done = sca(tmp_path, *args)
        assert done.returncode == 4, done.stdout + done.stderr
        assert ("sca-report/allure-results was not written by sca-conformance (it has no "
                ".sca-conformance-results), and a run deletes nothing it did not write: remove "
                "it, or choose another --output") in done.stderr
        assert tree(tmp_path) == before


def test_results_replace_only_what_sca_conformance_wrote(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    final = tmp_path / "allure-results"
    first = cli.fresh_results(final)
    assert cli.put_in_place(first, final) == final and (final / cli.MARKER).is_file()
    second = cli.fresh_results(final)
    (second / "new-result.json").write_text("{}", encoding="utf-8")
    assert cli.put_in_place(second, final) == final and (final / "new-result.json").is_file()
    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    third = cli.fresh_results(foreign)
    assert cli.put_in_place(third, foreign) == third
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert "was not written by sca-conformance: left as it is" in capsys.readouterr().err


def test_a_report_that_cannot_be_built_exits_12(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "0001-result.json").write_text(json.dumps(
        {"uuid": "0001", "name": "t", "status": "passed", "start": 1, "stop": 2}),
        encoding="utf-8")
    done = sca(tmp_path, "report", str(results), "--output", "out",
               "--allure", str(tmp_path / "no-allure-here"))
    assert done.returncode == 12, done.stdout + done.stderr
    assert "the report could not be built" in done.stderr
    assert (results / "0001-result.json").is_file() and len(list(results.iterdir())) == 1


def test_report_of_no_results_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = sca(tmp_path, "report", "empty")
    assert done.returncode == 4 and "no Allure results in empty" in done.stderr
    assert not (tmp_path / "sca-report").exists()


def shard(tmp_path: Path, name: str, requirement: str) -> Path:
    """One shard of a run: the suite on one requirement's tests, its results and verdict."""
    results = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
         "--requirement", requirement, f"--alluredir={results}",
         "--output", str(tmp_path / f"{name}-traces")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return results


@pytest.mark.slow
def test_report_rebuilds_from_two_shards_results_in_an_empty_folder(tmp_path: Path) -> None:
    shards = [shard(tmp_path, "shard-1", "AUTH-1"), shard(tmp_path, "shard-2", "TRIGGER-9")]
    untouched = [tree(folder) for folder in shards]
    empty = tmp_path / "empty"
    empty.mkdir()
    done = sca(empty, "report", *map(str, shards), "--output", "out")
    # The shards together are a part of the suite: merged, the rest is uncovered.
    assert done.returncode == 10, done.stdout + done.stderr
    assert done.stdout.startswith("INCOMPLETE: "), done.stdout
    out = empty / "out"
    for built in ("html/index.html", "single/index.html", "html/requirements.html",
                  "html/contract.html", "coverage-matrix.json", "coverage-matrix.md"):
        assert (out / built).is_file(), built
    merged = json.loads((out / "coverage-matrix.json").read_text(encoding="utf-8"))
    proved = {row["id"] for row in merged["requirements"] if row["verdict"] == "proved"}
    assert {"AUTH-1", "TRIGGER-9"} <= proved, proved
    results = {p.name for p in (out / "allure-results").iterdir()}
    for folder in shards:
        assert {p.name for p in folder.glob("*-result.json")} <= results
    banner = (out / "html" / "index.html").read_text(encoding="utf-8")
    assert "id='sca-verdict'" in banner and "INCOMPLETE" in banner
    assert [tree(folder) for folder in shards] == untouched  # the shards are read, not changed
    assert {p.name for p in empty.iterdir()} == {"out"}


@pytest.mark.slow
def test_a_run_replaces_its_own_earlier_results_and_builds_the_report(earlier: Path) -> None:
    done = sca(earlier, "run", "--", "--requirement", "AUTH-1", "-q")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "CONFORMANT: 1 of 1 selected MUST requirements proved." in done.stdout
    out = earlier / "sca-report"
    assert f"report: {(out / 'html' / 'index.html').resolve()}" in done.stdout
    results = out / "allure-results"
    assert (results / cli.MARKER).is_file() and (results / "coverage-matrix.json").is_file()
    assert not (results / "0001-result.json").exists()  # the earlier run's, replaced
    environment = (results / "environment.properties").read_text(encoding="ascii")
    assert f"sca-conformance={metadata.version('sca-conformance')}\n" in environment
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("allure-results")) == [
        "allure-results"]
