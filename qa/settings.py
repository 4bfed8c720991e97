"""Every setting of the service, read once from the environment (prefix QA_).

The OpenAI variables keep their usual names (OPENAI_API_KEY, OPENAI_BASE_URL) so
existing set-ups work unchanged.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]

GeneratorName = Literal["auto", "extractive", "llm"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    # Where things live
    data_dir: Path = Field(REPO_ROOT / ".qa", description="Index, caches and uploads.")
    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="Folder indexed by default.")
    embedding_cache: Path | None = Field(
        None, description="Vector cache file (default: <data_dir>/embeddings.sqlite3).")
    collection: str = Field(
        "documents", min_length=3, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$")
    corpora_dir: Path = Field(Path.home() / ".cache" / "grounded-qa" / "corpora",
                              description="Real evaluation corpora, fetched once (eval/corpora.py), outside the repo.")
    models_dir: Path = Field(Path.home() / ".cache" / "grounded-qa" / "models",
                             description="The bundled model, assembled once (1.1 GB) for every data dir of this user.")

    # Chunking and retrieval
    chunk_size: int = Field(256, ge=32, le=2000, description="Tokens per chunk (cl100k); about 190 e5 tokens.")
    chunk_overlap: int = Field(32, ge=0, le=500)
    top_k: int = Field(5, ge=1, le=50)
    max_top_k: int = Field(20, ge=1, le=100)
    candidates: int = Field(30, ge=5, le=200, description="Results taken from each retriever before fusion.")

    # Chroma server mode: set the host to use a server instead of the embedded store
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False

    # Embeddings: the bundled e5 model unless OpenAI embeddings are chosen explicitly
    embedder: Literal["e5", "openai"] = "e5"
    openai_embedding_model: str = "text-embedding-3-small"
    openai_embedding_dimension: int = 1536

    # Answer generation
    generator: GeneratorName = "auto"
    openai_api_key: str | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "QA_OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "QA_OPENAI_BASE_URL"))
    openai_model: str = Field("gpt-4.1-mini", validation_alias=AliasChoices("OPENAI_MODEL", "QA_OPENAI_MODEL"))
    llm_timeout_s: float = Field(60.0, gt=0, description="Give up on the model after this long, answer extractively.")
    llm_max_tokens: int = Field(200, ge=16, le=4000)
    llm_context_window: int = Field(16_000, ge=512, description="Tokens the model at OPENAI_BASE_URL takes in.")
    local_llm: bool = Field(True, description="Use the bundled local model when it is installed and no server is set.")
    local_llm_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    strict_citations: bool = Field(
        False, description="Also drop quotes the verifier cannot confirm; a model's unsupported sentence is never sent."
    )

    # HTTP
    api_key: str | None = Field(None, description="The reader's key: asks questions (API and chat).")
    admin_key: str | None = Field(None, description="The admin's key: also uploads and removes documents.")
    session_hours: float = Field(12.0, gt=0, description="How long the chat's login lasts.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of the load balancers whose X-Forwarded-For names the client.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_question_chars: int = Field(2000, ge=10)
    max_history_turns: int = Field(20, ge=0)
    max_history_turn_chars: int = Field(
        8000, ge=10, description="Longest earlier turn (an answer runs longer than a question).")
    max_upload_bytes: int = Field(
        20_000_000, ge=1000, description="Largest file accepted, uploaded or indexed from a folder.")
    max_upload_files: int = Field(20, ge=1)
    max_body_bytes: int = Field(25_000_000, ge=1000, description="Largest upload request body.")
    max_json_bytes: int = Field(256_000, ge=1000, description="Largest JSON request body.")
    rate_limit_per_minute: int = Field(300, ge=0, description="Requests per minute per client on /v1 (0: no limit).")
    rate_limit_burst: int = Field(60, ge=1)
    rate_limit_clients: int = Field(100_000, ge=1, description="Most client addresses the rate limiter remembers.")
    ui_concurrency: int = Field(
        1, ge=1, description="Answers the chat generates at once (the machine's CPU is shared).")
    ui_queue_size: int = Field(32, ge=1, description="Chat requests waiting beyond this are told the server is busy.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API from a browser.")

    @property
    def openai_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    def generator_for(self, asked: str | None) -> str:
        """The generator a request gets. `auto` is the one that measures best: a configured server's model,
        else quotes, which beat the bundled 1.5B model on correctness in both languages (docs/decisions.md)."""
        name = asked or self.generator
        if name != "auto":
            return name
        return "llm" if self.openai_configured and self.generator != "extractive" else "extractive"

    @field_validator("chroma_host", "openai_api_key", "openai_base_url", "api_key", "admin_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return value or None

    @cached_property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @cached_property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword" / self.collection

    @cached_property
    def embedding_cache_path(self) -> Path:
        return self.embedding_cache or self.data_dir / "embeddings.sqlite3"

    @cached_property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @cached_property
    def lock_path(self) -> Path:
        return self.data_dir / "index.lock"
