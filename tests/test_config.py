from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.plumbing.config import SECRET_ENV, Settings, load_settings
from engine.values.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_loads_and_documents_every_key() -> None:
    s = load_settings(ROOT / "config.example.toml", env={})
    assert s == Settings()                               # the example states the defaults
    data = tomllib.loads((ROOT / "config.example.toml").read_text())

    def keys(model: object, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name in type(model).model_fields:  # type: ignore[attr-defined]
            if name == "secrets":
                continue
            value = getattr(model, name)
            out |= keys(value, f"{prefix}{name}.") if hasattr(type(value), "model_fields") else {prefix + name}
        return out

    def flat(d: dict[str, object], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for k, v in d.items():
            out |= flat(v, f"{prefix}{k}.") if isinstance(v, dict) and v else {prefix + k}   # {}: a leaf
        return out

    assert keys(s) == flat(data)
    text = (ROOT / "config.example.toml").read_text()
    for var in SECRET_ENV.values():
        assert var in text


def test_environment_overrides_and_secrets(tmp_path: Path) -> None:
    s = load_settings(None, env={"MULTITUDES_TRAKT__BASE_URL": "https://api-staging.trakt.tv/",
                                 "MULTITUDES_TRAKT__HTTP__MAX_ATTEMPTS": "9", "MULTITUDES_OMDB__ENABLED": "true",
                                 "MULTITUDES_TMDB_API_KEY": "sekrit-value"})
    assert s.trakt.base_url == "https://api-staging.trakt.tv" and s.trakt.http.max_attempts == 9
    assert s.omdb.enabled and s.tmdb_enabled and not s.omdb_enabled
    assert s.secrets.tmdb_api_key == "sekrit-value"
    assert "sekrit" not in repr(s.secrets) and "sekrit" not in str(s) and "sekrit" not in repr(s)


@pytest.mark.parametrize(("toml", "env", "words"), [
    ("[trakt]\nclient_secret = 'x'\n", {}, "Secrets belong in the environment"),
    ("[trakt\n", {}, "not valid TOML"),
    ("[trakt]\npage_limit = 0\n", {}, "trakt.page_limit"),
    ("[trakt]\nbase_url = 'ftp://x'\n", {}, "not an http(s) URL"),
    ("[trakt]\nunknown_key = 1\n", {}, "trakt.unknown_key"),
    ("", {"MULTITUDES_TRAKT__HTTP__TIMEOUT_S": "soon"}, "trakt.http.timeout_s"),
    ("", {"MULTITUDES_TRAKT_CLIENT_ID": "a", "MULTITUDES_TRAKT_CLIENT_SECRET": "b"}, "MULTITUDES_SECRET_KEY"),
    ("", {"MULTITUDES_TRAKT_CLIENT_ID": "a"}, "both"),
])
def test_bad_configuration_is_a_clear_error(tmp_path: Path, toml: str, env: dict[str, str], words: str) -> None:
    p = tmp_path / "c.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as e:
        load_settings(p, env=env)
    assert words in e.value.user_message


def test_missing_config_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings("/nonexistent/multitudes.toml", env={})


def test_bad_secret_key_is_reported_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MULTITUDES_TRAKT_CLIENT_ID": "a", "MULTITUDES_TRAKT_CLIENT_SECRET": "b",
                                 "MULTITUDES_SECRET_KEY": "not-a-fernet-key"})
    assert "keygen" in e.value.user_message


def test_a_postgresql_url_is_checked_and_never_carries_a_password_in_the_file(tmp_path: Path) -> None:
    ok = load_settings(None, env={"MULTITUDES_STORAGE__URL": "postgresql://bot:pw@db/multitudes"})
    assert ok.storage.target == "postgresql://bot:pw@db/multitudes"      # from the environment: fine
    assert load_settings(None, env={}).storage.target == "var/multitudes.db"
    with pytest.raises(ConfigError, match="postgresql://"):
        load_settings(None, env={"MULTITUDES_STORAGE__URL": "mysql://db/x"})
    f = tmp_path / "c.toml"
    f.write_text('[storage]\nurl = "postgresql://bot:hunter2@db/multitudes"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(f, env={})
    assert "PGPASSWORD" in e.value.user_message and "hunter2" not in e.value.user_message
