"""Load goes to loopback only unless the user opts in; target URLs are normalised."""

import pytest

from loadtest.runner import RunConfig, run_load_sync
from loadtest.target import RemoteTargetError, base_url, is_loopback, require_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080", "http://192.168.1.4/v1", "https://8.8.8.8", "http://[2001:db8::1]:80"])
def test_remote_targets_are_refused_without_allow_remote(url):
    with pytest.raises(RemoteTargetError, match="--allow-remote"):
        require_loopback(url, allow_remote=False)
    require_loopback(url, allow_remote=True)


def test_the_runner_refuses_before_sending_anything():
    config = RunConfig(target="http://10.1.2.3:9", rate=1.0, duration_s=1, progress=False)
    with pytest.raises(RemoteTargetError):
        run_load_sync(config, iter(()))


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
    ("http://127.0.0.1:8080/proxy/v1/", "http://127.0.0.1:8080/proxy"),
])
def test_base_url_accepts_the_sdk_form(url, expected):
    assert base_url(url) == expected


def test_run_config_needs_exactly_one_load_shape():
    with pytest.raises(ValueError):
        RunConfig(target="http://127.0.0.1:1")
    with pytest.raises(ValueError):
        RunConfig(target="http://127.0.0.1:1", rate=1.0, concurrency=2)
