"""The Python snippets of the docs, checked against the code they show: every name a
snippet imports must exist where the snippet imports it from (docs/SUBMISSION.md §1 once
imported ``commit`` from a module that does not exist), and the submission snippet of
docs/SUBMISSION.md §1 is run as written, its output parsed by the service's own strict
submission parser. A snippet that drifts from the code fails here."""

from __future__ import annotations

import ast
import hashlib
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from ledger.core.errors import SignatureError
from ledger.core.keys import public_key_of
from ledger.core.readings import reading_content, reading_message
from ledger.core.records import validate_record
from ledger.core.signature import key_id, public_key_bytes
from ledger.core.sm2 import SM2PrivateKey
from ledger.examples import CR_TANK, efficiency, example_records, seeded_digest
from ledger.service.submission import AcceptLimits, parse_submission
from tests.service.conftest import PRODUCER_KEYS

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def snippets() -> list[tuple[str, str]]:
    """Every ```python block of the docs: (where, source)."""
    out = []
    for path in DOCS:
        text = path.read_text("utf-8")
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append((f"{path.relative_to(ROOT)}:{line}", m.group(1)))
    return out


def submission_snippets() -> list[str]:
    return [s for where, s in snippets() if where.startswith("docs/SUBMISSION.md")]


@pytest.mark.parametrize(("where", "source"), snippets(), ids=[w for w, _ in snippets()])
def test_every_name_a_snippet_imports_exists(where: str, source: str) -> None:
    for node in ast.walk(ast.parse(source, filename=where)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            try:
                module = importlib.import_module(node.module)
            except ModuleNotFoundError:
                pytest.fail(f"{where}: no module {node.module}")
            for alias in node.names:
                assert hasattr(module, alias.name), f"{where}: {node.module} has no {alias.name}"


def test_the_submission_snippet_makes_a_submission_the_service_accepts_as_well_formed() -> None:
    record = example_records()[CR_TANK]
    private_key = PRODUCER_KEYS[record["producer"]]
    namespace = {"record": record, "private_key": private_key}
    exec(compile(submission_snippets()[0], "docs/SUBMISSION.md", "exec"), namespace)
    parsed = parse_submission(namespace["body"], limits=AcceptLimits())
    assert parsed.record_id == CR_TANK
    assert parsed.signature.key_id == key_id(public_key_bytes(private_key))


def test_the_terminal_snippet_signs_a_reading_its_public_key_verifies() -> None:
    secret = hashlib.sha256(b"docs terminal").digest()
    namespace: dict[str, Any] = {"secret_32_bytes": secret}
    exec(compile(submission_snippets()[1], "docs/SUBMISSION.md", "exec"), namespace)
    reading, batch = namespace["reading"], namespace["batch"]
    public = public_key_of(SM2PrivateKey(secret, batch["terminal"]["id"].encode()))
    message = reading_message(reading_content(batch, reading))
    public.verify(message, bytes.fromhex(reading["signature"]))
    with pytest.raises(SignatureError):  # another quantity is another message
        public.verify(message.replace(b'"3.2"', b'"3.3"'), bytes.fromhex(reading["signature"]))


def test_the_report_snippet_renders_the_files_the_evaluation_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = efficiency.efficiency_example_records(seeded_digest, days=1)
    closure = {rid: validate_record(r) for rid, r in records.items()}
    namespace: dict[str, Any] = {"evaluation": records[efficiency.EVALUATION], "closure": closure}
    monkeypatch.chdir(tmp_path)
    exec(compile(submission_snippets()[2], "docs/SUBMISSION.md", "exec"), namespace)
    documents = namespace["evaluation"]["body"]["documents"]
    assert sorted(d["name"] for d in documents) == sorted(p.name for p in tmp_path.iterdir())
    for d in documents:
        data = (tmp_path / d["name"]).read_bytes()
        assert (d["size"], d["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    validate_record(namespace["evaluation"])
