"""Operator settings (environment prefix ``CARBONLEDGER_``), loaded at the CLI entry only.

Library code never reads these: the runner builds one ``CarbonLedgerSettings``
and passes plain values down as keyword arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.limits import ApiLimits

ChainKind = Literal["memory", "dev", "rpc"]


class CarbonLedgerSettings(BaseSettings):
    """Every field can be set as ``CARBONLEDGER_<FIELD>`` (e.g. ``CARBONLEDGER_RPC_URL``)."""

    model_config = SettingsConfigDict(env_prefix="CARBONLEDGER_", extra="forbid")

    data_dir: Path = Field(default=Path("data"), description="state of the service")
    chain: ChainKind = Field(default="dev", description="memory | dev | rpc")
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL of the rpc chain")
    expected_chain_id: int | None = Field(default=None, description="chain id the node must have")
    project_root: Path | None = Field(default=None, description="repository with contracts/")
    dev_port: int | None = Field(default=None, ge=1, le=65535, description="pin the dev port")
    anvil_path: Path | None = Field(default=None, description="anvil binary (default: npm's)")
    signer_keystore: Path | None = Field(default=None, description="Web3 Secret Storage file")
    signer_password: SecretStr | None = None
    signer_password_file: Path | None = None
    signer_key: SecretStr | None = Field(default=None, description="raw hex key (rpc)")
    confirmations: int = Field(default=1, ge=1, description="blocks before a tx counts")
    kubo_url: str | None = Field(
        default=None, description="Kubo RPC URL to publish batch manifests to (optional)"
    )
    store_url: str | None = Field(
        default=None, description="database URL (default: SQLite in the data directory)"
    )
    # The anchorer (docs/FORMAT.md §4, docs/OPERATIONS.md §1-§2). The upper bound of a batch is the
    # contract's: a leaf count is a uint32.
    batch_max_records: int = Field(
        default=1000, ge=1, le=2**32 - 1, description="seal a batch at N pending records"
    )
    batch_max_age_s: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seal when the oldest pending record waited T s (`up --demo`: 1)",
    )
    stall_timeout_s: float = Field(
        default=60.0, gt=0, allow_inf_nan=False, description="replace a tx unmined after T s"
    )
    max_fee_gwei: int = Field(
        default=500, ge=1, description="cap of maxFeePerGas for replacements, in gwei"
    )
    poll_interval_s: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="seconds between idle anchorer steps"
    )
    # The HTTP API (docs/API.md).
    bind: str = Field(default="127.0.0.1:8080", description="HOST:PORT `serve` listens on")
    max_merge_delay_s: int = Field(
        default=600, ge=0, description="anchoring delay promised in receipts"
    )
    max_body_bytes: int = Field(
        default=ApiLimits.max_body_bytes, ge=1, description="largest request body, in bytes"
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="API worker processes (serve, up --serve)"
    )
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="json or text; default json for the service (serve, up --serve), "
        "text for the other commands",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="comma-separated IPs or networks of reverse proxies whose "
        "X-Forwarded-For is believed (default: none, the peer is the client)",
    )
    # Exchange with the buyers' systems (docs/PACT.md, docs/EVENTS.md).
    public_url: str | None = Field(
        default=None, description="https://host[:port] buyers reach this service at"
    )
    pact_company_name: str | None = Field(
        default=None, description="PACT companyName of the data owner (enables /3/...)"
    )
    pact_company_ids: str | None = Field(
        default=None, description="PACT companyIds of the data owner: comma-separated URNs"
    )
    pact_token_lifetime_s: int = Field(
        default=3600, ge=60, le=86400, description="lifetime of PACT access tokens"
    )
    outbound_ca_file: Path | None = Field(
        default=None, description="extra CA certificates (PEM) trusted for event deliveries"
    )
    tls_cert_file: Path | None = Field(default=None, description="PEM certificate to serve HTTPS")
    tls_key_file: Path | None = Field(default=None, description="PEM private key to serve HTTPS")
    admin_delay_s: int | None = Field(
        default=None, ge=0, description="admin hand-over delay; default 2 days on rpc, 0 on dev"
    )
    anchorer: str | None = Field(default=None, description="ANCHORER_ROLE holder (operator)")
    revoker: str | None = Field(default=None, description="REVOKER_ROLE holder (operator)")
    key_admin: str | None = Field(default=None, description="KEY_ADMIN_ROLE holder (operator)")
    registrar: str | None = Field(default=None, description="REGISTRAR_ROLE holder (operator)")

    # The cross-border desk (docs/API.md §3.7): the producers it signs risk assessments
    # and conversions as, and their Ed25519 key files (written by `carbonledger keys`).
    assessor_producer: str | None = Field(default=None, description="producer of assessments")
    assessor_key_file: Path | None = Field(default=None, description="its Ed25519 key file")
    converter_producer: str | None = Field(default=None, description="producer of conversions")
    converter_key_file: Path | None = Field(default=None, description="its Ed25519 key file")

    @field_validator("bind")
    @classmethod
    def _is_host_port(cls, value: str) -> str:
        _, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"expected HOST:PORT (port 0: a free one), got {value!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _are_networks(cls, value: str | None) -> str | None:
        from api.middleware import parse_trusted_proxies

        if value:
            parse_trusted_proxies(value)
        return value or None

    @field_validator("pact_company_ids")
    @classmethod
    def _are_urns(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        for part in value.split(","):
            if not part.strip().lower().startswith("urn:"):
                raise ValueError(f"{part.strip()!r} is not a URN")
        return value

    @field_validator("public_url")
    @classmethod
    def _is_base_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError(f"expected https://host[:port][/path], got {value!r}")
        return value.rstrip("/")

    @field_validator("anchorer", "revoker", "key_admin", "registrar")
    @classmethod
    def _is_address(cls, value: str | None) -> str | None:
        from eth_utils import is_address, to_checksum_address

        if value is None or value == "":
            return None
        if not is_address(value):
            raise ValueError(f"{value!r} is not an EVM address")
        return to_checksum_address(value)
