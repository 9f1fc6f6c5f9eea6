"""One settings object for the whole application, read from ``SAMORDNA_*`` environment variables.

The prefix keeps Samordna's configuration apart from Prefect's own ``PREFECT_*`` variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import DomainError

TIMEZONE = "Europe/Stockholm"


class Settings(BaseSettings):
    """Where Samordna keeps its data and which kommun a command acts on by default."""

    model_config = SettingsConfigDict(env_prefix="SAMORDNA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded SQLite file and Prefect's local state.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file in data_dir. PostgreSQL: postgresql+psycopg://…",
    )
    kommun: str | None = Field(
        default=None,
        description="Default kommun (kommunkod or name) for commands that take --kommun.",
    )
    mail_url: str = Field(
        default="",
        description=(
            "apprise URL of the mail server without recipient, e.g. "
            "mailtos://user:{env:SAMORDNA_SMTP_PASSWORD}@smtp.kommun.se?from=samordna@kommun.se; "
            "the recipient is added per message. Empty: e-mail is not sent."
        ),
    )
    fallback_url: str = Field(
        default="",
        description="apprise URL that reaches the coordinator when a message cannot be delivered.",
    )
    max_attempts: int = Field(default=5, ge=1, le=20, description="Delivery attempts before a message fails.")
    retry_base_seconds: int = Field(default=300, ge=1, description="First retry delay; doubles per attempt.")
    messages_per_hour: int = Field(
        default=10, ge=1, description="Storm guard: most messages per person and hour."
    )
    # Outages (issue 16): a channel that cannot be reached is paused, not the messages that wait for it.
    channel_retry_base_seconds: int = Field(
        default=60, ge=1, description="First pause of a channel that could not be reached; doubles per probe."
    )
    channel_retry_max_seconds: int = Field(
        default=1800, ge=1, description="Longest pause between two health probes of an unreachable channel."
    )
    outage_notice_minutes: int = Field(
        default=30,
        ge=0,
        description="A channel down this long makes one notice to the BRÅ-samordnare by another channel.",
    )
    requeue_window_hours: int = Field(
        default=72,
        ge=0,
        description=(
            "FAILED messages that failed on a channel within this many hours before it recovered are "
            "queued again automatically when it does (0: never automatically)."
        ),
    )
    production: bool = Field(
        default=False,
        description="A production installation: the fallback channel (fallback_url) is required.",
    )
    # Import limits (issue 16): checked before and while a file is read; each breach is a Swedish message.
    import_max_file_bytes: int = Field(
        default=20_000_000, ge=1, description="Largest file an import reads (bytes on disk)."
    )
    import_max_decompressed_bytes: int = Field(
        default=100_000_000, ge=1, description="Largest total size of an XLSX file's parts when unpacked."
    )
    import_max_sheets: int = Field(default=100, ge=1, description="Most sheets in a workbook.")
    import_max_rows: int = Field(default=100_000, ge=1, description="Most rows in a sheet or CSV file.")
    import_max_columns: int = Field(default=200, ge=1, description="Most columns in a sheet or CSV file.")
    import_max_cells: int = Field(
        default=1_000_000, ge=1, description="Most cells (rows × columns) read from one file."
    )
    import_max_cell_chars: int = Field(
        default=32_767, ge=1, description="Longest text of one cell (Excel's own limit is 32,767)."
    )
    import_max_yaml_depth: int = Field(default=30, ge=1, description="Deepest nesting in a YAML file.")
    import_max_yaml_nodes: int = Field(
        default=200_000, ge=1, description="Most values (scalars, lists, mappings) in a YAML file."
    )
    # SSPF (issue 7): the keys that encrypt case data at rest, and who is acting.
    sspf_keys: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Fernet keys for SSPF case data, comma-separated, newest first: the first encrypts, every "
            "key decrypts (rotation: put a new key first, run `samordna sspf nyckel rotera`, drop the old)."
        ),
    )
    sspf_key_file: Path | None = Field(
        default=None,
        description="A file (e.g. a mounted secret) with the SSPF keys, one per line, newest first.",
    )
    # The SSPF audit chain (issue 16): keyed outside the database, anchored where its owner cannot write.
    audit_keys: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "HMAC keys for the SSPF audit chain, comma-separated, newest first: the first seals new "
            "entries, every key verifies. Kept outside the database, like the SSPF keys."
        ),
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="A file (e.g. a mounted secret) with the audit keys, one per line, newest first.",
    )
    audit_anchor_file: Path | None = Field(
        default=None,
        description=(
            "An append-only file (chattr +a, a WORM share, a remote log mount) that receives the audit "
            "chain's anchors: head hash and count, sealed with the audit key."
        ),
    )
    audit_anchor_url: str = Field(
        default="",
        description="apprise URL (e.g. the kommun's log server) that also receives every anchor.",
    )
    audit_anchor_every: int = Field(
        default=1, ge=1, description="Write an anchor once this many audit entries were added since the last."
    )
    acting_user: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SAMORDNA_ANVANDARE", "acting_user"),
        description="Who runs SSPF commands: a person's e-mail address in the kommun's directory.",
    )
    # The web app (issue 12): personal links in the mails, and the coordinator's dashboard.
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people reach `samordna webb` at: the start of every link in a mail.",
    )
    web_secret: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "The secret that signs personal links (HMAC-SHA256), at least 32 characters. Empty: the file "
            "webb-hemlighet in data_dir, which `samordna demo` and `samordna webb --demo` write."
        ),
    )
    link_days: int = Field(default=30, ge=1, le=365, description="How long a personal link is valid.")
    web_session_hours: int = Field(
        default=8, ge=1, le=24 * 7, description="How long a login to the dashboard lasts."
    )

    run_chunk: int = Field(
        default=30,
        ge=1,
        le=1000,
        description="Kommuner per chunk of a national run: one transaction, one Prefect task each.",
    )
    run_threads: int = Field(
        default=2,
        ge=1,
        le=16,
        description=(
            "Chunks of a national run worked at once in one process, on PostgreSQL: while the database "
            "writes one chunk, Python renders the next (on SQLite, which has one writer, always 1)."
        ),
    )
    run_parts: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Parts a national run is split into, each a flow run of the deployment cykel-del that any "
            "worker of the pool takes (set it to the number of workers); 1: the run does every chunk itself."
        ),
    )

    @model_validator(mode="after")
    def _default_sqlite_file(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'samordna.db').as_posix()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


class SettingsError(DomainError):
    """A ``SAMORDNA_*`` variable (or .env line) holds a value Samordna cannot use; the message names it."""


# What each of pydantic's refusals means, in Swedish, for a person reading the variable's name.
_REFUSALS = {
    "greater_than_equal": "måste vara minst {ge}",
    "greater_than": "måste vara större än {gt}",
    "less_than_equal": "får vara högst {le}",
    "less_than": "måste vara mindre än {lt}",
    "int_parsing": "måste vara ett heltal",
    "int_from_float": "måste vara ett heltal",
    "float_parsing": "måste vara ett tal",
    "bool_parsing": "måste vara true eller false",
    "string_too_short": "är för kort (minst {min_length} tecken)",
    "string_too_long": "är för långt (högst {max_length} tecken)",
}


def settings_problem(error: ValidationError) -> str:
    """The Swedish message for settings pydantic refused: each variable by its name and what is wrong
    with it, never its value (some hold passwords or secrets)."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        if not field:
            variable = "inställningarna"
        elif field.startswith("SAMORDNA_"):  # read under its own variable name (validation_alias)
            variable = field
        else:
            variable = f"SAMORDNA_{field.upper()}"
        reason = _REFUSALS.get(problem["type"])
        lines.append(
            f"{variable} {reason.format(**problem.get('ctx', {}))}"
            if reason is not None
            else f"{variable} har ett värde som inte går att använda"
        )
    return "Inställningarna går inte att läsa: " + "; ".join(lines) + "."


def read_settings() -> Settings:
    """The settings as the environment (and .env) gives them now; SettingsError when a value is refused."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(settings_problem(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return read_settings()
