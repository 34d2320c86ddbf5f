"""`python -m service.ide`: install the IDE's pinned files (quick when they are already there)."""

from __future__ import annotations

import argparse
import sys

from service.ide.assets import ASSETS_DIR, AssetError, Manifest, fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.ide",
        description="Download GraphiQL's pinned files from the npm registry, check their "
        "hashes and install them where the service serves them from.",
    )
    parser.add_argument(
        "--registry",
        help="an npm registry or mirror to download from (default: the manifest's, "
        "registry.npmjs.org); the pinned hashes are checked whatever the source",
    )
    args = parser.parse_args(argv)
    manifest = Manifest.load()
    try:
        downloaded = fetch(manifest, ASSETS_DIR, args.registry, log=print)
    except AssetError as exc:
        print(f"GraphiQL's files were not installed: {exc}", file=sys.stderr)
        return 1
    state = f"{downloaded} package(s) downloaded" if downloaded else "already installed"
    print(f"GraphiQL's files in {ASSETS_DIR}: {state}, hashes checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
