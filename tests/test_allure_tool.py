"""The Allure 2 generator: found in its order (explicit, SCA_ALLURE, PATH, the user's cache),
installed into the cache with npm ci from the package's own lock, Java checked first, and
each problem said in one sentence. Fake executables in tmp folders; no network, except the
one slow test that runs a real npm ci."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sca_conformance.publish import allure_tool
from sca_conformance.publish import builder as report_builder
from sca_conformance.publish.allure_tool import (
    ToolMissing,
    allure_version,
    cached_allure,
    find_allure,
    install_allure,
    java_problem,
    tools_folder,
)

REAL_PATH = os.environ.get("PATH", "")


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and not re.search(r"[.!?:]\s+[A-Z]",
                                                                           message)


def executable(path: Path, body: str = "") -> Path:
    """A Python script standing in for a tool: it records how it was called in calls.jsonl
    beside it, then runs `body` (with `argv`, `Path` and `os` at hand)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\nfrom pathlib import Path\nargv = sys.argv[1:]\n"
        f"with open({str(path.parent / 'calls.jsonl')!r}, 'a') as log:\n"
        "    log.write(json.dumps({'argv': argv, 'cwd': os.getcwd(),\n"
        "        'analytics': os.environ.get('ALLURE_NO_ANALYTICS')}) + '\\n')\n"
        f"{body}\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def calls(folder: Path) -> list[dict[str, object]]:
    log = folder / "calls.jsonl"
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH is this folder only; HOME and every variable the lookup reads point into tmp."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("SCA_ALLURE", "SCA_CACHE_DIR", "XDG_CACHE_HOME", "JAVA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return folder


FAKE_NPM_CI = """
bin = Path('node_modules/.bin')
bin.mkdir(parents=True, exist_ok=True)
(bin / 'allure').write_text('#!/bin/sh\\necho 2.0\\n')
(bin / 'allure').chmod(0o755)
"""


def test_an_explicit_path_comes_first(bin_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = executable(tmp_path / "explicit" / "allure")
    from_env = executable(tmp_path / "env" / "allure")
    executable(bin_dir / "allure")
    monkeypatch.setenv("SCA_ALLURE", str(from_env))
    assert find_allure(str(explicit)) == [str(explicit)]


def test_then_sca_allure_then_path_then_the_cache(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SCA_CACHE_DIR", str(cache))
    cached = executable(cached_allure(cache))
    on_path = executable(bin_dir / "allure")
    from_env = executable(tmp_path / "env" / "allure-2")
    monkeypatch.setenv("SCA_ALLURE", str(from_env))
    assert find_allure() == [str(from_env)]
    monkeypatch.delenv("SCA_ALLURE")
    assert find_allure() == [str(on_path)]
    on_path.unlink()
    assert find_allure() == [str(cached)]
    assert cached == tools_folder(cache) / "node_modules" / ".bin" / "allure"


def test_the_cache_is_under_xdg_cache_home_else_home(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tail = Path("sca-conformance") / tools_folder(Path()).name / "node_modules" / ".bin"
    home_cached = executable(tmp_path / "home" / ".cache" / tail / "allure")
    assert find_allure() == [str(home_cached)]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cached_allure() == tmp_path / "xdg" / tail / "allure"
    with pytest.raises(ToolMissing):  # only where XDG_CACHE_HOME says
        find_allure()
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "mine"))
    assert cached_allure() == tmp_path / "mine" / tools_folder(Path()).name / (
        "node_modules/.bin/allure")


def test_a_bare_name_is_looked_up_on_path(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = executable(bin_dir / "allure-2.46")
    monkeypatch.setenv("SCA_ALLURE", "allure-2.46")
    assert find_allure() == [str(named)]


@pytest.mark.parametrize("where", ["explicit", "SCA_ALLURE"])
def test_a_named_generator_that_is_not_there_is_said_in_one_sentence(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    executable(bin_dir / "allure")  # not taken instead of what was asked for
    wrong = tmp_path / "nowhere" / "allure"
    if where == "SCA_ALLURE":
        monkeypatch.setenv("SCA_ALLURE", str(wrong))
    with pytest.raises(ToolMissing) as missing:
        find_allure(str(wrong) if where == "explicit" else None)
    message = str(missing.value)
    assert one_sentence(message), message
    assert str(wrong) in message and "not an executable file" in message


def test_a_missing_generator_names_every_way_to_get_it(bin_dir: Path) -> None:
    with pytest.raises(ToolMissing) as missing:
        find_allure()
    message = str(missing.value)
    assert one_sentence(message), message
    assert "`sca-conformance setup`" in message
    assert "SCA_ALLURE" in message and "PATH" in message
    assert str(tools_folder()) in message


def test_install_runs_npm_ci_with_the_shipped_lock_into_the_cache(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable(bin_dir / "npm", FAKE_NPM_CI)
    cache = tmp_path / "cache"
    installed = install_allure(cache)
    folder = tools_folder(cache)
    assert installed == folder / "node_modules" / ".bin" / "allure"
    (call,) = calls(bin_dir)
    assert call["argv"] == ["ci", "--no-audit", "--no-fund"]
    assert call["cwd"] == str(folder)
    for name in ("package.json", "package-lock.json"):
        assert (folder / name).read_bytes() == (allure_tool.TOOLS / name).read_bytes()
    # Done: a second install does not run npm; the lookup finds it in the same cache.
    assert install_allure(cache) == installed
    assert len(calls(bin_dir)) == 1
    monkeypatch.setenv("SCA_CACHE_DIR", str(cache))
    assert find_allure() == [str(installed)]
    assert install_allure() == installed and len(calls(bin_dir)) == 1


def test_install_runs_again_when_the_shipped_lock_changed(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable(bin_dir / "npm", FAKE_NPM_CI)
    cache = tmp_path / "cache"
    install_allure(cache)
    shipped = tmp_path / "shipped"
    shutil.copytree(allure_tool.TOOLS, shipped)
    lock = json.loads((shipped / "package-lock.json").read_text(encoding="utf-8"))
    lock["packages"][f"node_modules/{allure_tool.PACKAGE}"]["integrity"] = "sha512-other"
    (shipped / "package-lock.json").write_text(json.dumps(lock), encoding="utf-8")
    monkeypatch.setattr(allure_tool, "TOOLS", shipped)
    install_allure(cache)
    assert len(calls(bin_dir)) == 2
    installed_lock = tools_folder(cache) / "package-lock.json"
    assert installed_lock.read_bytes() == (shipped / "package-lock.json").read_bytes()


def test_install_without_npm_says_so_in_one_sentence(bin_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolMissing) as missing:
        install_allure(tmp_path / "cache")
    message = str(missing.value)
    assert one_sentence(message), message
    assert "npm" in message and "SCA_ALLURE" in message


def test_a_failed_npm_ci_is_reported_and_not_taken_as_done(bin_dir: Path, tmp_path: Path) -> None:
    npm = executable(bin_dir / "npm", FAKE_NPM_CI + "print('npm ERR! network down', "
                     "file=sys.stderr)\nsys.exit(1)")
    cache = tmp_path / "cache"
    with pytest.raises(ToolMissing) as failed:
        install_allure(cache)
    message = str(failed.value)
    assert "exit 1" in message and "npm ERR! network down" in message and "\n" not in message
    npm.write_text(npm.read_text(encoding="utf-8").replace("sys.exit(1)", ""), encoding="utf-8")
    install_allure(cache)  # the executable was there, the install was not done: npm again
    assert len(calls(bin_dir)) == 2


def test_java_is_found_on_path_or_in_java_home(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = java_problem()
    assert problem is not None and one_sentence(problem), problem
    assert "java" in problem and "JAVA_HOME" in problem
    java = executable(bin_dir / "java")
    assert java_problem() is None
    # The launcher takes JAVA_HOME over PATH, so a JAVA_HOME without bin/java is a problem.
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    problem = java_problem()
    assert problem is not None and one_sentence(problem), problem
    assert str(tmp_path / "jdk") in problem
    java.unlink()
    executable(tmp_path / "jdk" / "bin" / "java")
    assert java_problem() is None


def test_the_module_installs_and_tells_where(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    assert allure_tool.main(["where"]) == 1
    assert "`sca-conformance setup`" in capsys.readouterr().err
    executable(bin_dir / "npm", FAKE_NPM_CI)
    assert allure_tool.main(["install"]) == 0
    assert capsys.readouterr().out.strip() == str(cached_allure())
    assert allure_tool.main(["where"]) == 0
    assert capsys.readouterr().out.strip() == str(cached_allure())
    assert allure_tool.main(["uninstall"]) == 2


def test_the_report_checks_java_before_running_the_generator(
    bin_dir: Path, tmp_path: Path
) -> None:
    allure = executable(tmp_path / "tool" / "allure")
    with pytest.raises(report_builder.BuildError) as failed:
        report_builder.generate(tmp_path / "results", tmp_path / "out", allure=str(allure))
    assert str(failed.value) == java_problem()
    assert calls(allure.parent) == []


def test_the_report_runs_the_generator_it_finds(bin_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    executable(bin_dir / "java")
    with pytest.raises(report_builder.BuildError) as failed:
        report_builder.generate(tmp_path / "results", tmp_path / "out")
    assert "`sca-conformance setup`" in str(failed.value)
    writes_index = "out = Path(argv[argv.index('-o') + 1]); out.mkdir(parents=True)\n" \
                   "(out / 'index.html').write_text('<html></html>')"
    allure = executable(tmp_path / "tool" / "allure", writes_index)
    monkeypatch.setenv("SCA_ALLURE", str(allure))
    report_builder.generate(tmp_path / "results", tmp_path / "single", single_file=True)
    (call,) = calls(allure.parent)
    assert call["argv"] == ["generate", "--single-file", "--clean", "--name",
                            report_builder.REPORT_NAME, "-o", str(tmp_path / "single"),
                            str(tmp_path / "results")]
    assert call["analytics"] == "true"


@pytest.mark.slow
def test_a_real_npm_ci_installs_the_shipped_generator(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: run `make setup`")
    installed = install_allure(tmp_path / "cache")
    assert os.access(installed, os.X_OK)
    assert java_problem() is None, java_problem()
    done = subprocess.run([str(installed), "--version"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.strip() == allure_version(), done.stdout + done.stderr
