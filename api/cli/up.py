"""``carbonledger up``: the service — chain, contracts, anchorer and API — and its demo.

  up                  start (or connect to) the chain, deploy or check the contracts,
                      migrate the store; then stop (a set-up check)
  up --serve          the same, then run the anchorer and the API on 127.0.0.1 until
                      SIGINT or SIGTERM (the full service, in the foreground)
  up --demo           start the service in the background (or reuse the one running on
                      the data directory), load the demo scenario (docs/DEMO.md), wait
                      until every record is anchored, export a bundle through the API,
                      file the verification body's attestation, print the `carbon-verify`
                      command that checks it, and exit; the service keeps running so the
                      command works when pasted: `carbonledger down` stops it
  up --demo --serve   the demo in the foreground service, serving until SIGINT/SIGTERM
  down                stop the background service of the data directory (and its chain)

The dev chain is started on 127.0.0.1 with its state in the data directory; on a later
start the same chain, deployment and store are reused, and the demo records (idempotent by
id) are not submitted twice.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anchoring.anchorer import AnchorerLimits
from anchoring.deployment import deployment_path, ensure_deployment
from anchoring.fees import FeePolicy
from api.cli.anchor import GWEI, add_batch_options, add_kubo_option, kubo_url
from api.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    add_chain_options,
    add_merge_delay_option,
    add_store_option,
    admin_delay_s,
    check_npm_install,
    client_tls_context,
    compile_artifacts,
    configure_service_logging,
    configured_chain,
    configured_signer,
    print_rows,
    project_root,
    record_dir,
    role_assignment,
)
from api.cli.deploy import deployment_rows
from api.cli.runner import (
    SERVICE_FILE,
    Runner,
    RunnerOptions,
    ServiceState,
    is_alive,
    read_service_state,
    reload_on_sighup,
    stop_on_signals,
)
from api.cli.serve import add_workers_option
from api.settings import CarbonLedgerSettings
from ledger.core.errors import AnchoringError, MalformedError, UnavailableError
from ledger.store import Store, sqlite_url

if TYPE_CHECKING:
    from api.cli.demo_efficiency import EfficiencyDemo

log = logging.getLogger("carbonledger.up")

DEFAULT_API_PORT = 8080
SERVICE_LOG = "service.log"
BACKGROUND_START_TIMEOUT_S = 180.0
#: The demo seals a batch as soon as its records have waited this long.
DEMO_BATCH_AGE_S = 1.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the service (chain, contracts, anchorer, API); --demo loads the demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    parser.add_argument("--demo", action="store_true", help="load the demo (what `make run` runs)")
    parser.add_argument(
        "--serve", action="store_true", help="serve in the foreground until SIGINT/SIGTERM"
    )
    parser.add_argument(
        "--api-port",
        type=int,
        help=f"API port on 127.0.0.1 (default {DEFAULT_API_PORT}; 0 picks a free one)",
    )
    add_store_option(parser)
    add_batch_options(parser)
    add_merge_delay_option(parser)
    add_workers_option(parser)
    parser.add_argument(
        "--demo-timeout-s", type=float, default=300.0, help="how long the demo waits for anchors"
    )
    add_kubo_option(parser)
    parser.set_defaults(run=run)
    down = subparsers.add_parser(
        "down",
        help="stop the background service started by `up --demo`",
        description="Stop the service running on the data directory (SIGTERM by PID; the "
        "service stops its API, its anchorer and its dev chain, which writes its state).",
    )
    down.add_argument("--timeout-s", type=float, default=60.0, help="how long to wait")
    down.set_defaults(run=run_down)


def _store_url(args: argparse.Namespace, settings: CarbonLedgerSettings) -> str:
    return str(settings.store_url or sqlite_url(settings.data_dir.resolve()))


def _batch_age_s(args: argparse.Namespace, settings: CarbonLedgerSettings) -> float:
    """The demo seals sooner, unless the operator chose an age (flag or environment)."""
    if "batch_max_age_s" in settings.model_fields_set or not args.demo:
        return settings.batch_max_age_s
    return DEMO_BATCH_AGE_S


def _options(args: argparse.Namespace, settings: CarbonLedgerSettings) -> RunnerOptions:
    return RunnerOptions(
        api_port=DEFAULT_API_PORT if args.api_port is None else args.api_port,
        store_url=_store_url(args, settings),
        max_merge_delay_s=settings.max_merge_delay_s,
        max_body_bytes=settings.max_body_bytes,
        anchorer=AnchorerLimits(
            batch_max_records=settings.batch_max_records,
            batch_max_age_s=_batch_age_s(args, settings),
            confirmations=settings.confirmations,
            poll_interval_s=settings.poll_interval_s,
        ),
        fees=FeePolicy(
            max_fee_per_gas_cap_wei=settings.max_fee_gwei * GWEI,
            stall_timeout_s=settings.stall_timeout_s,
        ),
        kubo_url=kubo_url(args, settings),
        workers=settings.workers,
    )


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    root = project_root(settings)
    anvil = check_npm_install(root, settings)
    artifacts = compile_artifacts(root)
    if args.demo and settings.chain == "memory":
        raise MalformedError(
            "the demo needs a chain the verifier can reach: use the dev chain or --rpc",
            path="--chain",
        )
    if args.serve:
        return _serve(args, settings, anvil, artifacts)
    if args.demo:
        state = read_service_state(settings.data_dir.resolve())
        if state is not None:
            _say(f"reusing the service already running (pid {state.pid}, {state.api_url})")
            _demo(args, settings, state, artifacts, background=True)
            return EXIT_OK
        state = _start_background(args, settings)
        try:
            _demo(args, settings, state, artifacts, background=True)
        except BaseException:
            # Nothing is left running behind a failed demo: the service we started goes.
            _say(f"stopping the service this run started (pid {state.pid})")
            _terminate(state.pid, timeout_s=60.0)
            raise
        return EXIT_OK
    return _set_up(args, settings, anvil, artifacts)


def _say(message: str) -> None:
    print(f"carbonledger: {message}", file=sys.stderr, flush=True)


def _set_up(
    args: argparse.Namespace, settings: CarbonLedgerSettings, anvil: Path, artifacts: Any
) -> int:
    running = read_service_state(settings.data_dir.resolve())
    if running is not None:
        _say(f"the service is running (pid {running.pid}, API {running.api_url})")
        _print_state(args, running)
        return EXIT_OK
    with configured_chain(settings, anvil_path=anvil) as chain:
        directory = record_dir(settings)
        record, created = ensure_deployment(
            chain,
            artifacts,
            data_dir=directory,
            admin_delay_s=admin_delay_s(settings),
            roles=role_assignment(settings),
        )
        if directory is not None:
            Store.open(_store_url(args, settings)).close()  # created and migrated
        if args.json:
            report = {
                "format": "carbonledger-cli-up/2",
                "chain": {"kind": chain.kind, "chain_id": chain.chain_id, "rpc_url": chain.rpc_url},
                "deployment_created": created,
                "deployment": record.to_json(),
            }
            print(json.dumps(report, indent=2, sort_keys=True), flush=True)
        else:
            where = str(deployment_path(directory)) if directory else "memory chain: not recorded"
            rows: list[tuple[str, Any]] = [("chain", f"{chain.kind} {chain.rpc_url or ''}".strip())]
            rows += deployment_rows(record, created=created, where=where)
            print_rows(rows)
    return EXIT_OK


def _print_state(args: argparse.Namespace, state: ServiceState) -> None:
    if args.json:
        print(json.dumps(state.to_json(), indent=2, sort_keys=True), flush=True)
        return
    print_rows(
        [
            ("api", f"{state.api_url}/v1"),
            ("chain", f"{state.chain_kind} {state.rpc_url or ''} (chain id {state.chain_id})"),
            ("AnchorRegistry", state.anchor_registry),
            ("TrustRegistry", state.trust_registry),
            ("pid", state.pid),
        ]
    )
    sys.stdout.flush()


def _serve(
    args: argparse.Namespace, settings: CarbonLedgerSettings, anvil: Path, artifacts: Any
) -> int:
    configure_service_logging(args, settings)
    runner = Runner(settings, _options(args, settings), anvil_path=anvil, artifacts=artifacts)
    with stop_on_signals() as stop, reload_on_sighup() as reload:
        try:
            state = runner.start()
            _print_state(args, state)
            log.warning("serving the API on %s; SIGINT or SIGTERM stops", state.api_url)
            if args.demo:
                _demo(args, settings, state, artifacts, background=False)
            runner.wait(stop, reload)
        finally:
            runner.stop()
    if runner.failure is not None:
        raise AnchoringError(runner.failure)
    return EXIT_OK


def _demo(
    args: argparse.Namespace,
    settings: CarbonLedgerSettings,
    state: ServiceState,
    artifacts: Any,
    *,
    background: bool,
) -> None:
    from api.cli.demo import run_demo, verify_command

    data_dir = settings.data_dir.resolve()
    result = run_demo(
        state,
        data_dir=data_dir,
        store_url=_store_url(args, settings),
        artifacts=artifacts,
        signer=configured_signer(settings),
        timeout_s=args.demo_timeout_s,
        verify=client_tls_context(settings, trust_served=True),
    )
    command = verify_command(
        _shown_path(result.bundle_path),
        _shown_path(result.trust_root_path),
        program=_console_script("carbon-verify"),
    )
    rows: list[tuple[str, Any]] = [
        ("records", f"{len(result.record_ids)} anchored in batch(es) "
                    f"{', '.join(str(s) for s in result.batches)}"),
        ("bundle", _shown_path(result.bundle_path)),
        ("trust root", _shown_path(result.trust_root_path)),
        ("attestation", f"report {result.report_digest_hex}"
                        + (f", {result.attestations_filed} filed now"
                           if result.attestations_filed else ", filed earlier")),
        ("documents", _shown_path(result.documents_dir)),
        ("reused", "; ".join(result.reused) if result.reused else "nothing: a first run"),
        ("pages", f"{state.api_url}/"),
        ("regulator key", f"{result.regulator_key} (sign in on the pages)"),
    ]  # fmt: skip
    print_rows(rows)
    if result.efficiency is not None:
        _print_efficiency(result.efficiency)
    down = [_console_script("carbonledger"), "down", "--data-dir", str(_shown_path(data_dir))]
    if background:
        print(f"\nThe service keeps running (API {state.api_url}/v1). Stop it with:\n")
        print("  " + shlex.join(down))
    else:
        print(f"\nServing (API {state.api_url}/v1) until Ctrl-C.")
    # Last, what the reader pastes: the verifier against the chain.
    print("\nVerify the bundle against the chain (exit 0 = every check passed):\n")
    print("  " + shlex.join(command))
    sys.stdout.flush()


def _print_efficiency(eff: EfficiencyDemo) -> None:
    """The carbon-efficiency part of the demo: what the maker's code opens, and the files."""
    print_rows([
        ("efficiency", f"grade {eff.grade}, level {eff.level}, from {eff.readings} "
                       "terminal-signed hourly readings"),
        ("report", ", ".join(str(_shown_path(p)) for p in eff.report_paths)),
        ("code", _shown_path(eff.code_path)),
        ("evaluation bundle", _shown_path(eff.bundle_path)),
    ])  # fmt: skip
    print("\nThe maker's carbon-efficiency code opens (Chinese and English):\n")
    print("  " + eff.page_url)


def _shown_path(path: Path) -> Path:
    """A path as the reader should paste it: relative to the current directory if inside."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path.resolve()


def _console_script(name: str) -> str:
    """``name`` when PATH finds this installation's script, else the script's path next to
    this Python (``.venv/bin/...`` after ``make run``), so the printed command runs as is."""
    found = shutil.which(name)
    local = Path(sys.executable).parent / name
    if found is not None and (not local.exists() or Path(found).resolve() == local.resolve()):
        return name
    if local.exists():
        return str(_shown_path(local))
    return name


# -- the background service ----------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _forwarded(args: argparse.Namespace, settings: CarbonLedgerSettings) -> list[str]:
    """The options of ``up`` the background service needs (the environment is inherited)."""
    out = ["--data-dir", str(settings.data_dir.resolve())]
    given = {name: getattr(args, name, None) for name in (
        "chain", "rpc", "chain_id", "port", "keystore", "password_file", "project_root",
        "store_url", "batch_size", "max_merge_delay_s", "kubo_url", "workers",
    )}  # fmt: skip
    pairs = [("--" + name.replace("_", "-"), value) for name, value in given.items()]
    for option, value in pairs:
        if value is not None:
            out += [option, str(Path(value).resolve()) if isinstance(value, Path) else str(value)]
    # The background service is started for the demo only (`up --demo`).
    chosen = "batch_max_age_s" in settings.model_fields_set
    age = settings.batch_max_age_s if chosen else DEMO_BATCH_AGE_S
    port = args.api_port
    if port is None:
        port = DEFAULT_API_PORT if _port_free(DEFAULT_API_PORT) else 0
    return [*out, "--batch-age-s", str(age), "--api-port", str(port)]


def _start_background(args: argparse.Namespace, settings: CarbonLedgerSettings) -> ServiceState:
    """Start ``up --serve`` detached (its own session: it outlives us) and wait for it."""
    import api

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    package_root = str(Path(api.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "api.cli", "up", "--serve", *_forwarded(args, settings)]
    log_path = data_dir / SERVICE_LOG
    with log_path.open("ab") as log_file:
        log_file.write(f"\n--- starting the service at {time.time():.0f}\n".encode())
        log_file.flush()
        process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, env=env,
        )  # fmt: skip
    _say(f"starting the service in the background (pid {process.pid}, log {log_path})")
    deadline = time.monotonic() + BACKGROUND_START_TIMEOUT_S
    while True:
        state = read_service_state(data_dir)
        if state is not None and state.pid == process.pid:
            return state
        code = process.poll()
        if code is not None:
            tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
            raise AnchoringError(f"the service exited with code {code} while starting: {tail}")
        if time.monotonic() > deadline:
            _terminate(process.pid, timeout_s=30.0)
            raise UnavailableError(
                f"the service did not start within {BACKGROUND_START_TIMEOUT_S:.0f} s "
                f"(log: {log_path})"
            )
        time.sleep(0.2)


def _terminate(pid: int, *, timeout_s: float) -> bool:
    """SIGTERM ``pid`` and wait; SIGKILL if it does not end. True when it ended by SIGTERM."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not is_alive(pid):
                return sig == signal.SIGTERM
            time.sleep(0.1)
    return False


def run_down(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    data_dir = settings.data_dir.resolve()
    state = read_service_state(data_dir)
    if state is None:
        (data_dir / SERVICE_FILE).unlink(missing_ok=True)  # a stale file of a crashed service
        print(f"no service is running on {data_dir}")
        return EXIT_OK
    clean = _terminate(state.pid, timeout_s=args.timeout_s)
    if state.chain_pid is not None:
        deadline = time.monotonic() + 30.0
        while is_alive(state.chain_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    if not clean:
        _say(f"the service (pid {state.pid}) did not stop within {args.timeout_s} s: killed")
        return EXIT_REFUSED
    print(f"stopped the service (pid {state.pid}) and its chain")
    return EXIT_OK
