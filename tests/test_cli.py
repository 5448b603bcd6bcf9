"""The `cloudgate` command's operator chores and its settings precedence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudgate.config import load_settings


def cloudgate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudgate", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_settings_precedence_flags_env_file_defaults(tmp_path: Path) -> None:
    (tmp_path / "cloudgate.toml").write_text('ec2_port = 1001\ns3_port = 1002\nregion = "file"\n')
    environ = {"CLOUDGATE_DATA_DIR": str(tmp_path), "CLOUDGATE_S3_PORT": "2002"}
    settings = load_settings({"region": "flag"}, environ=environ)
    assert settings.ec2_port == 1001  # file
    assert settings.s3_port == 2002  # environment beats file
    assert settings.region == "flag"  # flag beats both
    assert settings.native_port == 8080  # default
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'cloudgate.db'}"


def test_unknown_setting_in_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cloudgate.toml").write_text("ec2_prot = 1\n")
    with pytest.raises(ValueError, match="ec2_prot"):
        load_settings({}, environ={"CLOUDGATE_DATA_DIR": str(tmp_path)})


def test_db_upgrade_user_create_keys_and_env(tmp_path: Path) -> None:
    upgraded = cloudgate("db", "upgrade", "--data-dir", str(tmp_path))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout

    # users need the ROOT domain, which the first `serve` creates
    refused = cloudgate(
        "user",
        "create",
        "--data-dir",
        str(tmp_path),
        "--account",
        "a",
        "--username",
        "u",
        "--password",
        "p",
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr

    from core.bootstrap import bootstrap
    from core.db import Database

    database = Database(f"sqlite:///{tmp_path / 'cloudgate.db'}")
    with database.write() as session:
        bootstrap(session, admin_api_key="k" * 20, admin_secret_key="s" * 20)
    database.dispose()

    created = cloudgate(
        "user",
        "create",
        "--data-dir",
        str(tmp_path),
        "--account",
        "acme",
        "--username",
        "alice",
        "--password",
        "pw",
    )
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    assert keys["username"] == "alice" and len(keys["apikey"]) > 40
    again = json.loads(
        cloudgate("user", "keys", "--data-dir", str(tmp_path), "--username", "alice").stdout
    )
    assert again == keys

    exports = cloudgate("env", "--data-dir", str(tmp_path), "--ec2-port", "9999").stdout
    assert "export AWS_ACCESS_KEY_ID='" + "k" * 20 + "'" in exports
    assert "export AWS_ENDPOINT_URL_EC2='http://127.0.0.1:9999'" in exports
    assert "export CLOUDSTACK_ENDPOINT='http://127.0.0.1:8080/client/api'" in exports
