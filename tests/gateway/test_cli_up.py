"""`semgate up` as a user runs it: the shipped config (bundled SmolLM2 backend behind the
gateway, cache on), and the README's own snippet run unchanged but for the port."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import anthropic
import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from gateway.cpu_share import NICE_BESIDE_BACKEND
from gateway.port_holder import listeners
from loadtest.services import Services, free_port, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8080/v1"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
PARIS = [{"role": "user", "content": "Tell me about Paris as JSON."}]
DEFAULT_BOUND = 48  # the backend's --default-max-tokens in these tests (512 unless told)


def readme_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    [snippet] = [b for b in blocks if "What is the capital of France?" in b]
    assert README_URL in snippet
    return snippet


def write_config(folder: Path) -> tuple[Path, int, int]:
    """The shipped config/gateway.yaml on free ports with its store in `folder`; returns its path
    and the gateway's and the backend's ports."""
    gateway_port, backend_port = free_port(), free_port()
    config = (REPO / "config" / "gateway.yaml").read_text()
    for shipped, ours in [("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{gateway_port}"),
                          ("port: 8001", f"port: {backend_port}"),
                          ("store: var/semgate.db", f"store: {folder / 'semgate.db'}")]:
        assert shipped in config
        config = config.replace(shipped, ours)
    (folder / "gateway.yaml").write_text(config)
    return folder / "gateway.yaml", gateway_port, backend_port


def start_up(services: Services, folder: Path, backend_args: list[str] = ()) -> tuple[str, str]:
    """`semgate up` on the shipped config (write_config) with `backend_args` for the backend (its
    `extra_args`); returns the gateway's and the backend's base URLs."""
    path, gateway_port, backend_port = write_config(folder)
    if backend_args:
        config = path.read_text().replace(f"port: {backend_port}\n",
                                          f"port: {backend_port}\n  extra_args: {json.dumps(list(backend_args))}\n")
        path.write_text(config)
    url = services.start("up", ["gateway", "up", "--config", str(path)], gateway_port, ready_timeout_s=600, cwd=REPO)
    return url, f"http://127.0.0.1:{backend_port}"


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("up")
    with Services(tmp / "logs") as services:
        url, _ = start_up(services, tmp, backend_args=["--default-max-tokens", str(DEFAULT_BOUND)])
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


class City(BaseModel):
    name: str
    country: str
    # SmolLM2 runs an unbounded integer on digit after digit (docs/backend.md): an enum instead.
    continent: Literal["Africa", "America", "Asia", "Europe", "Oceania"]


WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def test_sdk_structured_output_and_tool_calls_through_the_gateway(up):
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")
    parsed = client.chat.completions.parse(model="smollm2-135m", messages=PARIS, response_format=City,
                                           temperature=0, max_tokens=60)
    assert isinstance(parsed.choices[0].message.parsed, City)
    ask = dict(model="smollm2-135m", messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=[WEATHER],
               tool_choice="required", parallel_tool_calls=False, temperature=0, max_tokens=30)
    for _ in range(2):  # the shipped policies cache no tool calls: the repeat is the backend's again
        raw = client.chat.completions.with_raw_response.create(**ask)
        assert raw.headers["x-semgate-cache"] == "store-skipped"
        [call] = raw.parse().choices[0].message.tool_calls
        jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])
    chunks = list(client.chat.completions.create(**ask, stream=True))
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or ()]
    arguments = "".join(d.function.arguments or "" for d in deltas)
    jsonschema.validate(json.loads(arguments), WEATHER["function"]["parameters"])
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_responses_api_through_the_gateway_to_the_backend_misses_then_hits(up):
    """The bundled backend serves chat only: the gateway translates the Responses API both ways."""
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")
    ask = dict(model="smollm2-135m", input="What is the capital of France?", max_output_tokens=32, temperature=0)
    first = client.responses.with_raw_response.create(**ask)
    assert first.headers["x-semgate-cache"] == "miss"
    text = first.parse().output_text
    assert "Paris" in text
    with client.responses.stream(**ask) as stream:  # the hit, replayed as Responses events
        final = stream.get_final_response()
    assert final.output_text == text and final.usage is not None and final.usage.output_tokens > 0


def test_anthropic_messages_through_the_gateway_to_the_backend_misses_then_hits(up):
    client = anthropic.Anthropic(base_url=up.removesuffix("/v1"), api_key="unused-on-loopback", max_retries=0)
    # stop_sequences keeps it apart from the README's own Messages snippet (same question, run below).
    question = [{"role": "user", "content": "What is the capital of Italy?"}]
    ask = dict(model="smollm2-135m", max_tokens=32, stop_sequences=["\n\n"], messages=question)
    first = client.messages.with_raw_response.create(**ask)
    assert first.headers["x-semgate-cache"] == "miss"
    text = first.parse().content[0].text
    assert text
    with client.messages.stream(**ask) as stream:  # the hit, replayed as Anthropic events
        assert stream.get_final_message().content[0].text == text


def test_the_readme_responses_and_messages_snippets_run_against_the_backend(up):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    for marker in ("client.responses.create", "anthropic.Anthropic"):
        [snippet] = [b for b in blocks if marker in b]
        snippet = snippet.replace(README_URL, up).replace(README_URL.removesuffix("/v1"), up.removesuffix("/v1"))
        run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip(), marker


def test_a_question_the_model_loops_on_ends_at_the_backend_bound_not_in_a_gateway_timeout(up):
    # Greedy SmolLM2 talks about zero until its context is full: unbounded, that was minutes of
    # generation, a 504 after the gateway's 300 s and two SDK retries of it.
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")  # the SDK's own timeout and retries
    answer = client.chat.completions.create(model="smollm2-135m",
                                            messages=[{"role": "user", "content": "What is 0 plus 0?"}])
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == DEFAULT_BOUND


def nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_gateway_yields_the_cpu_to_the_backend_it_started_where_its_work_is_long(up):
    """Beside its backend the gateway embeds on a thread of lower priority (gateway/cpu_share.py) while its
    event loop, which relays the backend's streams, keeps the normal one; so does the backend, or its decode
    steps would wait on the gateway."""
    client = openai.OpenAI(base_url=up, api_key="unused-on-loopback")
    client.chat.completions.create(model="smollm2-135m", messages=[{"role": "user", "content": "Name a colour."}])
    [holder] = listeners(int(up.rsplit(":", 1)[1].split("/")[0]))
    [backend] = children(holder.pid)
    base = os.nice(0)
    assert nice_of(backend) == base
    assert nice_of(holder.pid) == base  # the main thread: the event loop
    threads = {nice_of(int(task.name)) for task in Path(f"/proc/{holder.pid}/task").iterdir()}
    assert min(19, base + NICE_BESIDE_BACKEND) in threads  # the embedding thread, started by the lookup


def test_sigterm_stops_the_backend_with_the_gateway(tmp_path):
    with Services(tmp_path / "logs") as services:
        _, backend = start_up(services, tmp_path)
        assert httpx.get(f"{backend}/healthz").status_code == 200
        process = services.processes[-1]
        stop(process)  # SIGTERM, as systemd or `docker stop` send it
        assert process.returncode == 128 + 15
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{backend}/healthz")


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for whoever reaps orphans here is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_sigkilled_semgate_up_takes_its_backend_with_it(tmp_path):
    path, _, backend_port = write_config(tmp_path)
    backend_url = f"http://127.0.0.1:{backend_port}"
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen([sys.executable, "-m", "gateway", "up", "--config", str(path)], cwd=REPO,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    backend = None
    try:
        wait_healthy(backend_url, up, timeout_s=600)
        [backend] = children(up.pid)
        up.kill()  # nothing of semgate up runs after this: no handler, no `finally`
        up.wait()
        deadline = time.monotonic() + 60
        while alive(backend) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(backend)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{backend_url}/healthz")
    finally:
        stop(up)
        if backend is not None and alive(backend):
            os.kill(backend, signal.SIGKILL)


FAKE_BACKEND = """
import http.server, sys
class Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Healthy).serve_forever()
"""


def test_semgate_up_refuses_a_backend_port_held_by_a_server_it_did_not_start(tmp_path):
    # Say, the orphan of an earlier `semgate up`: it answers /healthz as a backend would.
    path, _, backend_port = write_config(tmp_path)
    orphan = subprocess.Popen([sys.executable, "-c", FAKE_BACKEND, str(backend_port)])
    try:
        wait_healthy(f"http://127.0.0.1:{backend_port}", orphan, timeout_s=60)
        run = subprocess.run([sys.executable, "-m", "gateway", "up", "--config", str(path)], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode != 0
        assert f"port 127.0.0.1:{backend_port} is already taken by pid {orphan.pid}" in run.stderr
        assert "http.server" in run.stderr  # its command line, as far as it fits
        assert "semgate is up" not in run.stdout and "starting the bundled backend" not in run.stdout
        assert orphan.poll() is None  # not ours to stop
    finally:
        orphan.kill()
        orphan.wait()


def test_semgate_up_refuses_a_taken_gateway_port_before_loading_anything(tmp_path):
    path, gateway_port, _ = write_config(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", gateway_port))
        holder.listen()
        run = subprocess.run([sys.executable, "-m", "gateway", "up", "--config", str(path)], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert f"the gateway's port 127.0.0.1:{gateway_port} is already taken by pid {os.getpid()}" in run.stderr
    assert "starting the bundled backend" not in run.stdout


def test_semgate_up_stops_with_an_error_when_its_backend_dies(tmp_path):
    path, gateway_port, _ = write_config(tmp_path)
    # Cache and IC-Cache off: the gateway starts without loading its embedding model.
    config = path.read_text()
    for section in ("incontext:\n  enabled: true", "cache:\n  enabled: true"):
        assert section in config
        config = config.replace(section, section.replace("true", "false"))
    path.write_text(config)
    with Services(tmp_path / "logs") as services:
        services.start("up", ["gateway", "up", "--config", str(path)], gateway_port, ready_timeout_s=600, cwd=REPO)
        up = services.processes[-1]
        [backend] = children(up.pid)
        os.kill(backend, signal.SIGKILL)
        # A gateway left in front of no backend would look healthy and answer every miss with a 502.
        assert up.wait(timeout=60) == 1
        log = (tmp_path / "logs" / "up.log").read_text()
        assert "semgate: the backend exited with code -9; stopping the gateway" in log
