"""Fixtures for the reliability tests: a gateway over a store in tmp_path, in front of an echo upstream
that can be stopped and started again (reliability_setup.py)."""

import pytest
from reliability_setup import Upstream, gateway_config

from gateway.app import build_app
from gateway.config import parse_config


@pytest.fixture
def upstream():
    up = Upstream()
    up.start()
    yield up
    up.stop()


@pytest.fixture
def start_gateway(serve, upstream, embedding_model, tmp_path):
    """start_gateway(model=None, **gateway_config options) -> (base URL, app) over tmp_path/cache.db."""

    def start(model=None, **options):
        text = gateway_config(upstream.url, tmp_path / "cache.db", **options)
        app = build_app(parse_config(text, "reliability.yaml"), model or embedding_model)
        return serve(app).url, app

    return start
