"""`semgate up` as a user runs it: the shipped config (bundled SmolLM2 backend behind the
gateway, cache on), and the README's own snippet run unchanged but for the port."""

import re
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from loadtest.services import Services, free_port, stop

REPO = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8080/v1"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def readme_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    [snippet] = [b for b in blocks if "What is the capital of France?" in b]
    assert README_URL in snippet
    return snippet


def start_up(services: Services, folder: Path) -> tuple[str, str]:
    """`semgate up` on the shipped config/gateway.yaml, on free ports with its store in `folder`;
    returns the gateway's and the backend's base URLs."""
    gateway_port, backend_port = free_port(), free_port()
    config = (REPO / "config" / "gateway.yaml").read_text()
    for shipped, ours in [("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{gateway_port}"),
                          ("port: 8001", f"port: {backend_port}"),
                          ("store: var/semgate.db", f"store: {folder / 'semgate.db'}")]:
        assert shipped in config
        config = config.replace(shipped, ours)
    (folder / "gateway.yaml").write_text(config)
    url = services.start("up", ["gateway", "up", "--config", str(folder / "gateway.yaml")], gateway_port,
                         ready_timeout_s=600, cwd=REPO)
    return url, f"http://127.0.0.1:{backend_port}"


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("up")
    with Services(tmp / "logs") as services:
        url, _ = start_up(services, tmp)
        yield f"{url}/v1"


def test_the_readme_snippet_gets_paris_from_the_backend_and_the_cache_keeps_it(up):
    run = subprocess.run([sys.executable, "-c", readme_snippet().replace(README_URL, up)],
                         capture_output=True, text=True, timeout=300, check=True)
    assert "Paris" in run.stdout
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")
    again = client.chat.completions.with_raw_response.create(model="smollm2-135m", messages=QUESTION)
    assert again.headers["x-semgate-cache"] == "hit"  # the backend's answer finished and was stored
    assert again.parse().choices[0].message.content == run.stdout.rstrip("\n")


def test_streaming_through_the_gateway_to_the_backend_gets_paris(up):
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2-135m", messages=QUESTION, stream=True, extra_headers={"cache-control": "no-cache"})
    assert raw.headers["x-semgate-cache"] == "bypass"  # answered by the backend, not replayed
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_sigterm_stops_the_backend_with_the_gateway(tmp_path):
    with Services(tmp_path / "logs") as services:
        _, backend = start_up(services, tmp_path)
        assert httpx.get(f"{backend}/healthz").status_code == 200
        process = services.processes[-1]
        stop(process)  # SIGTERM, as systemd or `docker stop` send it
        assert process.returncode == 128 + 15
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{backend}/healthz")
