"""Command line: ``python -m sca_sandbox --port 0 --db sandbox.db [--fault NAME ...]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import CONSENT_TTL, DEV_API_KEYS, METHOD_TTL, REFRESH_TTL, TOKEN_TTL, faults, staging
from .dialects import DIALECTS, listing


def _simulations(value: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(names - set(staging.SIMULATIONS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown simulation {', '.join(unknown)} (valid: {', '.join(staging.SIMULATIONS)})")
    return names


def _word(value: str) -> str:
    if not re.fullmatch(r"[a-z_]{1,32}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a lower-case word")
    return value


def _minor_units(value: str) -> int:
    if not value.isdigit() or int(value) > 10**12:
        raise argparse.ArgumentTypeError(f"{value!r} is not an amount in minor units")
    return int(value)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sca_sandbox", description="SCA consent reference sandbox"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--db", type=Path, default=Path("sandbox.db"), help="SQLite file (created if missing)"
    )
    parser.add_argument(
        "--public-url",
        help="base of every URL handed out (default http://localhost:PORT);"
        " a port of 0 is replaced by the port actually bound",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        help="a client's API key (repeatable; default: the two development keys)",
    )
    parser.add_argument(
        "--token-ttl",
        type=int,
        default=TOKEN_TTL,
        metavar="SECONDS",
        help=f"access token lifetime (default {TOKEN_TTL})",
    )
    parser.add_argument(
        "--consent-ttl",
        type=int,
        default=CONSENT_TTL,
        metavar="SECONDS",
        help=f"a new consent's lifetime, its expires_at (default {CONSENT_TTL})",
    )
    parser.add_argument(
        "--method-ttl",
        type=int,
        default=METHOD_TTL,
        metavar="SECONDS",
        help=f"a method's lifetime, never past its consent's expires_at (default {METHOD_TTL})",
    )
    parser.add_argument(
        "--refresh-ttl",
        type=int,
        default=REFRESH_TTL,
        metavar="SECONDS",
        help="refresh token lifetime on the login session's clock"
        f" (default {REFRESH_TTL}: never expires)",
    )
    parser.add_argument(
        "--login-rate-limit",
        type=int,
        default=0,
        metavar="N",
        help="logins a minute per API key; the next answers 429 with Retry-After (default 0: "
        "no limit)",
    )
    parser.add_argument(
        "--request-rate-limit",
        type=int,
        default=0,
        metavar="N",
        help="requests a second per client; the next answers 429 with Retry-After (default 0: "
        "no limit)",
    )
    # A target that throttles without a pattern (sca_sandbox/limits.py, Throttle).
    parser.add_argument(
        "--throttle-every",
        type=int,
        default=0,
        metavar="N",
        help="every Nth API request of a caller answers 429 with Retry-After, whatever it"
        " asks (N at least 2; default 0: never)",
    )
    parser.add_argument(
        "--throttle-retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        help="the Retry-After of --throttle-every's 429 (default 1; 0: retry at once)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        dest="faults",
        metavar="NAME",
        help="inject a fault (repeatable; see --list-faults)",
    )
    parser.add_argument("--list-faults", action="store_true", help="print the faults and exit")
    parser.add_argument("--tls-cert", type=Path, metavar="PEM",
                        help="serve https with this certificate (chain), as a staging host does")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's key")
    parser.add_argument(
        "--return-url-allow",
        action="append",
        default=[],
        metavar="PREFIX",
        help="accept only return_urls registered in advance: https ones starting with PREFIX"
        " (repeatable); others are answered 400",
    )
    parser.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default="default",
        help=f"how the sandbox presents the contract ({listing()})",
    )
    # The staging personality's data side (sca_sandbox/staging.py).
    parser.add_argument(
        "--no-simulations",
        type=_simulations,
        default=frozenset(),
        metavar="NAMES",
        help=f"simulations that answer 404, as on the provider's staging (comma-separated: "
        f"{','.join(staging.SIMULATIONS)})",
    )
    parser.add_argument(
        "--individual-word",
        type=_word,
        default="active",
        metavar="WORD",
        help="the API's status word for an onboarded individual (the provider's: activated)",
    )
    parser.add_argument(
        "--blocked-error-envelope",
        action="store_true",
        help='a request for an individual who is not active answers 422 {"error": {"code":'
        ' "request_blocked", "message"}} instead of 409 with an error list',
    )
    parser.add_argument(
        "--sms-code-on-page",
        action="store_true",
        help="the hosted SMS step shows the code it sent (as the provider's staging does)",
    )
    parser.add_argument(
        "--opening-balance",
        type=_minor_units,
        default=0,
        metavar="MINOR_UNITS",
        help="what a new account opens with (default 0: money through the funding simulation)",
    )
    # The staging personality's pages (default dialect): as integrators have seen them.
    parser.add_argument(
        "--passcode-boxes",
        action="store_true",
        help="the passcode step shows one labelled box per digit (typing moves on)",
    )
    parser.add_argument(
        "--auto-submit",
        action="store_true",
        help="the passcode step has no Continue: it submits itself once the code is complete",
    )
    parser.add_argument(
        "--sms-step",
        action="append",
        default=[],
        dest="sms_steps",
        choices=staging.SMS_STEP_ACTIONS,
        metavar="ACTION",
        help="after identification, ACTION's flow asks for a code sent by SMS ('Confirm with"
        f" SMS code'; repeatable: {', '.join(staging.SMS_STEP_ACTIONS)})",
    )
    return parser.parse_args(argv)


def _public_url(given: str | None, port: int, scheme: str = "http") -> str:
    if not given:
        return f"{scheme}://localhost:{port}"
    parts = urlsplit(given.rstrip("/"))
    if parts.port == 0:
        host = parts.hostname or "localhost"
        parts = parts._replace(netloc=f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return urlunsplit(parts)


def _staging_problem(args: argparse.Namespace) -> str | None:
    if bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert and --tls-key go together"
    if any(not prefix.startswith("https://") for prefix in args.return_url_allow):
        return "--return-url-allow takes https prefixes"
    if args.public_url and urlsplit(args.public_url).scheme not in ("http", "https"):
        return "--public-url must be an http(s) URL"
    if args.throttle_every == 1 or args.throttle_every < 0:
        return "--throttle-every must be 0 (never) or at least 2"
    pages = [option for option, given in (("--passcode-boxes", args.passcode_boxes),
                                          ("--auto-submit", args.auto_submit),
                                          ("--sms-step", args.sms_steps)) if given]
    if pages and args.dialect != "default":
        return f"{', '.join(pages)}: the default dialect's pages only"
    return None


def _throttled(app: Any, args: argparse.Namespace) -> Any:
    """The application behind --throttle-every's 429s, if asked."""
    from .limits import Throttle

    if not args.throttle_every:
        return app
    return Throttle(app, every=args.throttle_every, retry_after=args.throttle_retry_after)


def _configure(args: argparse.Namespace) -> bool:
    """The faults and the staging personality, for the whole process; False: unknown fault."""
    try:
        faults.configure(args.faults)
    except KeyError as unknown:
        print(f"sca-sandbox: unknown fault {unknown} (see --list-faults)", file=sys.stderr)
        return False
    staging.configure(staging.Personality(
        simulations_off=args.no_simulations, individual_word=args.individual_word,
        blocked_error_envelope=args.blocked_error_envelope,
        sms_code_on_page=args.sms_code_on_page, opening_balance=args.opening_balance,
        passcode_boxes=args.passcode_boxes, auto_submit=args.auto_submit,
        sms_steps=frozenset(args.sms_steps),
    ))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_faults:
        print(faults.listing())
        return 0
    if not _configure(args):
        return 2
    if problem := _staging_problem(args):
        print(f"sca-sandbox: {problem}", file=sys.stderr)
        return 2
    for option, value, least in (
        ("--token-ttl", args.token_ttl, 1),
        ("--consent-ttl", args.consent_ttl, 1),
        ("--method-ttl", args.method_ttl, 1),
        ("--refresh-ttl", args.refresh_ttl, 0),
        ("--login-rate-limit", args.login_rate_limit, 0),
        ("--request-rate-limit", args.request_rate_limit, 0),
        ("--throttle-retry-after", args.throttle_retry_after, 0),
    ):
        if value < least:
            unit = "" if option.endswith("-limit") else (" second" if least == 1 else " seconds")
            print(f"sca-sandbox: {option} must be at least {least}{unit}", file=sys.stderr)
            return 2

    # Imported late so that --list-faults stays fast.
    import uvicorn

    from .app import create_app
    from .context import Sandbox, Settings

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        print(f"sca-sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    sock.listen(2048)
    port = sock.getsockname()[1]
    public_url = _public_url(args.public_url, port, "https" if args.tls_cert else "http")
    settings = Settings(
        db_path=args.db,
        public_url=public_url,
        api_keys=tuple(args.api_keys) or DEV_API_KEYS,
        token_ttl=args.token_ttl,
        consent_ttl=args.consent_ttl,
        method_ttl=args.method_ttl,
        refresh_ttl=args.refresh_ttl,
        faults=tuple(faults.active_names()),
        host=args.host,
        port=port,
        dialect=args.dialect,
        return_url_allow=tuple(args.return_url_allow),
        login_rate_limit=args.login_rate_limit,
        request_rate_limit=args.request_rate_limit,
    )
    sandbox = Sandbox.open(settings)
    config = uvicorn.Config(
        _throttled(create_app(sandbox), args),
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
    )
    server = uvicorn.Server(config)
    ready = (
        f"sca-sandbox ready on {'https' if args.tls_cert else 'http'}://{args.host}:{port} "
        f"(public URL {public_url}, db {args.db}, faults: {','.join(settings.faults) or 'none'}"
        + (f", dialect {args.dialect})" if args.dialect != "default" else ")")
    )

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(ready, flush=True)
        await task

    # uvicorn re-raises the signal it caught once it has shut down; a no-op handler
    # keeps that from killing us before the database is closed.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        loop_factory = None
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve())
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
