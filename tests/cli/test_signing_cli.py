"""``entegrator cert``, ``sign`` and ``verify`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entegrator.cli import app

runner = CliRunner()
ENV = {"SEAL_PASSWORD": "çok-gizli"}


def _setup(tmp_path: Path, corpus: Path, vkn: str = "1288331521") -> Path:
    ca = tmp_path / "ca"
    assert runner.invoke(app, ["cert", "test-ca", "--out", str(ca)]).exit_code == 0
    seal = tmp_path / "seal.p12"
    result = runner.invoke(
        app,
        [
            "cert",
            "issue",
            "--vkn",
            vkn,
            "--name",
            "Test A.Ş.",
            "--ca",
            str(ca),
            "-o",
            str(seal),
            "--password-env",
            "SEAL_PASSWORD",
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    return seal


def _sign(tmp_path: Path, corpus: Path, seal: Path) -> Path:
    signed = tmp_path / "signed.xml"
    args = ["sign", str(corpus / "temel_fatura.xml"), "--p12", str(seal), "-o", str(signed)]
    result = runner.invoke(app, [*args, "--password-env", "SEAL_PASSWORD"], env=ENV)
    assert result.exit_code == 0, result.output
    return signed


def test_issue_sign_verify(tmp_path: Path, corpus: Path) -> None:
    seal = _setup(tmp_path, corpus)
    out = _sign(tmp_path, corpus, seal)
    ok = runner.invoke(app, ["verify", "--json", "--trust", str(tmp_path / "ca/ca.pem"), str(out)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["valid"] is True
    tampered = tmp_path / "t.xml"
    tampered.write_bytes(out.read_bytes().replace(b"</cbc:Note>", b" </cbc:Note>", 1))
    bad = runner.invoke(app, ["verify", "--json", str(tampered)])
    assert bad.exit_code == 1
    assert "sig-digest" in [f["code"] for f in json.loads(bad.stdout)["findings"]]


def test_wrong_seal_and_missing_password(tmp_path: Path, corpus: Path) -> None:
    seal = _setup(tmp_path, corpus, vkn="1460415308")
    args = ["sign", str(corpus / "temel_fatura.xml"), "--p12", str(seal), "-o", str(tmp_path / "x")]
    no_password = runner.invoke(app, args)
    assert no_password.exit_code == 2 and "PASSWORD_MISSING" in no_password.output
    wrong = runner.invoke(app, [*args, "--password-env", "SEAL_PASSWORD"], env=ENV)
    assert wrong.exit_code == 2 and "CERTIFICATE_REFUSED" in wrong.output
    bad_password = runner.invoke(
        app, [*args, "--password-env", "SEAL_PASSWORD"], env={"SEAL_PASSWORD": "yanlış"}
    )
    assert bad_password.exit_code == 2 and "KEY_FILE_INVALID" in bad_password.output
    assert not (tmp_path / "x").exists()


def test_envelope_pack_and_unpack(tmp_path: Path, corpus: Path) -> None:
    seal = _setup(tmp_path, corpus)
    signed = _sign(tmp_path, corpus, seal)
    packed = runner.invoke(
        app,
        [
            "envelope",
            "pack",
            str(signed),
            "--from",
            "urn:mail:defaultgb@a.example",
            "--to",
            "urn:mail:defaultpk@b.example",
            "-o",
            str(tmp_path),
        ],
    )
    assert packed.exit_code == 0, packed.output
    info = json.loads(packed.stdout)
    archive = Path(info["path"])
    assert archive.name == info["id"] + ".zip" and len(info["md5"]) == 32
    opened = runner.invoke(app, ["envelope", "unpack", str(archive), "-o", str(tmp_path / "in")])
    assert opened.exit_code == 0, opened.output
    document = Path(json.loads(opened.stdout)["documents"][0])
    check = runner.invoke(app, ["verify", str(document), "--trust", str(tmp_path / "ca/ca.pem")])
    assert check.exit_code == 0, check.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    refused = runner.invoke(app, ["envelope", "unpack", str(bad), "-o", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "ENVELOPE_INVALID" in refused.output


def test_validate_checks_signatures_against_trust_anchors(tmp_path: Path, corpus: Path) -> None:
    seal = _setup(tmp_path, corpus)
    signed = _sign(tmp_path, corpus, seal)
    trusted = runner.invoke(
        app, ["validate", "--json", "--trust", str(tmp_path / "ca/ca.pem"), str(signed)]
    )
    assert trusted.exit_code == 0, trusted.output
    other = tmp_path / "other"
    assert runner.invoke(app, ["cert", "test-ca", "--out", str(other)]).exit_code == 0
    untrusted = runner.invoke(
        app,
        ["validate", "--json", str(signed)],
        env={"ENTEGRATOR_TRUST_ANCHORS": str(other / "ca.pem")},
    )
    assert untrusted.exit_code == 1
    codes = [f["code"] for f in json.loads(untrusted.stdout)["findings"]]
    assert "sig-untrusted" in codes


def test_an_integrators_seal_signs_on_behalf_and_verifies_with_a_warning(
    tmp_path: Path, corpus: Path
) -> None:
    seal = _setup(tmp_path, corpus, vkn="1460415308")  # not the issuer of temel_fatura.xml
    signed = tmp_path / "signed.xml"
    args = ["sign", str(corpus / "temel_fatura.xml"), "--p12", str(seal), "-o", str(signed)]
    result = runner.invoke(app, [*args, "--password-env", "SEAL_PASSWORD", "--on-behalf"], env=ENV)
    assert result.exit_code == 0, result.output
    trust = ["--trust", str(tmp_path / "ca/ca.pem")]

    def codes(*options: str) -> tuple[int, list[tuple[str, str]]]:
        run = runner.invoke(app, ["verify", "--json", *trust, *options, str(signed)])
        found = json.loads(run.stdout)["findings"]
        return run.exit_code, [(f["code"], f["severity"]) for f in found]

    assert codes() == (1, [("sig-identity", "error")])
    assert codes("--integrator", "1460415308") == (0, [("sig-integrator", "warning")])
    assert codes("--any-signer") == (0, [("sig-identity", "warning")])


def test_verify_says_when_the_chain_was_not_checked(tmp_path: Path, corpus: Path) -> None:
    signed = _sign(tmp_path, corpus, _setup(tmp_path, corpus))
    unchecked = runner.invoke(app, ["verify", str(signed)])
    assert unchecked.exit_code == 0, unchecked.output
    assert "sertifika zinciri denetlenmedi: --trust verilmedi" in unchecked.stdout
    assert "certificate chain not checked: no --trust" in unchecked.stdout
    as_json = runner.invoke(app, ["verify", "--json", str(signed)])
    assert json.loads(as_json.stdout)["chain_checked"] is False
    trust = ["--trust", str(tmp_path / "ca/ca.pem")]
    checked = runner.invoke(app, ["verify", *trust, str(signed)])
    assert checked.exit_code == 0 and "not checked" not in checked.stdout
    assert json.loads(runner.invoke(app, ["verify", "--json", *trust, str(signed)]).stdout)[
        "chain_checked"
    ]


def test_validate_knows_the_integrators_from_the_option_and_the_setting(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate`` judges an integrator's seal as the platform does: with its VKN among the
    integrators (``--integrator`` or ``ENTEGRATOR_INTEGRATOR_VKNS``) a warning, else 1176."""
    seal = _setup(tmp_path, corpus, vkn="1460415308")
    signed = tmp_path / "signed.xml"
    args = ["sign", str(corpus / "temel_fatura.xml"), "--p12", str(seal), "-o", str(signed)]
    result = runner.invoke(app, [*args, "--password-env", "SEAL_PASSWORD", "--on-behalf"], env=ENV)
    assert result.exit_code == 0, result.output

    def signer_codes(*options: str, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
        run = runner.invoke(app, ["validate", "--json", "-j", "1", *options, str(signed)], env=env)
        found = json.loads(run.stdout.splitlines()[0])["findings"]
        return run.exit_code, {f"{f['code']}:{f['severity']}" for f in found if "sig-" in f["code"]}

    monkeypatch.delenv("ENTEGRATOR_INTEGRATOR_VKNS", raising=False)
    assert signer_codes() == (1, {"sig-identity:error"})
    assert signer_codes("--integrator", "1460415308") == (0, {"sig-integrator:warning"})
    env = {"ENTEGRATOR_INTEGRATOR_VKNS": "1460415308"}
    assert signer_codes(env=env) == (0, {"sig-integrator:warning"})
    wrong = runner.invoke(app, ["validate", "--integrator", "123", str(signed)])
    assert wrong.exit_code == 2
    assert "SETTING_INVALID" in wrong.output and "10" in wrong.output
