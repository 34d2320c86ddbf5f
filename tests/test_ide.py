"""GraphiQL served from the platform: pinned files, a page that names no other origin, a clear
page when the files are missing, and a real browser with no external network using it."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import uvicorn
from selenium.common.exceptions import TimeoutException
from selenium.webdriver import ActionChains, Chrome, ChromeOptions, Keys
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry.http.ides import get_graphql_ide_html

from service.app import create_app
from service.ide import assets
from service.ide.assets import AssetError, Manifest, Package, fetch
from service.ide.page import IDE_PATH, graphiql_page
from service.settings import Settings

HTML = {"accept": "text/html"}
QUERY = '{ municipality(code: "302015") { name } }'


class _Tags(HTMLParser):
    """The page's <script> and <link> tags, as attribute dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link"):
            self.tags.append(dict(attrs))


def _loaded_files(page: str) -> dict[str, str]:
    """URL -> integrity of every file the page loads (data: URLs aside)."""
    parser = _Tags()
    parser.feed(page)
    loaded = {}
    for attrs in parser.tags:
        url = attrs.get("src") or attrs.get("href")
        if url and not url.startswith("data:"):
            loaded[url] = attrs.get("integrity") or ""
    return loaded


def _sri(data: bytes, algorithm: str = "sha384") -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def test_the_manifest_pins_exactly_what_strawberrys_page_loads() -> None:
    cdn = "https://unpkg.com/"
    loaded = _loaded_files(get_graphql_ide_html("graphiql"))
    assert loaded, "strawberry's GraphiQL page loads no files: has its template changed?"
    assert all(url.startswith(cdn) for url in loaded)
    pinned = Manifest.load().files()
    # Same files, same hashes: the browser checks the page's integrity against our copies.
    assert {url.removeprefix(cdn): sri for url, sri in loaded.items()} == {
        path: sri for path, sri in pinned.items() if path.endswith((".js", ".css"))
    }
    assert any(path.startswith("@graphiql/plugin-explorer@") for path in pinned)


async def test_graphiql_page_loads_its_files_from_the_platform_only(
    client: httpx.AsyncClient, ide_assets: None
) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert "unpkg" not in page
    loaded = _loaded_files(page)
    assert len(loaded) == 7
    # The policy names no other origin: a browser refuses anything not from this server.
    policy = {
        name: sources
        for name, *sources in (
            d.split() for d in response.headers["content-security-policy"].split(";")
        )
    }
    assert policy["default-src"] == ["'none'"]
    self_, *inline = policy["script-src"]  # 'self' and the page's inline script, by hash
    assert self_ == "'self'"
    assert inline
    assert all(source.startswith("'sha256-") for source in inline)
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == policy["font-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    for url, integrity in loaded.items():
        assert url.startswith(IDE_PATH + "/")
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert _sri(asset.content) == integrity, url
        assert "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))


async def test_only_pinned_files_are_served(client: httpx.AsyncClient, ide_assets: None) -> None:
    for path in (
        "react@18.2.0/package.json",  # in the tarball, but not pinned
        "../assets.toml",
        "%2e%2e/page.py",
        "react@18.2.0/umd/react.production.min.js.part",
    ):
        assert (await client.get(f"{IDE_PATH}/{path}")).status_code == 404, path
    assert (await client.get(f"{IDE_PATH}/react@18.2.0/LICENSE")).status_code == 200


async def test_missing_files_give_a_page_that_says_how_to_install_them(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "ASSETS_DIR", tmp_path / "none")
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 503
    assert "python -m service.ide" in response.text
    assert "<script" not in response.text
    asset = await client.get(f"{IDE_PATH}/graphiql@3.8.3/graphiql.min.js")
    assert asset.status_code == 404
    assert "python -m service.ide" in asset.text
    # The API itself is unaffected.
    answer = await client.post("/graphql", json={"query": QUERY})
    assert answer.json() == {"data": {"municipality": {"name": "和歌山市"}}}


def test_a_page_that_loads_an_unpinned_file_is_not_served_half_working(ide_assets: None) -> None:
    template = get_graphql_ide_html("graphiql").replace("graphiql@3.8.3", "graphiql@9.9.9")
    request = Request({"type": "http", "method": "GET", "path": "/graphql", "headers": []})
    response = graphiql_page(request, template)
    assert response.status_code == 503
    assert b"https://unpkg.com/graphiql@9.9.9/graphiql.min" in response.body
    assert b"assets.toml" in response.body


# -- the fetcher, on a registry in a folder (file:// URLs), so that no test needs the network


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _registry(tmp_path: Path, tarball: bytes) -> str:
    folder = tmp_path / "registry" / "@scope" / "tool" / "-"
    folder.mkdir(parents=True)
    (folder / "tool-1.0.0.tgz").write_bytes(tarball)
    return (tmp_path / "registry").as_uri()


SCRIPT = b"window.tool = 1;\n"


def _manifest(tarball: bytes, script_sri: str | None = None) -> Manifest:
    files = {"dist/tool.min.js": script_sri or _sri(SCRIPT)}
    return Manifest("unused", (Package("@scope/tool", "1.0.0", _sri(tarball, "sha512"), files),))


def test_fetch_installs_only_the_listed_files_and_then_downloads_nothing(tmp_path: Path) -> None:
    tarball = _tarball({"dist/tool.min.js": SCRIPT, "dist/other.js": b"no"})
    manifest, target = _manifest(tarball), tmp_path / "assets"
    assert fetch(manifest, target, _registry(tmp_path, tarball)) == 1
    installed = [p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()]
    assert installed == ["@scope/tool@1.0.0/dist/tool.min.js"]
    assert (target / installed[0]).read_bytes() == SCRIPT
    # Verified files are not downloaded again (this registry does not exist).
    assert fetch(manifest, target, (tmp_path / "nowhere").as_uri()) == 0
    # A changed file is.
    (target / installed[0]).write_bytes(b"window.tool = 'tampered';")
    assert fetch(manifest, target, _registry(tmp_path / "again", tarball)) == 1
    assert (target / installed[0]).read_bytes() == SCRIPT


def test_fetch_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    tarball = _tarball({"dist/tool.min.js": SCRIPT})
    other = _tarball({"dist/tool.min.js": b"window.tool = 'evil';"})
    target = tmp_path / "assets"
    with pytest.raises(AssetError, match="does not match the integrity pinned for @scope/tool"):
        fetch(_manifest(tarball), target, _registry(tmp_path, other))
    assert not target.exists()


def test_fetch_refuses_a_file_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    tarball = _tarball({"dist/tool.min.js": SCRIPT})
    target = tmp_path / "assets"
    with pytest.raises(AssetError, match=r"dist/tool.min.js does not match its pinned hash"):
        fetch(_manifest(tarball, _sri(b"other")), target, _registry(tmp_path, tarball))
    assert not target.exists()


def test_fetch_names_an_unreachable_registry(tmp_path: Path) -> None:
    tarball = _tarball({"dist/tool.min.js": SCRIPT})
    with pytest.raises(AssetError, match=r"cannot download file://.*tool-1\.0\.0\.tgz"):
        fetch(_manifest(tarball), tmp_path / "assets", (tmp_path / "nowhere").as_uri())


# -- a real browser, with every host but this machine's loopback out of reach

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    # Every name resolves to nothing and every proxied request goes to a closed port;
    # 127.0.0.1 is neither resolved nor proxied (Chromium never proxies loopback).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
]


def _install_chromium() -> str | None:
    """Install Debian's chromium and chromium-driver when missing; the reason when that fails."""
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return None
    if shutil.which("apt-get") is None:
        return "chromium is not installed and there is no apt-get to install it"
    if os.geteuid() != 0:
        return "chromium is not installed, and installing it with apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    install += ["chromium", "chromium-driver"]
    result = None
    # Try the machine's package lists first; refresh them only when that fails.
    for command in (install, ["apt-get", "update", "-q"], install):
        try:
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` did not finish in 15 minutes"
        if command is install and result.returncode == 0:
            return None
    assert result is not None
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
    return f"`apt-get install chromium chromium-driver` failed: {' '.join(tail)}"


@pytest.fixture(scope="session")
def chromium() -> None:
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(f"headless Chromium is not available: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(
    database_url: str, engine: AsyncEngine, settings: Settings, ide_assets: None
) -> Iterator[str]:
    """uvicorn on the suite's (migrated, seeded) database, in a thread of its own."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, database_url=database_url),
        host="127.0.0.1",
        port=port,
        ws="none",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[WebDriver]:
    options = ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*OFFLINE, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The system's chromedriver: Selenium must not look for (or download) one of its own.
    driver = Chrome(options=options, service=ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def test_graphiql_answers_a_typed_query_with_no_external_network(
    live_server: str, browser: WebDriver
) -> None:
    wait = WebDriverWait(browser, 20)
    browser.get(f"{live_server}/graphql")
    editor = None
    with contextlib.suppress(TimeoutException):
        editor = wait.until(
            expected_conditions.element_to_be_clickable(
                (By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror")
            )
        )
    if editor is None:  # strawberry's own page offline: "Loading..." for good
        shown = browser.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"GraphiQL did not start; the page shows {shown[:300]!r}")
    editor.click()
    keys = ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    keys.send_keys(Keys.DELETE).send_keys(QUERY).perform()
    typed = browser.execute_script(
        "return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
    )
    assert " ".join(typed.split()) == QUERY  # the editor closes brackets as one types

    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    result = browser.find_element(By.CSS_SELECTOR, ".graphiql-response")
    wait.until(lambda _: "和歌山市" in result.text)

    # The explorer plugin is there and knows the schema.
    browser.find_element(By.CSS_SELECTOR, "[aria-label='Show GraphiQL Explorer']").click()
    explorer = wait.until(
        expected_conditions.visibility_of_element_located(
            (By.CSS_SELECTOR, ".graphiql-explorer-root")
        )
    )
    wait.until(lambda _: "municipalities" in explorer.text)

    # Every request the browser made over the network went to this server (chrome:// pages
    # of the browser itself and data: URLs aside).
    requested = {
        event["params"]["request"]["url"]
        for entry in browser.get_log("performance")
        if (event := json.loads(entry["message"])["message"])["method"]
        == "Network.requestWillBeSent"
    }
    assert f"{live_server}{IDE_PATH}/graphiql@3.8.3/graphiql.min.js" in requested
    networked = {url for url in requested if url.split(":", 1)[0] in ("http", "https", "ws", "wss")}
    assert {url for url in networked if not url.startswith(live_server + "/")} == set()
    # No refused file, no policy violation, no script error.
    assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
