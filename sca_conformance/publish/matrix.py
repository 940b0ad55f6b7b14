"""The requirement matrix as files: Markdown (coverage-matrix.md, the job summary) and a page
of the report (requirements.html), written by the plugin at session end and by `merge`."""

from __future__ import annotations

import html

from sca_conformance.requirements import CONTRACT_URL
from sca_conformance.verdict import Matrix, Standing


def matrix_markdown(matrix: Matrix) -> str:
    lines = [f"**{matrix.sentence()}**", "",
             "| Requirement | Level | Verdict | Why | Tests |", "|---|---|---|---|---|"]
    for row in matrix.rows():
        tests = "<br>".join(f"`{nodeid}` {what}" for nodeid, what in row.tests.items())
        why = row.reason.replace("|", "\\|")[:200]
        lines.append(f"| {row.id} | {row.level} | {row.standing} | {why or '—'} | "
                     f"{tests or '—'} |")
    return "\n".join(lines) + "\n"


COLOURS = {Standing.PROVED: "#1a7f37", Standing.VIOLATED: "#cf222e",
           Standing.WARNING: "#9a6700", Standing.NOT_PROVED: "#bc4c00",
           Standing.KNOWN: "#8250df", Standing.STALE: "#cf222e"}


def matrix_html(matrix: Matrix) -> str:
    """The requirement matrix as a page of the report: per requirement its verdict, why,
    and its tests, each requirement linked to its row in the contract."""
    body = "".join(
        f"<tr><td><a href='{html.escape(row.requirement.anchor)}'>{row.id}</a></td>"
        f"<td>{row.level}</td><td style='color:{COLOURS.get(row.standing, '#6e7781')}'>"
        f"<b>{row.standing}</b></td><td>{html.escape(row.reason)}</td>"
        f"<td>{html.escape(row.requirement.text)}</td><td>"
        + "<br>".join(f"{html.escape(n)} — {html.escape(o)}" for n, o in row.tests.items())
        + "</td></tr>"
        for row in matrix.rows()
    )
    return (
        "<!doctype html><meta charset=utf-8><title>Requirement matrix</title>"
        "<style>body{font:14px/1.4 sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}</style>"
        f"<h1>{html.escape(matrix.sentence())}</h1><p><a href='index.html'>The report</a> · "
        f"<a href='{CONTRACT_URL}'>The contract</a></p><table><tr><th>ID</th><th>Level</th>"
        f"<th>Verdict</th><th>Why</th><th>Requirement</th><th>Tests</th></tr>{body}</table>"
    )


REQUIREMENTS_PAGE = "requirements.html"  # beside the results, then beside the report
