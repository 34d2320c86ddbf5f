"""The IDE's pinned npm files: the manifest (assets.toml), and a fetcher that installs them.

Standard library only, so that `python -m service.ide` runs on a machine that has nothing but
Python (before the package's dependencies are installed, in a container build for instance).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import tarfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST_PATH = HERE / "assets.toml"
# Beside the code, so that an editable install (the scripts) and a non-editable one (the
# container image, fetched at build time) both find the files where the package is.
ASSETS_DIR = HERE / "assets"
DOWNLOAD_TIMEOUT_SECONDS = 60


class AssetError(Exception):
    """A file could not be installed; the message says which and why."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # SRI of the tarball, as the npm registry publishes it
    files: dict[str, str]  # path inside the package -> SRI of that file

    def url_path(self, file: str) -> str:
        """Where the file is served below the IDE's prefix: unpkg's layout, NAME@VERSION/FILE."""
        return f"{self.name}@{self.version}/{file}"

    def tarball_url(self, registry: str) -> str:
        # The npm registry's layout, also that of its mirrors: @scope/name/-/name-1.0.0.tgz.
        basename = self.name.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.name}/-/{basename}-{self.version}.tgz"


@dataclass(frozen=True)
class Manifest:
    registry: str
    packages: tuple[Package, ...]

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH) -> Manifest:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        packages = tuple(
            Package(p["name"], p["version"], p["integrity"], dict(p["files"]))
            for p in data["package"]
        )
        return cls(data["registry"], packages)

    def files(self) -> dict[str, str]:
        """Every served file: url path -> SRI."""
        return {
            package.url_path(file): sri
            for package in self.packages
            for file, sri in package.files.items()
        }

    def missing(self, directory: Path = ASSETS_DIR) -> list[str]:
        """The url paths whose file is not installed (a cheap check, no hashing)."""
        return [path for path in self.files() if not (directory / path).is_file()]


def sri_matches(data: bytes, sri: str) -> bool:
    algorithm, _, expected = sri.partition("-")
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise AssetError(f"unsupported integrity algorithm in {sri!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    return hmac.compare_digest(actual, expected)


def _installed(package: Package, directory: Path) -> bool:
    for file, sri in package.files.items():
        path = directory / package.url_path(file)
        if not path.is_file() or not sri_matches(path.read_bytes(), sri):
            return False
    return True


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AssetError(f"cannot download {url}: {reason}") from exc


def _extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The package's listed files from its tarball, each checked against its hash."""
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            # npm tarballs hold one top folder (usually "package/"); paths are relative to it.
            members = {
                member.name.split("/", 1)[1]: member
                for member in archive.getmembers()
                if member.isfile() and "/" in member.name
            }
            contents: dict[str, bytes] = {}
            for file in package.files:
                member = members.get(file)
                extracted = archive.extractfile(member) if member is not None else None
                if extracted is None:
                    raise AssetError(f"{package.name}@{package.version} has no file {file!r}")
                contents[file] = extracted.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise AssetError(f"{package.name}@{package.version}: unreadable tarball ({exc})") from exc
    for file, data in contents.items():
        if not sri_matches(data, package.files[file]):
            raise AssetError(
                f"{package.name}@{package.version}/{file} does not match its pinned hash"
            )
    return contents


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)  # a reader never sees half a file


def fetch(
    manifest: Manifest | None = None,
    directory: Path = ASSETS_DIR,
    registry: str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> int:
    """Install the manifest's files into ``directory``; returns how many packages were
    downloaded (none when every file is already there and matches its hash)."""
    manifest = manifest or Manifest.load()
    registry = registry or manifest.registry
    downloaded = 0
    for package in manifest.packages:
        if _installed(package, directory):
            continue
        url = package.tarball_url(registry)
        log(f"downloading {url}")
        tarball = _download(url)
        if not sri_matches(tarball, package.integrity):
            raise AssetError(
                f"{url} does not match the integrity pinned for {package.name}@"
                f"{package.version}; nothing of it was installed"
            )
        for file, data in _extract(package, tarball).items():
            _write(directory / package.url_path(file), data)
        downloaded += 1
    return downloaded
