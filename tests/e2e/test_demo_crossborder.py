"""``up --demo`` tells the cross-border story (docs/DEMO.md "Cross-border"): the tank
pre-assessed yellow for the EU, converted, its bilingual declaration signed by the
accredited body and verified with ``--file``; the heat exchanger red for the Middle East,
its conversion refused. One line each on stdout, with its page."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.e2e.conftest import DemoRun
from verifier.cli import main as verify_main

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _lines(out: str) -> dict[str, str]:
    found = re.findall(r"^cross-border  ([a-z -]+?): (.*)$", out, re.M)
    return dict(found)


def test_up_demo_prints_the_cross_border_story(
    demo_service: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = demo_service.result.stdout
    lines = _lines(out)
    assert set(lines) == {"pre-assessment", "conversion", "declaration", "red lock"}, out
    assert "for EU (CBAM)" in lines["pre-assessment"] and ": yellow," in lines["pre-assessment"]
    assert "heat exchanger for ME: red (required-data-late)" in lines["red lock"]
    assert "the conversion into ME is refused (409)" in lines["red lock"]
    # Every line ends with its page, and the page opens.
    urls = {k: v.rsplit(" ", 1)[-1] for k, v in lines.items()}
    with httpx.Client(timeout=30) as browser:
        for step, url in urls.items():
            page = browser.get(url)
            assert page.status_code == 200, (step, url)
    # The declaration: anchored, and its PDF verified against the anchored hash.
    declaration = parse_qs(urlparse(urls["declaration"]).query)["id"][0]
    pdf = Path(lines["declaration"].rsplit(", ", 1)[0].rsplit(": ", 1)[-1])
    assert pdf.read_bytes().startswith(b"%PDF-")
    api = urls["red lock"].split("/risk?")[0]
    key = re.search(r"^ *regulator key +(clk_\S+) ", out, re.M)
    assert key, out
    bundle = tmp_path / "declaration-bundle.json"
    deadline = time.monotonic() + 180
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    with httpx.Client(base_url=api, timeout=30, headers=auth) as client:
        while True:
            status = client.get("/v1/record/status", params={"id": declaration}).json()
            if status["state"] == "anchored":
                break
            assert time.monotonic() < deadline, status
            time.sleep(1)
        reply = client.get("/v1/record/bundle", params={"id": declaration})
        assert reply.status_code == 200, reply.text
        bundle.write_bytes(reply.content)
    code = verify_main(["bundle", str(bundle), *demo_service.pins(), "--file", str(pdf)])
    report = capsys.readouterr().out
    assert code == 0, report
    assert re.search(r"^ *12 +local file +PASS", report, re.M), report
