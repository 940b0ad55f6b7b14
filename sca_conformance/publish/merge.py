"""The verdict of several runs that together made up one run (the nightly's shards), from
their coverage-matrix.json: printed as one sentence, written as the merged matrix files and
into the results folder of the merged report.

python -m sca_conformance.publish.merge FILE... [--json OUT] [--markdown OUT] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sca_conformance.publish import allure_meta
from sca_conformance.publish.matrix import matrix_html, matrix_markdown
from sca_conformance.verdict import Matrix


def main(argv: list[str] | None = None) -> int:
    """python -m sca_conformance.publish.merge FILE... [--markdown OUT]: the verdict of several
    runs' coverage-matrix.json (the nightly's shards), printed as one sentence; the exit
    code is the verdict's."""
    parser = argparse.ArgumentParser(prog="python -m sca_conformance.publish.merge",
                                     description=main.__doc__)
    parser.add_argument("summaries", nargs="+", type=Path, help="coverage-matrix.json files")
    parser.add_argument("--json", type=Path, help="write the merged coverage-matrix.json here")
    parser.add_argument("--markdown", type=Path, help="write the merged matrix (Markdown) here")
    parser.add_argument("--results", type=Path, help="an Allure results folder: write the "
                        "merged verdict into it (coverage-matrix.json, requirements.html, "
                        "the environment's Verdict), for the report")
    args = parser.parse_args(argv)
    found = [path for path in args.summaries if path.is_file()]
    matrix = Matrix.merge(json.loads(path.read_text(encoding="utf-8")) for path in found)
    if not found:
        matrix.unusable = "no run left a verdict (no coverage-matrix.json): the suite did not run"
    if args.json:
        args.json.write_text(json.dumps(matrix.as_json(), indent=2), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(matrix_markdown(matrix), encoding="utf-8")
    if args.results:
        args.results.mkdir(parents=True, exist_ok=True)
        (args.results / "coverage-matrix.json").write_text(json.dumps(matrix.as_json(), indent=2),
                                                          encoding="utf-8")
        (args.results / "requirements.html").write_text(matrix_html(matrix), encoding="utf-8")
        allure_meta.set_property(args.results, "Verdict", matrix.sentence())
        allure_meta.write_categories(args.results)
        allure_meta.mark_warnings(args.results)
    print(matrix.sentence())
    return matrix.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
