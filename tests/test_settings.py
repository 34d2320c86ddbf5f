"""Settings that touch the disk or the database logins: the data directory, kept secrets, and
the runtime login's name and password."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from service import settings as settings_module
from service.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    default_data_dir,
    kept_secret,
    writable_data_dir,
)


def test_a_checkout_keeps_its_data_in_its_own_dxlink_directory() -> None:
    assert default_data_dir() == REPO_ROOT / ".dxlink"


def test_an_installed_package_keeps_its_data_in_the_users_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed (no pyproject.toml next to the code), the package's own directory is no place
    for data: its user usually cannot write it (the container image's crash)."""
    monkeypatch.setattr(settings_module, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert default_data_dir() == tmp_path / "share" / "dxlink"
    assert Settings().data_dir == tmp_path / "share" / "dxlink"


def test_a_data_directory_that_cannot_be_written_is_refused_naming_the_setting(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings(data_dir=blocker / "data")
    with pytest.raises(SettingsError, match="set DXLINK_DATA_DIR to a directory") as refused:
        writable_data_dir(settings)
    assert str(blocker / "data") in str(refused.value)
    with pytest.raises(SettingsError, match="DXLINK_DATA_DIR"):
        kept_secret(settings, "jwt-secret")


def test_a_kept_secret_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    secret = kept_secret(settings, "db-runtime-password")
    assert len(secret) >= 32
    path = tmp_path / "data" / "db-runtime-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kept_secret(settings, "db-runtime-password") == secret
    assert [p.name for p in path.parent.iterdir()] == ["db-runtime-password"]  # no leftovers


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DXLINK_DB_RUNTIME_USER", "Dxlink-App", "DXLINK_DB_RUNTIME_USER must be"),
        ("DXLINK_DB_RUNTIME_USER", 'app"; DROP ROLE x; --', "DXLINK_DB_RUNTIME_USER must be"),
        ("DXLINK_DB_RUNTIME_PASSWORD", "short", "at least 16 printable ASCII"),
        ("DXLINK_DB_RUNTIME_PASSWORD", "with spaces in the middle", "at least 16 printable"),
        ("DXLINK_DB_RUNTIME_PASSWORD", "パスワードパスワードパスワードパス", "printable ASCII"),
    ],
)
def test_runtime_login_settings_are_checked(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_an_empty_runtime_password_means_generate_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker-compose passes ``${DXLINK_DB_RUNTIME_PASSWORD:-}`` through as an empty string."""
    monkeypatch.setenv("DXLINK_DB_RUNTIME_PASSWORD", "")
    assert Settings().db_runtime_password is None
    monkeypatch.setenv("DXLINK_DB_RUNTIME_PASSWORD", "x" * 16)
    password = Settings().db_runtime_password
    assert password is not None
    assert password.get_secret_value() == "x" * 16


def test_an_invalid_setting_stops_a_command_with_its_name_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.cli import main
    from service.settings import get_settings

    monkeypatch.setenv("DXLINK_PORT", "abc")
    monkeypatch.setenv("DXLINK_MAX_FIELDS", "0")
    monkeypatch.setenv("DXLINK_DB_RUNTIME_PASSWORD", "short\u00e9")
    get_settings.cache_clear()
    try:
        assert main(["export-schema", "-o", "-"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "dxlink: DXLINK_PORT: Input should be a valid integer" in err
    assert "(got 'abc')" in err
    assert "dxlink: DXLINK_MAX_FIELDS: Input should be greater than or equal to 1" in err
    assert "DXLINK_DB_RUNTIME_PASSWORD" in err
    assert "short" not in err  # a secret is never echoed
    assert "Traceback" not in err
