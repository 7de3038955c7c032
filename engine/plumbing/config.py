"""Typed configuration: a TOML file, overridden by ``MULTITUDES_SECTION__KEY`` environment variables.

Secrets (API keys, tokens, the encryption key) come from the environment only; a secret found in the TOML file
is an error, so nobody commits one by accident. Every outside service's base URL is configurable, so the same
program runs against production, staging, a proxy or the loopback fakes of the test suite.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.values.errors import ConfigError

ENV_PREFIX = "MULTITUDES_"

# secret name -> environment variable; never read from TOML
SECRET_ENV = {
    "trakt_client_id": "MULTITUDES_TRAKT_CLIENT_ID",
    "trakt_client_secret": "MULTITUDES_TRAKT_CLIENT_SECRET",
    "tmdb_api_key": "MULTITUDES_TMDB_API_KEY",
    "omdb_api_key": "MULTITUDES_OMDB_API_KEY",
    "mediaserver_api_key": "MULTITUDES_MEDIASERVER_API_KEY",
    "seerr_api_key": "MULTITUDES_SEERR_API_KEY",
    "sonarr_api_key": "MULTITUDES_SONARR_API_KEY",
    "llm_api_key": "MULTITUDES_LLM_API_KEY",
    "discord_token": "MULTITUDES_DISCORD_TOKEN",
    "telegram_token": "MULTITUDES_TELEGRAM_TOKEN",
    "secret_key": "MULTITUDES_SECRET_KEY",
}
_SECRET_NAMES = {"client_id", "client_secret", "api_key", "apikey", "token", "secret", "secret_key", "password"}
_SECRET_SUFFIXES = ("_token", "_secret", "_api_key", "_password")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _url(v: str) -> str:
    if v and not (v.startswith("http://") or v.startswith("https://") or v.startswith("ws")):
        raise ValueError(f"not an http(s) URL: {v!r}")
    return v.rstrip("/")


class HttpPolicy(_Section):
    """Retry policy shared by every outbound HTTP client."""

    timeout_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=20)
    backoff_base_s: float = Field(1.0, ge=0)
    backoff_max_s: float = Field(60.0, ge=0)
    retry_after_max_s: float = Field(300.0, ge=0)


class TraktSettings(_Section):
    base_url: str = "https://api.trakt.tv"
    page_limit: int = Field(100, ge=1, le=1000)
    page_concurrency: int = Field(6, ge=1, le=16)
    refresh_margin_s: int = Field(300, ge=0)
    user_agent: str = "Multitudes/0.1"
    http: HttpPolicy = HttpPolicy()

    _v = field_validator("base_url")(classmethod(lambda cls, v: _url(v)))


class TmdbSettings(_Section):
    base_url: str = "https://api.themoviedb.org/3"
    image_base_url: str = "https://image.tmdb.org/t/p"
    concurrency: int = Field(8, ge=1, le=32)
    language: str = "en-US"
    region: str = "US"
    ttl_ended_days: float = Field(30, gt=0)
    ttl_airing_hours: float = Field(24, gt=0)
    ttl_default_days: float = Field(7, gt=0)
    http: HttpPolicy = HttpPolicy()

    _v = field_validator("base_url", "image_base_url")(classmethod(lambda cls, v: _url(v)))


class OmdbSettings(_Section):
    enabled: bool = False
    base_url: str = "https://www.omdbapi.com"
    ttl_days: float = Field(30, gt=0)
    http: HttpPolicy = HttpPolicy(max_attempts=3)

    _v = field_validator("base_url")(classmethod(lambda cls, v: _url(v)))


class MediaServerSettings(_Section):
    """The owner's media server (Jellyfin, Emby or Plex): people's played episodes become plays, its shows "in your
    library". The API key (Plex: the owner's token) comes from ``MULTITUDES_MEDIASERVER_API_KEY``."""
    kind: Literal["", "jellyfin", "emby", "plex"] = ""
    base_url: str = ""
    plex_tv_url: str = "https://plex.tv"          # where Plex's PIN linking happens
    # the owner's mapping of chat identities to server user names ("telegram:12345" = "alice"): linked at once;
    # anyone else links with a Quick Connect code (Jellyfin) they confirm in their own server session
    people: dict[str, str] = {}
    page_limit: int = Field(200, ge=1, le=1000)
    library_hours: float = Field(6, gt=0)          # the server's shows are read again once older than this
    http: HttpPolicy = HttpPolicy(max_attempts=4)

    _v = field_validator("base_url", "plex_tv_url")(classmethod(lambda cls, v: _url(v)))


class SeerrSettings(_Section):
    """Overseerr / Jellyseerr: a pick becomes a request by the person's own Seerr user (found by their linked
    server user), so Seerr's quotas and approvals apply. The API key comes from ``MULTITUDES_SEERR_API_KEY``."""
    base_url: str = ""
    http: HttpPolicy = HttpPolicy(max_attempts=3)

    _v = field_validator("base_url")(classmethod(lambda cls, v: _url(v)))


class SonarrSettings(_Section):
    """Sonarr without Seerr: 📥 adds a pick to Sonarr, for the owners (``feedback.owners``) and the people listed
    here ("platform:user id"). The API key comes from ``MULTITUDES_SONARR_API_KEY``."""
    base_url: str = ""
    root_folder: str = ""
    quality_profile_id: int = Field(1, ge=1)
    people: list[str] = []
    http: HttpPolicy = HttpPolicy(max_attempts=3)

    _v = field_validator("base_url")(classmethod(lambda cls, v: _url(v)))


class LlmSettings(_Section):
    base_url: str = ""
    model: str = ""
    timeout_s: float = Field(60, gt=0)
    max_retries: int = Field(1, ge=0, le=5)
    max_prompt_tokens: int = Field(6000, ge=500)

    _v = field_validator("base_url")(classmethod(lambda cls, v: _url(v)))


class DiscordSettings(_Section):
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = ""


class TelegramSettings(_Section):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"


class RecommendSettings(_Section):
    max_watched_episodes: int = Field(0, ge=0)     # a show with more plays than this is never proposed
    recent_days: int = Field(14, ge=0)
    adaptive: bool = True
    rebuild_minutes: float = Field(10, gt=0)       # the catalogue index and population: rebuilt at most this often


class FeedbackSettings(_Section):
    owners: list[str] = []
    finish_share: float = Field(0.8, gt=0, le=1)
    digest_weekday: int = Field(6, ge=0, le=6)
    digest_hour: int = Field(18, ge=0, le=23)


class AlertSettings(_Section):
    enabled: bool = True
    scan_every_hours: float = Field(6, gt=0)
    deliver_every_minutes: float = Field(5, gt=0)
    claim_minutes: float = Field(5, gt=0)    # claimed alerts/digests nobody started sending: claimed again after
    scheduler_store: str = ""        # empty: beside the database, <name>.scheduler.db
    morning_hour: int = Field(9, ge=0, le=23)
    premiere_days: int = Field(14, ge=1, le=33)
    catchup_days: int = Field(30, ge=1, le=33)
    finale_days: int = Field(14, ge=1, le=33)
    returning_gap_days: int = Field(365, ge=30)


class StorageSettings(_Section):
    path: str = "var/multitudes.db"      # the embedded SQLite database (the default)
    url: str = ""                        # postgresql://user@host/db: the shared PostgreSQL store instead (empty:
                                         # SQLite); the password from PGPASSWORD or MULTITUDES_STORAGE__URL

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, v: str) -> str:
        if v and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("storage.url must be a postgresql:// URL (or empty for SQLite)")
        return v

    @property
    def target(self) -> str:
        """What ``open_store`` opens: the PostgreSQL URL when set, else the SQLite path."""
        return self.url or self.path


class SyncSettings(_Section):
    stale_after_minutes: float = Field(60, ge=0)     # a linked person's history is refreshed once older than this
    lease_seconds: float = Field(900, gt=0)
    background: bool = True                          # the scheduler's sync wave (needs the bot running)
    wave_minutes: float = Field(5, gt=0)             # how often the wave runs
    wave_requests: int = Field(250, gt=0)            # Trakt requests one wave may spend (Trakt: 1,000 GETs / 5 min)
    wave_people: int = Field(500, gt=0)              # at most this many people considered per wave
    wave_concurrency: int = Field(4, gt=0)           # syncs at once within a wave


class CrowdSettings(_Section):
    """Similar people from Trakt's public graph (``engine.usecases.crowd_refresh``): refreshed in the background, never
    on a request."""
    enabled: bool = True
    budget: int = Field(60, gt=0, le=1000)           # Trakt requests one person's refresh may spend
    refresh_days: float = Field(7, gt=0)             # a person's crowd is refreshed once older than this
    retry_hours: float = Field(6, gt=0)              # after a failed refresh, wait this long
    every_minutes: float = Field(30, gt=0)           # how often the scheduler looks for people due
    run_requests: int = Field(300, gt=0)             # Trakt requests one run may spend over everyone


class ImportSettings(_Section):
    max_bytes: int = Field(50_000_000, gt=0)
    max_rows: int = Field(500_000, gt=0)
    max_lookups: int = Field(300, gt=0)      # title searches one Netflix import may make (most-watched first)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: str = "var/multitudes.log"
    prompt_log: str = "var/prompts.log"


class Secrets(BaseModel):
    model_config = ConfigDict(frozen=True)

    trakt_client_id: str | None = None
    trakt_client_secret: str | None = None
    tmdb_api_key: str | None = None
    omdb_api_key: str | None = None
    mediaserver_api_key: str | None = None
    seerr_api_key: str | None = None
    sonarr_api_key: str | None = None
    llm_api_key: str | None = None
    discord_token: str | None = None
    telegram_token: str | None = None
    secret_key: str | None = None

    def __repr__(self) -> str:  # never print secrets
        present = [k for k, v in self.model_dump().items() if v]
        return f"Secrets(set={present})"

    __str__ = __repr__


class Settings(_Section):
    storage: StorageSettings = StorageSettings()
    trakt: TraktSettings = TraktSettings()
    tmdb: TmdbSettings = TmdbSettings()
    omdb: OmdbSettings = OmdbSettings()
    llm: LlmSettings = LlmSettings()
    mediaserver: MediaServerSettings = MediaServerSettings()
    seerr: SeerrSettings = SeerrSettings()
    sonarr: SonarrSettings = SonarrSettings()
    discord: DiscordSettings = DiscordSettings()
    telegram: TelegramSettings = TelegramSettings()
    sync: SyncSettings = SyncSettings()
    crowd: CrowdSettings = CrowdSettings()
    recommend: RecommendSettings = RecommendSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    alerts: AlertSettings = AlertSettings()
    imports: ImportSettings = ImportSettings()
    logging: LoggingSettings = LoggingSettings()
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @property
    def trakt_enabled(self) -> bool:
        return bool(self.secrets.trakt_client_id and self.secrets.trakt_client_secret)

    @property
    def tmdb_enabled(self) -> bool:
        return bool(self.secrets.tmdb_api_key)

    @property
    def omdb_enabled(self) -> bool:
        return self.omdb.enabled and bool(self.secrets.omdb_api_key)

    @property
    def mediaserver_enabled(self) -> bool:
        return bool(self.mediaserver.kind and self.mediaserver.base_url and self.secrets.mediaserver_api_key)

    @property
    def seerr_enabled(self) -> bool:
        return bool(self.seerr.base_url and self.secrets.seerr_api_key)

    @property
    def sonarr_enabled(self) -> bool:
        return bool(self.sonarr.base_url and self.sonarr.root_folder and self.secrets.sonarr_api_key)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm.base_url and self.llm.model)


def _find_secrets_in_toml(data: Mapping[str, Any], path: str = "") -> list[str]:
    found = []
    for k, v in data.items():
        here = f"{path}.{k}" if path else k
        if isinstance(v, Mapping):
            found += _find_secrets_in_toml(v, here)
        elif k.lower() in _SECRET_NAMES or k.lower().endswith(_SECRET_SUFFIXES):
            found.append(here)
    return found


def _coerce(raw: str) -> Any:
    """Environment values are strings; parse them as a TOML value when they look like one."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    secret_vars = set(SECRET_ENV.values()) | {"MULTITUDES_CONFIG", "MULTITUDES_VENV"}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in secret_vars or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        node = data
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"{name} overrides a value, not a section")
            node = nxt
        node[parts[-1]] = _coerce(raw)


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load settings; raise ConfigError with a clear, complete message on anything wrong."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is None:
        path = env.get("MULTITUDES_CONFIG") or ("config.toml" if Path("config.toml").exists() else None)
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file {p} not found", user_message=f"Config file {p} does not exist.")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(str(e), user_message=f"Config file {p} is not valid TOML: {e}") from e
        leaked = _find_secrets_in_toml(data)
        if leaked:
            names = ", ".join(leaked)
            raise ConfigError(
                f"secrets in {p}: {names}",
                user_message=f"Config file {p} contains secrets ({names}). Secrets belong in the environment: "
                + ", ".join(sorted(SECRET_ENV.values())),
            )
    storage = data.get("storage")
    if isinstance(storage, Mapping) and isinstance(storage.get("url"), str) and urlsplit(storage["url"]).password:
        raise ConfigError("a password in storage.url", user_message=(
            f"Config file {path} has a password in storage.url. Secrets belong in the environment: PGPASSWORD, or "
            "the whole URL in MULTITUDES_STORAGE__URL."))
    _apply_env(data, env)
    secrets = Secrets(**{k: (env.get(v) or None) for k, v in SECRET_ENV.items()})
    try:
        settings = Settings(**data, secrets=secrets)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors(include_url=False)
        )
        raise ConfigError(problems, user_message=f"Invalid configuration: {problems}") from e
    if settings.trakt_enabled and not settings.secrets.secret_key:
        raise ConfigError(
            "MULTITUDES_SECRET_KEY missing",
            user_message="Trakt credentials are set but MULTITUDES_SECRET_KEY is not: it encrypts Trakt tokens "
            "at rest. Generate one with `multitudes keygen`.",
        )
    if settings.secrets.secret_key:
        from engine.plumbing.crypto import TokenCipher
        TokenCipher(settings.secrets.secret_key)   # raises a clear ConfigError for a malformed key
    if bool(settings.secrets.trakt_client_id) != bool(settings.secrets.trakt_client_secret):
        raise ConfigError(
            "half of the Trakt credentials",
            user_message="Set both MULTITUDES_TRAKT_CLIENT_ID and MULTITUDES_TRAKT_CLIENT_SECRET, or neither.",
        )
    return settings
