"""``entegrator gib enrol / alias-add / alias-close / cancel / status`` against the simulator:
the commands send USERENVELOPEs signed with the integrator seal and follow GİB's answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testing.gibnet import Installation, Network, network
from tests.testing.platform import new_vkn


@pytest.fixture(scope="module")
def net(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with network(database_url, tmp_path_factory.mktemp("cli-gib")) as n:
        yield n


def _env(inst: Installation) -> dict[str, str]:
    s = inst.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.update(
        ENTEGRATOR_DATABASE_URL=s.database_url or "",
        ENTEGRATOR_DATA_DIR=str(s.data_dir),
        ENTEGRATOR_SECRET_KEY=s.secret_key.get_secret_value() if s.secret_key else "",
        ENTEGRATOR_CACHE_DIR=os.environ.get("ENTEGRATOR_CACHE_DIR", str(s.data_dir)),
        ENTEGRATOR_GIB_URL=s.gib_url or "",
        ENTEGRATOR_GIB_USER_LIST_URL=s.gib_user_list_url or "",
        ENTEGRATOR_GIB_TOKEN=s.gib_token.get_secret_value() if s.gib_token else "",
        ENTEGRATOR_INTEGRATOR_SEAL=str(s.integrator_seal),
        ENTEGRATOR_INTEGRATOR_SEAL_PASSWORD_FILE=str(s.integrator_seal_password_file),
        ENTEGRATOR_GIB_ALIAS_DOMAIN=s.gib_alias_domain,
        ENTEGRATOR_TEST_CA=str(s.test_ca),
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entegrator", "gib", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_enrol_add_close_cancel_from_the_command_line(net: Network, tmp_path: Path) -> None:
    inst = net.installation("cli")
    env = _env(inst)
    vkn = new_vkn()
    inst.tenant(vkn)

    bad = _cli(env, "enrol", "--tenant", vkn, "--alias-pk", "edespatch")
    assert bad.returncode == 2, bad.stderr
    assert "USER_ACCOUNT_INVALID" in bad.stderr and "UserAccountCheck-32" in bad.stderr

    done = _cli(env, "enrol", "--tenant", vkn, "--despatch", "--json")
    assert done.returncode == 0, done.stderr
    requests = json.loads(done.stdout)
    assert sorted((r["service"], r["status"], r["gib_code"]) for r in requests) == [
        ("edespatch", "listed", 1300),
        ("usergb", "listed", 1300),
    ]

    extra = f"urn:mail:ikinci{vkn}@cli.example"
    added = _cli(env, "alias-add", "--tenant", vkn, "--kind", "PK", extra)
    assert added.returncode == 0 and "listed" in added.stdout, added.stderr
    closed = _cli(env, "alias-close", "--tenant", vkn, "--kind", "PK", extra)
    assert closed.returncode == 0 and "listed" in closed.stdout, closed.stderr

    status = json.loads(_cli(env, "status", "--tenant", vkn, "--json").stdout)
    states = {(a["alias"], a["document"]): a["state"] for a in status["aliases"]}
    assert states[(extra, "Invoice")] == "closed"
    assert states[(f"urn:mail:pk{vkn}@cli.example", "DespatchAdvice")] == "active"

    left = _cli(env, "cancel", "--tenant", vkn, "--json")
    assert left.returncode == 0, left.stderr
    assert {r["status"] for r in json.loads(left.stdout)} == {"listed"}
    status = json.loads(_cli(env, "status", "--tenant", vkn, "--json").stdout)
    assert {a["state"] for a in status["aliases"]} == {"closed"}
    again = _cli(env, "cancel", "--tenant", vkn)
    assert again.returncode == 2 and "GIB_NOT_ENROLLED" in again.stderr
