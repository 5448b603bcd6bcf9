"""Settings: flags > environment (CLOUDGATE_*) > config file (TOML) > defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path.home() / ".cloudgate"


@dataclass
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    native_port: int = 8080
    ec2_port: int = 8788
    s3_port: int = 8789
    # The instance metadata service (metadata_api): its port, its bind address (empty: the
    # `host` setting), how it tells which VM asks ("source-ip", or "header" to also accept
    # X-Cloudgate-Vm-Ip from 127.0.0.1 in simulator set-ups), IMDSv2's HttpTokens, and the
    # key IMDSv2 tokens are signed with (servers of one cluster must share it).
    metadata_port: int = 8790
    metadata_host: str = ""
    metadata_identify_by: str = "source-ip"
    metadata_http_tokens: str = "optional"
    metadata_token_secret: str = ""  # empty: a random key kept in the data directory
    database_url: str = ""
    object_store: str = "local"
    swift_auth_url: str = ""
    swift_user: str = ""
    swift_key: str = ""
    region: str = "cloudgate"
    s3_domain: str = ""
    # PEM certificate (chain) and private key: when both are set the S3 listener speaks HTTPS.
    s3_tls_certfile: str = ""
    s3_tls_keyfile: str = ""
    job_workers: int = 16
    log_level: str = "info"
    admin_api_key: str = ""
    admin_secret_key: str = ""
    demo_zone: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cloudgate.db'}"

    @property
    def s3_scheme(self) -> str:
        """`https` when the S3 listener has a certificate; half a pair is refused at start."""
        if bool(self.s3_tls_certfile) != bool(self.s3_tls_keyfile):
            raise ValueError("s3_tls_certfile and s3_tls_keyfile must be given together")
        return "https" if self.s3_tls_certfile else "http"


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind in ("int", int):
        return int(value)
    if kind in ("bool", bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if kind in ("Path", Path):
        return Path(value).expanduser()
    return value


def load_settings(
    flags: dict[str, Any], *, config_file: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Merge the sources; `flags` holds only the options given on the command line."""
    environ = dict(os.environ if environ is None else environ)
    names = [f.name for f in fields(Settings) if f.name != "extra"]
    merged: dict[str, Any] = {}
    data_dir = flags.get("data_dir") or environ.get("CLOUDGATE_DATA_DIR") or DEFAULT_DATA_DIR
    config_path = (
        config_file
        or (Path(environ["CLOUDGATE_CONFIG"]) if environ.get("CLOUDGATE_CONFIG") else None)
        or Path(data_dir).expanduser() / "cloudgate.toml"
    )
    if config_path.is_file():
        with config_path.open("rb") as handle:
            from_file = tomllib.load(handle)
        unknown = set(from_file) - set(names)
        if unknown:
            raise ValueError(f"{config_path}: unknown settings {sorted(unknown)}")
        merged.update(from_file)
    for name in names:
        env_value = environ.get(f"CLOUDGATE_{name.upper()}")
        if env_value is not None and env_value != "":
            merged[name] = env_value
    merged.update({k: v for k, v in flags.items() if v is not None})
    return Settings(**{name: _coerce(name, value) for name, value in merged.items()})
