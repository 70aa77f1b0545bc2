"""schemathesis against the gateway's two published documents: the OpenAI routes
(gateway/edge/openai_schema.py, GET /v1/openapi.json) and the admin API (GET /admin/v1/openapi.json).

Requests the documents allow, and requests they forbid, go to a real gateway on loopback in
front of the echo upstream, with the cache on. No answer may be a 5xx, and every answer must
match the document: a documented status, the declared content type, the declared schema.
The number of examples is bounded so the module stays well under a minute on two cores;
SEMGATE_FUZZ_EXAMPLES=200 runs a deeper search.
"""

import os

import httpx
import pytest
import schemathesis
from gateway_setup import gateway_yaml
from loopback import ServerThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.admin.openapi import openapi_document
from gateway.admin.operations import operations
from gateway.admin.routes import PREFIX
from gateway.app import build_app
from gateway.config import parse_config
from gateway.edge.limits import Limits
from gateway.edge.http_limits import server_options
from gateway.edge.openai_schema import openai_document
from loadtest.echo_upstream import EchoSettings, EchoUpstream

ADMIN_TOKEN = "schemathesis-admin-token"
TENANT_KEY = "sk-schemathesis-tenant"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Limits small enough that generated requests reach them too.
LIMITS = Limits(max_messages=8, max_message_chars=2000)
LIMITS_YAML = f"limits: {{max_messages: {LIMITS.max_messages}, max_message_chars: {LIMITS.max_message_chars}}}"
FUZZ = settings(max_examples=int(os.environ.get("SEMGATE_FUZZ_EXAMPLES", "12")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])

OPENAI = schemathesis.openapi.from_dict(openai_document(LIMITS, models=["echo-1"], embedding_models=["all-minilm-l6-v2"]))
ADMIN = schemathesis.openapi.from_dict(openapi_document(operations(), PREFIX))


def cases(schema) -> list:
    """(path, method, mode) for every operation; negative only where there is an input to break."""
    out = []
    for op in (result.ok() for result in schema.get_all_operations()):
        modes = [GenerationMode.POSITIVE]
        if len(op.body) or len(op.query) or len(op.path_parameters):
            modes.append(GenerationMode.NEGATIVE)
        out += [pytest.param(op.path, op.method.upper(), mode, id=f"{op.method.upper()} {op.path} {mode.value}")
                for mode in modes]
    return out


@pytest.fixture(scope="module")
def fuzzed_gateway(tmp_path_factory, embedding_model):
    """One gateway for the module (cache, tenants and the admin API on) in front of the echo upstream,
    served as `semgate gateway` serves it (the same HTTP protocol and limits)."""
    echo = EchoUpstream(EchoSettings(models=("echo-1",)))
    extra = f"""tenants: [{{name: acme, api_key_env: SCHEMATHESIS_TENANT_KEY}}]
admin: {{token_env: SCHEMATHESIS_ADMIN_TOKEN}}
{LIMITS_YAML}
"""
    store = tmp_path_factory.mktemp("schemathesis") / "cache.db"
    with pytest.MonkeyPatch.context() as env, ServerThread(echo.app) as upstream:
        env.setenv("SCHEMATHESIS_ADMIN_TOKEN", ADMIN_TOKEN)
        env.setenv("SCHEMATHESIS_TENANT_KEY", TENANT_KEY)
        config = parse_config(gateway_yaml(upstream.url, extra, store=str(store)), "schemathesis.yaml")
        with ServerThread(build_app(config, embedding_model), **server_options(config.limits)) as gateway:
            # One stored answer, so entry routes find something too.
            httpx.post(f"{gateway.url}/v1/chat/completions", headers={"authorization": f"Bearer {TENANT_KEY}"},
                       json={"model": "echo-1", "messages": [{"role": "user", "content": "what is a fuzzer"}]},
                       timeout=30).raise_for_status()
            yield gateway.url


def fuzz(schema, path: str, method: str, mode: GenerationMode, base_url: str, token: str) -> None:
    strategy = schema[path][method].as_strategy(generation_mode=mode)

    @FUZZ
    @given(st.data())
    def run(data):
        case = data.draw(strategy)
        case.call_and_validate(base_url=base_url, headers={"authorization": f"Bearer {token}"}, checks=CHECKS,
                               timeout=30)

    run()


def test_the_served_openai_document_is_the_one_tested(fuzzed_gateway):
    served = httpx.get(f"{fuzzed_gateway}/v1/openapi.json").json()
    assert set(served["paths"]) == set(OPENAI.raw_schema["paths"])
    assert served["paths"]["/v1/chat/completions"]["post"]["responses"].keys() >= {"200", "400", "401", "413"}


def served(base_url: str, path: str, method: str) -> bool:
    """Whether this gateway has the route: the document describes routes a branch may not have wired yet."""
    probe = httpx.request(method, base_url + path.replace("{", "").replace("}", ""), timeout=30,
                          headers={"authorization": f"Bearer {TENANT_KEY}"}, json={})
    unknown = probe.status_code == 404 and (probe.json().get("error") or {}).get("code") == "unknown_url"
    return not unknown and probe.status_code != 405


@pytest.mark.parametrize(("path", "method", "mode"), cases(OPENAI))
def test_openai_routes_never_5xx_and_answer_as_documented(fuzzed_gateway, path, method, mode):
    if not served(fuzzed_gateway, path, method):
        pytest.skip(f"{method} {path} is documented but not served by this build")
    fuzz(OPENAI, path, method, mode, fuzzed_gateway, TENANT_KEY)


@pytest.mark.parametrize(("path", "method", "mode"), cases(ADMIN))
def test_admin_api_never_5xx_and_answers_as_documented(fuzzed_gateway, path, method, mode):
    fuzz(ADMIN, path, method, mode, fuzzed_gateway, ADMIN_TOKEN)
