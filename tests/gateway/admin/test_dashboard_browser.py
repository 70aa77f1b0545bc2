"""The dashboard in real headless Chromium (Debian's chromium + chromedriver, which .ci/run
installs), driven over chromedriver's W3C WebDriver HTTP API against a gateway with traffic.

Screenshots are saved under artifacts/test/ for a person to look at.
"""

import base64
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from gateway_setup import gateway_yaml
from loopback import free_port

from gateway.app import build_app
from gateway.config import parse_config
from gateway.observe.stats import Timeline

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "test"
TOKEN = "dashboard-test-admin-token"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element reference key
POLICY = """\
defaults:
  similarity_threshold: 0.9
  verify: false
  ttl_seconds: 3600
categories:
  - name: code
    keywords: [python, javascript]
    similarity_threshold: 0.86
    adaptive: {min_similarity: 0.8}
  - name: geography
    keywords: [capital, river]
  - name: default
"""

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium); "
                                       "CI installs them in .ci/run")


class Browser:
    """Just the WebDriver calls this test needs."""

    def __init__(self, driver_url: str, profile: Path) -> None:
        self.http = httpx.Client(base_url=driver_url, timeout=60)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1440,2200", "--hide-scrollbars"]
        caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": str(CHROMIUM), "args": args}}
        self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(method, path, json=body)
        value = response.json()["value"]
        if response.status_code != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {value}")
        return value

    def _session(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        return self._session("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css: str, text: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css: str) -> str:
        return self._session("GET", f"/element/{self.find(css)}/text")

    def enabled(self, css: str) -> bool:
        return self._session("GET", f"/element/{self.find(css)}/enabled")

    def run(self, script: str, *args):
        return self._session("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, condition, what: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = condition()
                if result:
                    return result
            except RuntimeError:  # the element is not there yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._session("GET", "/screenshot")))

    def close(self) -> None:
        self._call("DELETE", f"/session/{self.session}")
        self.http.close()


@pytest.fixture
def browser(tmp_path):
    port = free_port()
    driver = subprocess.Popen([str(CHROMEDRIVER), f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/status", timeout=1).json()["value"]["ready"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or driver.poll() is not None:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        session = Browser(url, tmp_path / "chromium-profile")
        try:
            yield session
        finally:
            session.close()
    finally:
        driver.terminate()
        driver.wait(timeout=10)
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


@pytest.fixture
def dashboard_gateway(serve, echo, embedding_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SEMGATE_DASHBOARD_TEST_TOKEN", TOKEN)
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICY)
    text = gateway_yaml(echo.url, "admin: {token_env: SEMGATE_DASHBOARD_TEST_TOKEN}", store=str(tmp_path / "c.db"))
    config = parse_config(text.replace("policies: config/policies.yaml", f"policies: '{policies}'"), "dash.yaml")
    return serve(build_app(config, embedding_model)).url


def ask(url: str, content: str) -> str:
    response = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                          json={"model": "echo-1", "messages": [{"role": "user", "content": content}]})
    return response.headers["x-semgate-cache"]


def admin_get(url: str, path: str) -> dict:
    return httpx.get(f"{url}/admin/v1{path}", headers={"authorization": f"Bearer {TOKEN}"}).json()


def set_policy_text(browser: Browser, text: str) -> None:
    # Typing 400 characters key by key is slow and proves nothing more than an input event does.
    browser.run("const t = document.getElementById('policy-text'); t.value = arguments[0];"
                "t.dispatchEvent(new Event('input'));", text)


def test_dashboard_shows_live_figures_and_edits_the_policy(dashboard_gateway, browser):
    url = dashboard_gateway
    assert [ask(url, q) for q in ("How do I reverse a list in Python?", "How do I reverse a list in Python?",
                                  "how can I reverse a python list", "What is the capital of France?",
                                  "Which river flows through Paris?")] == ["miss", "hit", "hit", "miss", "miss"]

    browser.open(f"{url}/dashboard")
    browser.type("#token-input", "wrong-token")
    browser.click("#token-submit")
    browser.wait(lambda: "Incorrect admin token" in browser.text("#login-error"), "the refused token's message")
    browser.type("#token-input", TOKEN)
    browser.click("#token-submit")
    browser.wait(lambda: browser.text("#stat-requests") not in ("", "–"), "the first stats")

    stats = admin_get(url, "/stats")
    assert browser.text("#stat-requests") == str(stats["requests"]) == "5"
    assert browser.text("#stat-hit-rate") == f"{stats['hit_rate'] * 100:.1f}%" == "40.0%"
    assert browser.text("#stat-tokens-saved") == f"{stats['tokens_saved']['total']:,}"
    assert browser.text("#stat-entries") == str(stats["entries"]["total"])
    categories = browser.text("#category-table")
    assert "code" in categories and "66.7%" in categories and "0.860" in categories
    assert "How do I reverse a list in Python?" in browser.text("#top-entries")
    assert browser.text("#route-table tbody").split()[:4] == ["chat", "5", "2", "3"]  # requests, hits, misses
    assert "ok" in browser.text("#upstreams-table")
    assert browser.text("#policy-version") == "version 1"
    assert browser.run("return document.getElementById('policy-text').value") == POLICY
    # The chart drew: some pixels of the canvas are not transparent.
    assert browser.run("const c = document.getElementById('hitrate-chart');"
                       "return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v > 0);")

    ask(url, "How do I reverse a list in Python?")  # live refresh: the page follows within a poll or two
    browser.wait(lambda: browser.text("#stat-requests") == "6", "the live refresh")
    assert browser.text("#stat-hit-rate") == "50.0%"
    browser.screenshot(ARTIFACTS / "dashboard.png")

    set_policy_text(browser, POLICY.replace("similarity_threshold: 0.86", "similarity_threshold: 1.5"))
    assert not browser.enabled("#policy-apply")
    browser.click("#policy-validate")
    errors = browser.wait(lambda: browser.text("#policy-errors"), "the validation errors")
    assert "line 8:27" in errors and "categories.code.similarity_threshold" in errors
    assert not browser.enabled("#policy-apply")
    assert admin_get(url, "/policies")["version"] == 1
    browser.screenshot(ARTIFACTS / "dashboard-policy-error.png")

    set_policy_text(browser, POLICY.replace("similarity_threshold: 0.86", "similarity_threshold: 0.88"))
    browser.click("#policy-validate")
    browser.wait(lambda: browser.enabled("#policy-apply"), "Apply to be allowed")
    assert browser.text("#policy-errors") == ""
    browser.click("#policy-apply")
    browser.wait(lambda: browser.text("#policy-version") == "version 2", "the new version")
    assert "Applied: version 2 is in force." in browser.text("#policy-status")
    assert admin_get(url, "/stats")["effective"]["code"]["similarity_threshold"] == 0.88
    browser.wait(lambda: "0.880" in browser.text("#category-table"), "the new threshold in the table")
    browser.screenshot(ARTIFACTS / "dashboard-policy-applied.png")


def test_the_hit_rate_chart_shows_a_quiet_stretch_as_a_gap(serve, echo, embedding_model, tmp_path, monkeypatch,
                                                            browser):
    """The chart once drew a straight line from the last busy bucket to the next, across minutes
    without traffic. Now the stretch between two bursts is empty: the "all traffic" line's columns
    come in two runs with no line between them."""
    monkeypatch.setenv("SEMGATE_DASHBOARD_TEST_TOKEN", TOKEN)
    text = gateway_yaml(echo.url, "admin: {token_env: SEMGATE_DASHBOARD_TEST_TOKEN}", store=str(tmp_path / "c.db"))
    app = build_app(parse_config(text, "dash.yaml"), embedding_model)
    app.state.stats.timeline = Timeline(bucket_s=1.0)  # 1 s buckets: a gap of seconds, not minutes, to wait for
    url = serve(app).url
    questions = ("How do I reverse a list in Python?", "What is the capital of France?")
    assert [ask(url, q) for q in questions] == ["miss", "miss"]
    time.sleep(6)  # six quiet buckets
    assert [ask(url, q) for q in questions] == ["hit", "hit"]

    browser.open(f"{url}/dashboard")
    browser.type("#token-input", TOKEN)
    browser.click("#token-submit")
    browser.wait(lambda: browser.text("#stat-requests") == "4", "the stats")
    # Columns of the canvas holding the "all traffic" line's colour (#1d2430), left to right.
    columns = browser.wait(lambda: browser.run("""
        const c = document.getElementById('hitrate-chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const found = new Set();
        for (let i = 0; i < d.length; i += 4) {
          const near = Math.abs(d[i] - 0x1d) + Math.abs(d[i + 1] - 0x24) + Math.abs(d[i + 2] - 0x30) < 40;
          if (near && d[i + 3] > 200) found.add((i / 4) % c.width);
        }
        return [...found].sort((a, b) => a - b);"""), "the chart")
    browser.screenshot(ARTIFACTS / "dashboard-chart-gap.png")
    widest_gap = max(b - a for a, b in zip(columns, columns[1:]))
    dpr_width = browser.run("return document.getElementById('hitrate-chart').width")
    assert widest_gap > dpr_width / 60 * 4  # at least 4 of the 6 quiet seconds on a 60 s axis are empty
