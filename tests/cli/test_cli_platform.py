"""The platform's commands, run as a user runs them (subprocesses on the test database)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from entegrator.config import Settings
from entegrator.runtime import Runtime
from tests.clock import now
from tests.testing.platform import EXAMPLE, free_port, new_vkn


def _env(settings: Settings, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # start-up as on a user's machine
    env.update(
        ENTEGRATOR_DATABASE_URL=settings.database_url or "",
        ENTEGRATOR_DATA_DIR=str(data_dir),
        ENTEGRATOR_SECRET_KEY=settings.secret_key.get_secret_value() if settings.secret_key else "",
        ENTEGRATOR_CACHE_DIR=os.environ.get("ENTEGRATOR_CACHE_DIR", str(data_dir)),
    )
    return env


def _wait_ready(server: subprocess.Popen[bytes], base: str, log: Path) -> float:
    """Wait until the API answers /readyz; the deadline for the rest of the test."""
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return deadline
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entegrator", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_tenant_and_key_commands(settings: Settings, tmp_path: Path, base_url: str) -> None:
    env = _env(settings, tmp_path)
    up = _cli(env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    from entegrator.store.db import Database

    assert up.stdout.split()[-1] == Database.head()
    vkn = new_vkn()
    made = _cli(env, "tenant", "create", "--vkn", vkn, "--name", "CLI A.Ş.", "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert set(out) == {"tenant_id", "api_key"}
    headers = {"Authorization": f"Bearer {out['api_key']}"}
    assert httpx.get(f"{base_url}/api/v1/invoices", headers=headers).status_code == 200

    again = _cli(env, "tenant", "create", "--vkn", vkn, "--name", "CLI A.Ş.", "--json")
    assert again.returncode == 2
    assert json.loads(again.stderr)["code"] == "TENANT_EXISTS"
    for wrong in ("12", "1234567891", "12345678901"):  # too short, bad check digits
        bad = _cli(env, "tenant", "create", "--vkn", wrong, "--name", "x")
        assert bad.returncode == 2
        assert "INVALID_VKN" in bad.stderr

    viewer = _cli(env, "apikey", "create", "--tenant", vkn, "--role", "viewer", "--json")
    assert viewer.returncode == 0, viewer.stderr
    key = json.loads(viewer.stdout)["api_key"]
    vh = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base_url}/api/v1/invoices", headers=vh).status_code == 200
    prefix = key.split("_")[1]
    revoked = _cli(env, "apikey", "revoke", "--tenant", out["tenant_id"], prefix)
    assert revoked.returncode == 0, revoked.stderr
    time.sleep(settings.api_key_cache_seconds)  # the API trusts a valid key this long
    assert httpx.get(f"{base_url}/api/v1/invoices", headers=vh).status_code == 401
    assert _cli(env, "apikey", "create", "--tenant", "nope").returncode == 2
    assert _cli(env, "apikey", "create", "--tenant", vkn, "--role", "god").returncode == 2


def test_user_commands(settings: Settings, tmp_path: Path, runtime: Runtime) -> None:
    env = _env(settings, tmp_path)
    vkn = new_vkn()
    assert _cli(env, "tenant", "create", "--vkn", vkn, "--name", "Kullanıcı A.Ş.").returncode == 0
    env["PAROLA"] = "ilk-parola-12345"
    made = _cli(
        env,
        "user",
        "create",
        "--tenant",
        vkn,
        "--email",
        "muhasebe@ornek.com.tr",
        "--role",
        "muhasebe",
        "--password-env",
        "PAROLA",
    )
    assert made.returncode == 0, made.stderr
    assert "role muhasebe" in made.stdout
    assert runtime.accounts.login("muhasebe@ornek.com.tr", "ilk-parola-12345").ok
    again = _cli(
        env,
        "user",
        "create",
        "--tenant",
        vkn,
        "--email",
        "muhasebe@ornek.com.tr",
        "--role",
        "viewer",
        "--password-env",
        "PAROLA",
    )
    assert again.returncode == 2
    assert "ACCOUNT_INVALID" in again.stderr
    missing = _cli(
        env,
        "user",
        "create",
        "--tenant",
        vkn,
        "--email",
        "x@ornek.com.tr",
        "--role",
        "viewer",
        "--password-env",
        "YOK",
    )
    assert missing.returncode == 2 and "PASSWORD_MISSING" in missing.stderr
    bad_role = _cli(
        env,
        "user",
        "create",
        "--tenant",
        vkn,
        "--email",
        "x@ornek.com.tr",
        "--role",
        "api",
        "--password-env",
        "PAROLA",
    )
    assert bad_role.returncode == 2 and "--role" in bad_role.stderr
    env["YENI"] = "ikinci-parola-678"
    reset = _cli(
        env,
        "user",
        "reset-password",
        "--tenant",
        vkn,
        "--email",
        "MUHASEBE@ornek.com.tr",
        "--password-env",
        "YENI",
    )
    assert reset.returncode == 0, reset.stderr
    assert runtime.accounts.login("muhasebe@ornek.com.tr", "ikinci-parola-678").ok
    assert not runtime.accounts.login("muhasebe@ornek.com.tr", "ilk-parola-12345").ok


def test_tenant_series_shows_and_changes_the_defaults(
    settings: Settings, tmp_path: Path, base_url: str
) -> None:
    env = _env(settings, tmp_path)
    vkn = new_vkn()
    made = _cli(
        env, "tenant", "create", "--vkn", vkn, "--name", "Seri A.Ş.", "--internet-series", "NET"
    )
    assert made.returncode == 0, made.stderr
    shown = _cli(env, "tenant", "series", "--tenant", vkn, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"efatura": "EFA", "earsiv": "EAR", "internet": "NET"}
    changed = _cli(env, "tenant", "series", "--tenant", vkn, "--earsiv", "ARS", "--json")
    assert json.loads(changed.stdout) == {"efatura": "EFA", "earsiv": "ARS", "internet": "NET"}
    text_out = _cli(env, "tenant", "series", "--tenant", vkn)
    assert text_out.stdout.split() == ["efatura", "EFA", "earsiv", "ARS", "internet", "NET"]
    bad = _cli(env, "tenant", "series", "--tenant", vkn, "--internet", "çok", "--json")
    assert bad.returncode == 2
    error = json.loads(bad.stderr)
    assert (error["code"], error["where"]) == ("INVALID_SERIES", "--internet")
    again = _cli(env, "tenant", "series", "--tenant", vkn, "--json")
    assert json.loads(again.stdout)["internet"] == "NET"
    bad_create = _cli(
        env, "tenant", "create", "--vkn", new_vkn(), "--name", "x", "--internet-series", "ab"
    )
    assert bad_create.returncode == 2 and "--internet-series" in bad_create.stderr


def test_tenant_mail_from(settings: Settings, tmp_path: Path, runtime: Runtime) -> None:
    from entegrator.store import tenants

    env = _env(settings, tmp_path)
    vkn = new_vkn()
    made = _cli(env, "tenant", "create", "--vkn", vkn, "--name", "Posta A.Ş.", "--json")
    assert made.returncode == 0, made.stderr
    tenant_id = uuid.UUID(json.loads(made.stdout)["tenant_id"])
    done = _cli(env, "tenant", "mail-from", "--tenant", vkn, "fatura@posta.example")
    assert done.returncode == 0, done.stderr
    with runtime.db.system() as conn:
        assert tenants.mail_from(conn, tenant_id) == "fatura@posta.example"
    bad = _cli(env, "tenant", "mail-from", "--tenant", vkn, "x@y\r\nBcc: z@evil.example")
    assert bad.returncode == 2 and "INVALID_EMAIL" in bad.stderr
    cleared = _cli(env, "tenant", "mail-from", "--tenant", vkn)
    assert cleared.returncode == 0, cleared.stderr
    with runtime.db.system() as conn:
        assert tenants.mail_from(conn, tenant_id) is None


def test_seal_import_signs_waiting_documents(
    settings: Settings, tmp_path: Path, base_url: str
) -> None:
    from entegrator.signing.certs import TestCA, to_pkcs12

    env = _env(settings, tmp_path)
    vkn = new_vkn()
    made = json.loads(
        _cli(env, "tenant", "create", "--vkn", vkn, "--name", "Mühürsüz", "--json").stdout
    )
    headers = {"Authorization": f"Bearer {made['api_key']}"}
    draft = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    draft["supplier"]["vkn"] = vkn
    doc = httpx.post(f"{base_url}/api/v1/invoices", json=draft, headers=headers).json()
    seal = TestCA.create(now=now()).issue(identity=vkn, name="Mühürsüz", now=now())
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(to_pkcs12(seal, b"parola"))
    password = tmp_path / "password"
    password.write_text("parola\n")
    wrong = TestCA.create(now=now()).issue(identity="3221555337", name="Başka", now=now())
    other = tmp_path / "other.p12"
    other.write_bytes(to_pkcs12(wrong, b"parola"))
    refused = _cli(
        env, "seal", "import", "--tenant", vkn, str(other), "--password-file", str(password)
    )
    assert refused.returncode == 2
    assert "SEAL_OTHER_IDENTITY" in refused.stderr
    done = _cli(env, "seal", "import", "--tenant", vkn, str(p12), "--password-file", str(password))
    assert done.returncode == 0, done.stderr
    assert "1 waiting documents queued" in done.stdout
    worker = _cli(env, "worker", "--until-idle")
    assert worker.returncode == 0, worker.stderr
    detail = httpx.get(f"{base_url}/api/v1/invoices/{doc['id']}", headers=headers).json()
    assert detail["status"] == "queued"


def test_serve_with_worker_and_demo_tenant_is_the_whole_platform(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings, tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "entegrator",
                "serve",
                "--with-worker",
                "--demo",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = _wait_ready(server, base, log)
            match = re.search(r"ENTEGRATOR_KEY=(\S+)", log.read_text())
            assert match, log.read_text()
            headers = {"Authorization": f"Bearer {match.group(1)}"}
            draft = json.loads(EXAMPLE.read_text(encoding="utf-8"))
            created = httpx.post(f"{base}/api/v1/invoices", json=draft, headers=headers)
            assert created.status_code == 201, created.text
            doc_id = created.json()["id"]
            while True:
                detail = httpx.get(f"{base}/api/v1/invoices/{doc_id}", headers=headers).json()
                if detail["status"] == "queued":
                    break
                assert time.monotonic() < deadline, detail
                time.sleep(0.1)
            xml = httpx.get(f"{base}/api/v1/invoices/{doc_id}/xml", headers=headers)
            assert b"SignatureValue" in xml.content
            found = httpx.get(
                f"{base}/api/v1/invoices", params={"number": detail["number"]}, headers=headers
            ).json()
            assert [i["id"] for i in found["items"]] == [doc_id]

            # The portal at /, with the demo user printed: log in, see the invoice, its PDF.
            printed = log.read_text()
            email = re.search(r"E-posta (\S+)", printed)
            password = re.search(r"Parola\s+(\S+)", printed)
            assert email and password, printed
            assert f"portal: {base}/giris" in printed
            with httpx.Client(base_url=base, timeout=60) as browser:
                form = browser.get("/giris").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', form)
                assert token
                logged = browser.post(
                    "/giris",
                    data={
                        "email": email.group(1),
                        "password": password.group(1),
                        "csrf_token": token.group(1),
                    },
                )
                assert logged.status_code == 303, logged.text
                assert detail["number"] in browser.get("/faturalar/giden").text
                pdf = browser.get(f"/faturalar/{doc_id}/pdf")
                assert pdf.status_code == 200
                assert pdf.content.startswith(b"%PDF")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                server.kill()
                server.wait()
    # The demo key is kept for the next start.
    assert (tmp_path / "demo-api-key").read_text().strip() == match.group(1)


def test_serve_with_several_api_processes(settings: Settings, tmp_path: Path) -> None:
    env = _env(settings, tmp_path)
    refused = _cli(env, "serve", "--workers", "2", "--with-worker")
    assert refused.returncode == 2
    assert "INVALID_OPTIONS" in refused.stderr
    vkn = new_vkn()
    made = json.loads(
        _cli(env, "tenant", "create", "--vkn", vkn, "--name", "Çok İşlem", "--json").stdout
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "entegrator", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(server, base, log)
            draft = json.loads(EXAMPLE.read_text(encoding="utf-8"))
            draft["supplier"]["vkn"] = vkn
            headers = {"Authorization": f"Bearer {made['api_key']}"}
            numbers = set()
            for _ in range(6):
                r = httpx.post(f"{base}/api/v1/invoices", json=draft, headers=headers, timeout=60)
                assert r.status_code == 201, r.text
                numbers.add(r.json()["number"])
            assert numbers == {f"EFA2026{n:09d}" for n in range(1, 7)}
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                server.kill()
                server.wait()
    assert "Started parent process" in log.read_text() or "Uvicorn running" in log.read_text()
