"""Bad input to every command ends with exit code 2, a code, Turkish and English, and the place
at fault (``where``: the option or the file), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from entegrator.cli import app
from entegrator.documents import build_invoice
from tests.documents.factory import draft
from tests.testing.platform import free_port

runner = CliRunner()
PASSWORD = "çok-gizli"
VKN = "9876543217"  # the supplier of the factory draft


@dataclass(frozen=True)
class Files:
    root: Path
    ca: Path
    seal: Path
    password: Path
    wrong_password: Path
    invoice: Path
    not_pem: Path

    @property
    def missing(self) -> Path:
        return self.root / "missing"


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_an_unreadable_integrator_seal_stops_the_start(files: Files, command: str) -> None:
    env = {
        "ENTEGRATOR_DATA_DIR": str(files.root),
        # Unreachable: the seal is read before the database is touched.
        "ENTEGRATOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
        "ENTEGRATOR_INTEGRATOR_SEAL": str(files.seal),
        "ENTEGRATOR_INTEGRATOR_SEAL_PASSWORD_FILE": str(files.wrong_password),
    }
    port = str(free_port())
    args = [command, "--until-idle"] if command == "worker" else [command, "--port", port]
    result = runner.invoke(app, args, env=env)
    _check(result, "INTEGRATOR_SEAL_INVALID", "ENTEGRATOR_INTEGRATOR_SEAL")
    assert str(files.seal) in result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("cli-errors")
    ca, seal = root / "ca", root / "seal.p12"
    assert runner.invoke(app, ["cert", "test-ca", "--out", str(ca)]).exit_code == 0
    (root / "password").write_text(PASSWORD + "\n")
    (root / "wrong").write_text("yanlış\n")
    issued = runner.invoke(
        app,
        [
            "cert",
            "issue",
            "--vkn",
            VKN,
            "--name",
            "Test A.Ş.",
            "--ca",
            str(ca),
            "-o",
            str(seal),
            "--password-file",
            str(root / "password"),
        ],
    )
    assert issued.exit_code == 0, issued.output
    invoice = root / "invoice.xml"
    invoice.write_bytes(build_invoice(draft()))
    (root / "not.pem").write_text("not a certificate\n")
    return Files(root, ca, seal, root / "password", root / "wrong", invoice, root / "not.pem")


Args = Callable[[Files], list[str]]


def _sign(f: Files, *extra: str) -> list[str]:
    return ["sign", str(f.invoice), "--p12", str(f.seal), "-o", str(f.root / "out.xml"), *extra]


def _issue(f: Files, *extra: str) -> list[str]:
    return ["cert", "issue", "--name", "X", "--ca", str(f.ca), "-o", str(f.root / "x.p12"), *extra]


CASES: list[tuple[str, Args, dict[str, str], str, Callable[[Files], str]]] = [
    (
        "sign: unset password variable",
        lambda f: _sign(f, "--password-env", "ENTEGRATOR_TEST_UNSET"),
        {},
        "PASSWORD_MISSING",
        lambda f: "--password-env",
    ),
    (
        "sign: no password option",
        _sign,
        {},
        "PASSWORD_MISSING",
        lambda f: "--password-file",
    ),
    (
        "sign: missing password file",
        lambda f: _sign(f, "--password-file", str(f.missing)),
        {},
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "sign: wrong password",
        lambda f: _sign(f, "--password-file", str(f.wrong_password)),
        {},
        "KEY_FILE_INVALID",
        lambda f: str(f.seal),
    ),
    (
        "sign: missing seal",
        lambda f: (
            [
                "sign",
                str(f.invoice),
                "--p12",
                str(f.missing),
                "-o",
                str(f.root / "o.xml"),
                "--password-file",
                str(f.password),
            ]
        ),
        {},
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "sign: a folder as the document",
        lambda f: (
            [
                "sign",
                str(f.root),
                "--p12",
                str(f.seal),
                "-o",
                str(f.root / "o.xml"),
                "--password-file",
                str(f.password),
            ]
        ),
        {},
        "FILE_UNREADABLE",
        lambda f: str(f.root),
    ),
    (
        "sign: output folder missing",
        lambda f: (
            [
                "sign",
                str(f.invoice),
                "--p12",
                str(f.seal),
                "-o",
                str(f.missing / "o.xml"),
                "--password-file",
                str(f.password),
            ]
        ),
        {},
        "OUTPUT_UNWRITABLE",
        lambda f: str(f.missing / "o.xml"),
    ),
    (
        "verify: missing document",
        lambda f: ["verify", str(f.missing)],
        {},
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "verify: trust file without a certificate",
        lambda f: ["verify", str(f.invoice), "--trust", str(f.not_pem)],
        {},
        "CERTIFICATE_FILE_INVALID",
        lambda f: str(f.not_pem),
    ),
    (
        "cert issue: short VKN",
        lambda f: _issue(f, "--vkn", "12345", "--password-file", str(f.password)),
        {},
        "INVALID_VKN",
        lambda f: "--vkn",
    ),
    (
        "cert issue: unknown key type",
        lambda f: _issue(f, "--vkn", VKN, "--key-type", "dsa", "--password-file", str(f.password)),
        {},
        "INVALID_OPTION",
        lambda f: "--key-type",
    ),
    (
        "cert issue: no test CA",
        lambda f: (
            [
                "cert",
                "issue",
                "--name",
                "X",
                "--ca",
                str(f.missing),
                "--vkn",
                VKN,
                "-o",
                str(f.root / "x.p12"),
                "--password-file",
                str(f.password),
            ]
        ),
        {},
        "FILE_NOT_FOUND",
        lambda f: "--ca",
    ),
    (
        "build: missing draft",
        lambda f: ["build", str(f.missing)],
        {},
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "validate: trust file without a certificate",
        lambda f: ["validate", str(f.invoice), "--trust", str(f.not_pem)],
        {},
        "SETTING_INVALID",
        lambda f: str(f.not_pem),
    ),
    (
        "envelope pack: missing document",
        lambda f: (
            [
                "envelope",
                "pack",
                str(f.missing),
                "--from",
                "urn:mail:a@b",
                "--to",
                "urn:mail:c@d",
                "-o",
                str(f.root / "e.zip"),
            ]
        ),
        {},
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "envelope unpack: not a zip",
        lambda f: ["envelope", "unpack", str(f.invoice), "-o", str(f.root / "u")],
        {},
        "ENVELOPE_INVALID",
        lambda f: str(f.invoice),
    ),
    (
        "db upgrade: no server",
        lambda f: ["db", "upgrade"],
        {"ENTEGRATOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
        "DATABASE_UNAVAILABLE",
        lambda f: "ENTEGRATOR_DATABASE_URL",
    ),
    (
        "db upgrade: not a URL",
        lambda f: ["db", "upgrade"],
        {"ENTEGRATOR_DATABASE_URL": "not a url"},
        "SETTING_INVALID",
        lambda f: "ENTEGRATOR_DATABASE_URL",
    ),
    (
        "tenant create: bad setting",
        lambda f: ["tenant", "create", "--vkn", VKN, "--name", "X"],
        {"ENTEGRATOR_POOL_SIZE": "many"},
        "SETTING_INVALID",
        lambda f: "ENTEGRATOR_POOL_SIZE",
    ),
    (
        "worker: an integrator VKN that is none",
        lambda f: ["worker", "--until-idle"],
        {
            "ENTEGRATOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
            "ENTEGRATOR_INTEGRATOR_VKNS": "1234567890,12345",
        },
        "SETTING_INVALID",
        lambda f: "ENTEGRATOR_INTEGRATOR_VKNS",
    ),
    (
        "tenant create: bad VKN",
        lambda f: ["tenant", "create", "--vkn", "1234567891", "--name", "X"],
        {},
        "INVALID_VKN",
        lambda f: "--vkn",
    ),
    (
        "alias add: bad kind",
        lambda f: ["alias", "add", "--tenant", VKN, "urn:mail:a@b", "--kind", "XX"],
        {},
        "INVALID_ALIAS",
        lambda f: "--kind",
    ),
]

# Commands that reach the database: run on this session's (migrated) test database.
DATABASE_CASES: list[tuple[str, Args, str, Callable[[Files], str]]] = [
    (
        "seal import: missing seal",
        lambda f: (
            ["seal", "import", "--tenant", VKN, str(f.missing), "--password-file", str(f.password)]
        ),
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "seal import: missing password file",
        lambda f: [
            "seal",
            "import",
            "--tenant",
            VKN,
            str(f.seal),
            "--password-file",
            str(f.missing),
        ],
        "FILE_NOT_FOUND",
        lambda f: str(f.missing),
    ),
    (
        "seal import: wrong password",
        lambda f: (
            [
                "seal",
                "import",
                "--tenant",
                VKN,
                str(f.seal),
                "--password-file",
                str(f.wrong_password),
            ]
        ),
        "KEY_FILE_INVALID",
        lambda f: str(f.seal),
    ),
    (
        "seal import: unknown tenant",
        lambda f: (
            [
                "seal",
                "import",
                "--tenant",
                "9999999999",
                str(f.seal),
                "--password-file",
                str(f.password),
            ]
        ),
        "TENANT_NOT_FOUND",
        lambda f: "--tenant",
    ),
    (
        "apikey create: unknown tenant",
        lambda f: ["apikey", "create", "--tenant", "no-such-tenant"],
        "TENANT_NOT_FOUND",
        lambda f: "--tenant",
    ),
]


def _check(result: Result, code: str, where: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert f"hata/error {code} [{where}]" in result.stderr, result.stderr
    assert "TR: " in result.stderr and "EN: " in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "code", "where"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_an_error_not_a_traceback(
    files: Files, args: Args, env: dict[str, str], code: str, where: Callable[[Files], str]
) -> None:
    env = {"ENTEGRATOR_DATA_DIR": str(files.root), **env}
    _check(runner.invoke(app, args(files), env=env), code, where(files))


@pytest.fixture(scope="module")
def database_env(database_url: str, files: Files) -> dict[str, str]:
    env = {"ENTEGRATOR_DATABASE_URL": database_url, "ENTEGRATOR_DATA_DIR": str(files.root)}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    return env


@pytest.mark.parametrize(
    ("args", "code", "where"),
    [case[1:] for case in DATABASE_CASES],
    ids=[case[0] for case in DATABASE_CASES],
)
def test_bad_input_to_platform_commands(
    files: Files,
    database_env: dict[str, str],
    args: Args,
    code: str,
    where: Callable[[Files], str],
) -> None:
    _check(runner.invoke(app, args(files), env=database_env), code, where(files))
