"""Settings: one model, resolved once (flag > CARBONLEDGER_* > default), through ``main``.

The defaults are checked against the library's own defaults (``AnchorerLimits``,
``FeePolicy``, ``ApiLimits``, ``create_app``), so the settings cannot drift from what the
code did before they existed; the table in docs/OPERATIONS.md §6 is checked against the
model, so the documentation cannot drift either.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.anchorer import AnchorerLimits
from anchoring.fees import FeePolicy
from api.app import DEFAULT_MAX_MERGE_DELAY_S
from api.cli import build_parser, main
from api.cli.common import FLAG_SETTINGS, settings_overrides
from api.cli.settings import MASK
from api.cli.up import DEMO_BATCH_AGE_S, _forwarded, _options
from api.limits import ApiLimits
from api.settings import CarbonLedgerSettings
from ledger.store import Store, sqlite_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CARBONLEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # the default data directory `data` lands here
    yield


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def resolved(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "settings", "--json", *argv)
    assert code == 0, err
    report = json.loads(out)
    assert report["format"] == "carbonledger-cli-settings/1"
    settings: dict[str, Any] = report["settings"]
    return settings


def resolve(*argv: str) -> tuple[Any, CarbonLedgerSettings]:
    """What ``main`` does before running a command: parse, then build the settings."""
    args = build_parser().parse_args(list(argv))
    return args, CarbonLedgerSettings(**settings_overrides(args))


# -- defaults are today's ---------------------------------------------------------------


def test_defaults_equal_the_library_defaults() -> None:
    settings = CarbonLedgerSettings()
    limits, fees = AnchorerLimits(), FeePolicy()
    assert settings.store_url is None
    assert settings.batch_max_records == limits.batch_max_records == 1000
    assert settings.batch_max_age_s == limits.batch_max_age_s == 10.0
    assert settings.poll_interval_s == limits.poll_interval_s == 1.0
    assert settings.confirmations == limits.confirmations == 1
    assert settings.stall_timeout_s == fees.stall_timeout_s == 60.0
    assert settings.max_fee_gwei * 10**9 == fees.max_fee_per_gas_cap_wei
    assert settings.max_body_bytes == ApiLimits().max_body_bytes == 16 * 1024 * 1024
    assert settings.max_merge_delay_s == DEFAULT_MAX_MERGE_DELAY_S == 600
    assert settings.bind == "127.0.0.1:8080"


def test_up_without_settings_runs_as_before() -> None:
    args, settings = resolve("up", "--serve")
    options = _options(args, settings)
    assert options.anchorer == AnchorerLimits()
    assert options.fees == FeePolicy()
    assert options.max_merge_delay_s == 600
    assert options.max_body_bytes == ApiLimits().max_body_bytes
    assert options.store_url == sqlite_url(settings.data_dir.resolve())
    # The demo seals sooner unless an age was chosen; so does the service it starts.
    demo_args, demo_settings = resolve("up", "--demo")
    assert _options(demo_args, demo_settings).anchorer.batch_max_age_s == DEMO_BATCH_AGE_S
    forwarded = _forwarded(demo_args, demo_settings)
    assert forwarded[forwarded.index("--batch-age-s") + 1] == str(DEMO_BATCH_AGE_S)


# -- the environment sets, a flag overrides -----------------------------------------------

#: (field, env value, the value the settings then hold, flag, flag value, its value)
CASES = [
    ("store_url", "sqlite:///env.db", "sqlite:///env.db", "--store-url", "sqlite:///f.db",
     "sqlite:///f.db"),
    ("batch_max_records", "50", 50, "--batch-size", "7", 7),
    ("batch_max_age_s", "2.5", 2.5, "--batch-age-s", "0.25", 0.25),
    ("stall_timeout_s", "90", 90.0, "--stall-timeout-s", "5", 5.0),
    ("max_fee_gwei", "20", 20, "--max-fee-gwei", "3", 3),
    ("poll_interval_s", "0.5", 0.5, "--poll-s", "2", 2.0),
    ("bind", "0.0.0.0:9000", "0.0.0.0:9000", "--bind", "127.0.0.1:9001", "127.0.0.1:9001"),
    ("max_merge_delay_s", "60", 60, "--max-merge-delay-s", "0", 0),
    ("max_body_bytes", "1024", 1024, "--max-body-bytes", "2048", 2048),
    ("kubo_url", "http://127.0.0.1:5002", "http://127.0.0.1:5002", "--kubo-url",
     "http://127.0.0.1:5001", "http://127.0.0.1:5001"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "env", "env_value", "flag", "arg", "arg_value"), CASES)
def test_env_sets_and_flag_overrides(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    env: str,
    env_value: Any,
    flag: str,
    arg: str,
    arg_value: Any,
) -> None:
    assert resolved(capsys)[field]["source"] == "default"
    monkeypatch.setenv(f"CARBONLEDGER_{field.upper()}", env)
    entry = resolved(capsys)[field]
    assert (entry["value"], entry["source"]) == (env_value, "env")
    assert entry["env"] == f"CARBONLEDGER_{field.upper()}"
    assert entry["flag"] == flag
    entry = resolved(capsys, flag, arg)[field]
    assert (entry["value"], entry["source"]) == (arg_value, "flag")


def test_up_passes_the_settings_down(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "BATCH_MAX_RECORDS": "50", "BATCH_MAX_AGE_S": "3", "POLL_INTERVAL_S": "0.5",
        "STALL_TIMEOUT_S": "90", "MAX_FEE_GWEI": "20", "MAX_MERGE_DELAY_S": "60",
        "MAX_BODY_BYTES": "1024", "CONFIRMATIONS": "2", "STORE_URL": "sqlite:///env.db",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"CARBONLEDGER_{name}", value)
    args, settings = resolve("up", "--demo", "--batch-size", "7")
    options = _options(args, settings)
    assert options.anchorer == AnchorerLimits(
        batch_max_records=7, batch_max_age_s=3.0, poll_interval_s=0.5, confirmations=2
    )
    assert options.fees == FeePolicy(max_fee_per_gas_cap_wei=20 * 10**9, stall_timeout_s=90.0)
    assert (options.max_merge_delay_s, options.max_body_bytes) == (60, 1024)
    assert options.store_url == "sqlite:///env.db"
    forwarded = _forwarded(args, settings)  # the background service inherits the rest
    assert forwarded[forwarded.index("--batch-age-s") + 1] == "3.0"
    assert forwarded[forwarded.index("--batch-size") + 1] == "7"


def test_status_reads_the_store_the_environment_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Store.open(sqlite_url(elsewhere)).close()  # created and migrated
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["status", "--json", "--chain", "memory", "--data-dir", str(empty)]
    code, _, err = run(capsys, *args)
    assert code != 0 and err.count("\n") == 1  # no store in the data directory
    monkeypatch.setenv("CARBONLEDGER_STORE_URL", sqlite_url(elsewhere))
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert json.loads(out)["pending"] == 0
    # The flag wins: it names a database that does not exist, so status fails again.
    code, _, err = run(capsys, *args, "--store-url", sqlite_url(empty))
    assert code != 0 and err.count("\n") == 1


# -- invalid values ---------------------------------------------------------------------

INVALID = [
    ("batch_max_records", "0"),
    ("batch_max_records", str(2**32)),
    ("batch_max_records", "many"),
    ("batch_max_age_s", "0"),
    ("batch_max_age_s", "inf"),
    ("stall_timeout_s", "-1"),
    ("max_fee_gwei", "0"),
    ("max_fee_gwei", "1.5"),
    ("poll_interval_s", "nan"),
    ("bind", "localhost"),
    ("bind", "127.0.0.1:70000"),
    ("max_merge_delay_s", "-1"),
    ("max_body_bytes", "0"),
]


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_invalid_env_value_is_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv(f"CARBONLEDGER_{field.upper()}", value)
    code, out, err = run(capsys, "settings")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"carbonledger: error: invalid setting {field} ")
    assert f"(CARBONLEDGER_{field.upper()})" in err


def test_invalid_flag_value_names_flag_and_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "anchor", "--chain", "memory", "--batch-size", "0")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "(--batch-size / CARBONLEDGER_BATCH_MAX_RECORDS)" in err
    code, out, err = run(capsys, "serve", "--bind", "nowhere")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "(--bind / CARBONLEDGER_BIND)" in err


# -- secrets ----------------------------------------------------------------------------


def test_secrets_are_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_hex = "0x" + "ab" * 32
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", key_hex)
    monkeypatch.setenv("CARBONLEDGER_SIGNER_PASSWORD", "hunter2-password")
    monkeypatch.setenv("CARBONLEDGER_STORE_URL", "postgresql+psycopg://ledger:s3cret@db:5432/l")
    monkeypatch.setenv("CARBONLEDGER_RPC_URL", "https://op:rpc-pass@node.example:8545/")
    for argv in (["--json"], []):
        code, out, err = run(capsys, "settings", *argv)
        assert code == 0, err
        for secret in ("ab" * 32, "hunter2-password", "s3cret", "rpc-pass"):
            assert secret not in out
    settings = resolved(capsys)
    assert settings["signer_key"]["value"] == MASK
    assert settings["signer_password"]["value"] == MASK
    assert settings["store_url"]["value"] == f"postgresql+psycopg://ledger:{MASK}@db:5432/l"
    assert settings["rpc_url"]["value"] == f"https://op:{MASK}@node.example:8545/"
    assert settings["signer_keystore"]["value"] is None


# -- the documentation -------------------------------------------------------------------


def test_operations_table_documents_every_setting() -> None:
    text = (REPO / "docs" / "OPERATIONS.md").read_text()
    section = text[text.index("## 6. Settings") :]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \| `(CARBONLEDGER_\w+)` \| ([^|]*) \| ([^|]*) \|", line)
        if match:
            rows[match[1]] = (match[2], match[3], match[4])
    assert set(rows) == set(CarbonLedgerSettings.model_fields)
    flags = {field: flag for field, flag in FLAG_SETTINGS.values()}
    for name, (env, flag_cell, default_cell) in rows.items():
        assert env == f"CARBONLEDGER_{name.upper()}"
        if name in flags:
            assert flag_cell.startswith(f"`{flags[name]}`"), name
        else:
            assert flag_cell == "—", name
        default = CarbonLedgerSettings.model_fields[name].default
        if default is None:
            assert default_cell.startswith("none"), name
        else:
            shown = str(default).removesuffix(".0")
            assert default_cell.startswith(f"`{shown}`"), name
