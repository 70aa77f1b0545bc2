import pytest


@pytest.fixture
def echo(echo):
    """The shared echo upstream, answering at 2 ms a token so streams have timing to measure."""
    echo.settings.token_delay_s = 0.002
    return echo
