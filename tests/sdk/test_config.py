"""Client configuration: explicit arguments beat the environment, which beats the defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pictograph import Client, ConfigurationError
from pictograph.config import EMBEDDED_BASE_URL, resolve_settings


def test_nothing_configured_means_embedded_mode_with_the_defaults():
    settings = resolve_settings(environ={})
    assert settings.mode == "embedded"
    assert settings.base_url == EMBEDDED_BASE_URL
    assert settings.api_key is None
    assert settings.timeout == 30.0
    assert settings.max_retries == 3
    assert settings.home == Path("~/.pictograph").expanduser()


def test_the_environment_configures_http_mode():
    env = {
        "PICTOGRAPH_API_KEY": "  pk_env  ",
        "PICTOGRAPH_BASE_URL": "http://pictograph.internal:8000//",
        "PICTOGRAPH_TIMEOUT": "12.5",
        "PICTOGRAPH_MAX_RETRIES": "0",
        "PICTOGRAPH_HOME": "/srv/pictograph",
    }
    settings = resolve_settings(environ=env)
    assert settings.mode == "http"
    assert settings.api_key == "pk_env"
    assert settings.base_url == "http://pictograph.internal:8000"
    assert settings.timeout == 12.5
    assert settings.max_retries == 0
    assert settings.home == Path("/srv/pictograph")


def test_explicit_arguments_win_over_the_environment():
    env = {
        "PICTOGRAPH_API_KEY": "pk_env",
        "PICTOGRAPH_BASE_URL": "http://env.example",
        "PICTOGRAPH_TIMEOUT": "5",
        "PICTOGRAPH_MAX_RETRIES": "9",
    }
    settings = resolve_settings(
        "pk_arg", base_url="https://arg.example/", timeout=1.0, max_retries=2, environ=env
    )
    assert (settings.api_key, settings.base_url) == ("pk_arg", "https://arg.example")
    assert (settings.timeout, settings.max_retries) == (1.0, 2)


def test_settings_are_frozen():
    settings = resolve_settings(environ={})
    with pytest.raises(AttributeError):
        settings.timeout = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "environ", "message"),
    [
        ({"base_url": "http://h"}, {}, "no API key: pass api_key= or set PICTOGRAPH_API_KEY"),
        ({}, {"PICTOGRAPH_BASE_URL": "http://h"}, "no API key"),
        ({"api_key": "pk"}, {}, "no base URL"),
        ({"timeout": 0}, {}, "timeout must be > 0"),
        ({}, {"PICTOGRAPH_TIMEOUT": "-1"}, "timeout must be > 0"),
        ({"max_retries": -1}, {}, "max_retries must be >= 0"),
        ({}, {"PICTOGRAPH_MAX_RETRIES": "many"}, "PICTOGRAPH_MAX_RETRIES must be a number"),
        ({"api_key": "pk", "base_url": "ftp://h"}, {}, "must start with http"),
    ],
)
def test_bad_configuration_raises_configuration_error(arguments, environ, message):
    with pytest.raises(ConfigurationError, match=message):
        resolve_settings(environ=environ, **arguments)


def test_a_client_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_from_env")
    monkeypatch.setenv("PICTOGRAPH_BASE_URL", "http://127.0.0.1:9/")
    with Client() as client:
        assert client.mode == "http"
        assert client.base_url == "http://127.0.0.1:9"
        assert client.settings.api_key == "pk_from_env"


def test_a_client_with_a_base_url_but_no_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PICTOGRAPH_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="no API key"):
        Client(base_url="http://127.0.0.1:9")


def test_importing_the_sdk_never_imports_the_server():
    code = (
        "import pictograph, sys; "
        "from pictograph import Client; "
        "assert not any(m.startswith('pictograph.server') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('pictograph.server'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_package_exports_exactly_its_public_names():
    import pictograph

    assert pictograph.__version__ == "0.1.0"
    for name in pictograph.__all__:
        if name not in ("UploadReport", "UploadFailure"):
            assert hasattr(pictograph, name), name
