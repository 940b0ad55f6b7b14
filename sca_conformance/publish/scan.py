"""Find secrets left in what a run wrote: reports, attachments, Playwright traces (zips, nested).

    python -m sca_conformance.publish.scan FOLDER [--literal VALUE ...] [--literal-env NAME ...]

Looks for the given literal values, JWTs and Luhn-valid card numbers in every file, in
every zip member, and in the text hidden in JSON escapes, UTF-16 and base64 (single-file
reports keep everything in base64). Exit 1 with the findings, masked.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from sca_conformance.redact import luhn_valid

MIN_LITERAL = 4
MAX_DEPTH = 6
MAX_MEMBER_BYTES = 512 * 1024 * 1024

JWT = re.compile(
    rb"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\."
    rb"(?:eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
# Issuer digit 2-6 keeps epoch timestamps (1…) out; letters, dots and dashes around a run
# mean a hex id, a fractional second or a UUID part, not a card number.
_EDGE_BEFORE = rb"(?<![A-Za-z0-9_.-])"
_EDGE_AFTER = rb"(?![A-Za-z0-9_]|[.-]\d)"
PAN_CONTIGUOUS = re.compile(_EDGE_BEFORE + rb"([2-6](?:\d{14}|\d{15}|\d{18}))" + _EDGE_AFTER)
PAN_GROUPED = re.compile(
    _EDGE_BEFORE + rb"([2-6]\d{3}([ -])\d{4}\2\d{4}\2\d{4})" + rb"(?![A-Za-z0-9_]|[ .-]\d)"
)
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{24,}={0,2}")
_JSON_ESCAPE = re.compile(rb'\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt])')


@dataclass(frozen=True)
class Finding:
    path: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.excerpt}"


def mask(secret: str) -> str:
    if secret.replace(" ", "").replace("-", "").isdigit():
        digits = re.sub(r"\D", "", secret)
        return f"{'*' * (len(digits) - 4)}{digits[-4:]} ({len(digits)} digits)"
    return f"{secret[:3]}{'*' * 6} ({len(secret)} chars)"


@dataclass(frozen=True)
class _Literal:
    value: str
    patterns: tuple[re.Pattern[bytes], ...]


def _literal(value: str) -> _Literal:
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        html.escape(value),
    }
    encoded = {form.encode("utf-8") for form in forms} | {value.encode("utf-16-le")}
    # A short numeric secret (PIN, passcode) counts only standing alone, not inside a number.
    before, after = (rb"(?<!\d)", rb"(?!\d)") if value.isdigit() else (b"", b"")
    return _Literal(
        value, tuple(re.compile(before + re.escape(form) + after) for form in sorted(encoded))
    )


def _variants(data: bytes) -> Iterator[tuple[str, bytes]]:
    yield "", data
    if b"\\" in data:
        unescaped = _JSON_ESCAPE.sub(_unescape, data)
        if unescaped != data:
            yield "json-escaped", _join_surrogates(unescaped)
    if len(data) >= 8 and data.count(b"\x00") > len(data) // 4:
        for codec in ("utf-16-le", "utf-16-be"):
            yield codec, data.decode(codec, errors="ignore").encode("utf-8", errors="ignore")


_SIMPLE_ESCAPES = {
    b'"': b'"',
    b"\\": b"\\",
    b"/": b"/",
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
}


def _unescape(match: re.Match[bytes]) -> bytes:
    escape = match.group(0)
    if escape[1:2] == b"u":
        return chr(int(escape[2:].decode("ascii"), base=16)).encode("utf-8", errors="surrogatepass")
    return _SIMPLE_ESCAPES[escape[1:2]]


def _join_surrogates(data: bytes) -> bytes:
    try:
        text = data.decode("utf-8", errors="surrogatepass")
        return text.encode("utf-16", errors="surrogatepass").decode("utf-16").encode("utf-8")
    except UnicodeError:
        return data


def _base64_payloads(data: bytes) -> Iterator[bytes]:
    for match in _BASE64_RUN.finditer(data):
        run = match.group(0).rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        if len(run) % 4 == 1:
            run = run[:-1]
        try:
            yield base64.b64decode(run + b"=" * (-len(run) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue


def _is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


class _Scanner:
    def __init__(self, literals: Iterable[str]) -> None:
        values = {value for value in literals if value and len(value) >= MIN_LITERAL}
        self.literals = [_literal(value) for value in sorted(values, key=len, reverse=True)]
        self.findings: dict[tuple[str, str, str], Finding] = {}

    def add(self, path: str, kind: str, secret: str, how: str) -> None:
        excerpt = mask(secret) + (f" [{how}]" if how else "")
        key = (path, kind, mask(secret))
        self.findings.setdefault(key, Finding(path, kind, excerpt))

    def blob(self, path: str, data: bytes, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            return
        if _is_zip(data) and self.archive(path, data, depth):
            return
        for how, variant in _variants(data):
            self.text(path, variant, how)
        if depth < 2:
            for payload in _base64_payloads(data):
                if _is_zip(payload):
                    self.archive(f"{path}!base64", payload, depth + 1)
                else:
                    for how, variant in _variants(payload):
                        self.text(path, variant, "base64" + (f"+{how}" if how else ""))

    def archive(self, path: str, data: bytes, depth: int) -> bool:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.infolist():
                    if member.is_dir() or member.file_size > MAX_MEMBER_BYTES:
                        continue
                    self.blob(f"{path}!{member.filename}", archive.read(member), depth + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            return False
        return True

    def text(self, path: str, data: bytes, how: str) -> None:
        for literal in self.literals:
            if any(pattern.search(data) for pattern in literal.patterns):
                self.add(path, "literal secret", literal.value, how)
        for match in JWT.finditer(data):
            self.add(path, "JWT", match.group(0).decode("ascii"), how)
        for pattern in (PAN_CONTIGUOUS, PAN_GROUPED):
            for match in pattern.finditer(data):
                number = match.group(1).decode("ascii")
                if luhn_valid(re.sub(r"\D", "", number)):
                    self.add(path, "card number", number, how)


def find_secrets(folder: Path, literals: Iterable[str]) -> list[Finding]:
    """Every secret-looking value under folder (files, zip members, encoded text), masked."""
    scanner = _Scanner(literals)
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        label = path.name if path == folder else path.relative_to(folder).as_posix()
        scanner.blob(label, path.read_bytes())
    return list(scanner.findings.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sca_conformance.publish.scan", description=__doc__.splitlines()[0]
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--literal", action="append", default=[], metavar="VALUE")
    parser.add_argument(
        "--literal-env",
        action="append",
        default=[],
        metavar="NAME",
        help="take a literal from this environment variable (keeps it off the command line)",
    )
    args = parser.parse_args(argv)
    if not args.folder.exists():
        print(f"scan: {args.folder} does not exist", file=sys.stderr)
        return 2
    literals = [*args.literal, *(os.environ.get(name, "") for name in args.literal_env)]
    findings = find_secrets(args.folder, literals)
    for finding in findings:
        print(finding)
    if findings:
        print(f"scan: {len(findings)} secret(s) found under {args.folder}", file=sys.stderr)
        return 1
    print(f"scan: no secrets found under {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
