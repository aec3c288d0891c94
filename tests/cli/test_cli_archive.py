"""``entegrator archive import``, run as a user runs it: an export of the tenant filed again
files nothing twice; a tampered export is refused with its code and both messages."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from entegrator.config import Settings
from entegrator.runtime import Runtime
from tests.cli.test_cli_platform import _cli, _env
from tests.testing.platform import TenantHandle, drain


def test_archive_import_from_the_command_line(
    settings: Settings,
    runtime: Runtime,
    make_tenant: Callable[..., TenantHandle],
    tmp_path: Path,
) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        ids = {tenant.issue(c)["id"] for _ in range(2)}
    drain(runtime)
    env = _env(settings, tmp_path)
    out = tmp_path / "c.zip"
    made = _cli(
        env, "export", "--tenant", tenant.vkn, "--from", "2000-01-01", "--to", "2099-12-31",
        "--out", str(out), "--no-pdf", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    digest = json.loads(made.stdout)["manifest_sha256"]

    done = _cli(
        env, "archive", "import", str(out), "--tenant", tenant.vkn,
        "--manifest-sha256", digest, "--source", "eski entegratör", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["documents"] == 2 and summary["imported"] == 0
    assert {s["id"] for s in summary["skipped"]} == ids
    assert summary["source"] == "eski entegratör"

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("events.json"):
                data = data.replace(b'"actor": "', b'"actor": "x', 1)
            dst.writestr(info.filename, data)
    refused = _cli(env, "archive", "import", str(tampered), "--tenant", tenant.vkn, "--json")
    assert refused.returncode == 1
    error = json.loads(refused.stderr)
    assert error["code"] == "ARCHIVE_IMPORT_REFUSED"
    assert error["message_tr"] and error["message_en"]

    missing = _cli(env, "archive", "import", str(tmp_path / "none.zip"), "--tenant", tenant.vkn)
    assert missing.returncode == 2 and "FILE_NOT_FOUND" in missing.stderr
