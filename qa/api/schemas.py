"""The API's request and response bodies.

The question bodies are made per app (`request_bodies`) so that the limits of its
settings are written into the OpenAPI spec; the OpenAI-compatible bodies are
OpenAI's own types, extended with the answer's citations.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_serializer

from qa.answer import Citation, SearchHit
from qa.settings import Settings

# Something to read, and no NUL characters.
READABLE_TEXT = r"^[^\x00]*\S[^\x00]*$"
NO_NUL = r"^[^\x00]*$"


# -- errors ------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


# -- service and questions ---------------------------------------------------------------
class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    generators: list[str]


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class TextDelta(BaseModel):
    """A `delta` event of the answer stream: verified text, in order."""

    text: str


class CitationList(BaseModel):
    """The `citations` event of the answer stream, sent before `done`."""

    citations: list[Citation]


@dataclass(frozen=True)
class RequestBodies:
    ask: type[BaseModel]
    search: type[BaseModel]


def request_bodies(settings: Settings, generators: list[str]) -> RequestBodies:
    """The question bodies, with the limits of these settings written into the OpenAPI spec."""
    question_field = Field(min_length=1, max_length=settings.max_question_chars, pattern=READABLE_TEXT,
                           description="The question, in French or English.")
    top_k_field = Field(None, ge=1, le=settings.max_top_k, description="How many passages to retrieve.")
    top_k_type = Annotated[int, BeforeValidator(_integral)]  # JSON Schema calls 5.0 an integer too
    generator_name = Literal[("auto", *generators)]  # type: ignore[misc]

    class Turn(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        role: Literal["user", "assistant"]
        content: str = Field(max_length=settings.max_history_turn_chars, pattern=NO_NUL)

    class AskRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        question: str = question_field
        top_k: top_k_type | None = top_k_field
        generator: generator_name | None = Field(None, description="Which generator writes the answer.")
        history: list[Turn] = Field(default_factory=list, max_length=settings.max_history_turns,
                                    description="Earlier turns, oldest first, for follow-up questions.")
        strict: bool | None = Field(None, description="Also drop quotes the passages do not confirm (otherwise shown "
                                    "with supported: false); a model's unsupported sentence is never sent.")

        def service_arguments(self) -> dict[str, Any]:
            """The arguments of `QAService.ask` and `ask_stream` this body asks for."""
            return {"question": self.question, "top_k": self.top_k, "generator": self.generator,
                    "history": [turn.model_dump() for turn in self.history], "strict": self.strict}

    class SearchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        question: str = question_field
        top_k: top_k_type | None = top_k_field

    return RequestBodies(ask=AskRequest, search=SearchRequest)


def _integral(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


# -- OpenAI-compatible ---------------------------------------------------------------------
class ChatMessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request; sampling options are accepted and ignored.

    The last message from the user is the question; earlier user and assistant
    messages are the conversation.
    """

    model_config = ConfigDict(extra="allow")

    model: str = "grounded-qa"
    messages: list[ChatMessageIn] = Field(
        min_length=1,
        json_schema_extra={
            "contains": {"type": "object", "properties": {"role": {"const": "user"}}, "required": ["role"]},
        },
    )
    stream: bool = False


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def _whole_citations(citations: list[Citation] | None):  # unannotated: the spec shows the citations' own schema
    """Every field of every citation: the replies are sent without OpenAI's unset optional
    fields, and that must not thin out the citations."""
    return None if citations is None else [citation.model_dump(mode="json") for citation in citations]


class GroundedChatCompletion(ChatCompletion):
    """OpenAI's chat completion, with the passages the answer cites and whether it abstained."""

    citations: list[Citation]
    abstained: bool

    _serialize_citations = field_serializer("citations")(_whole_citations)


class GroundedChatCompletionChunk(ChatCompletionChunk):
    """OpenAI's streamed chunk; the last one carries the citations and whether the answer abstained."""

    citations: list[Citation] | None = None
    abstained: bool | None = None

    _serialize_citations = field_serializer("citations")(_whole_citations)


# -- documents -----------------------------------------------------------------------------
class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    title: str
    source: str
    date: str | None
    language: str
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class UploadedDocument(BaseModel):
    filename: str
    doc_id: str
    chunks: int


class UploadProblem(BaseModel):
    """A file an upload did not index: `code` says why for a program, `message` for a person (in English)."""

    filename: str
    code: str = Field(description="too_large, empty, unsupported_type, not_what_it_claims, invalid_name, "
                                  "unreadable, damaged, encrypted, no_text, not_text, too_many_pages, "
                                  "unpacks_too_large or same_id")
    message: str


class UploadResult(BaseModel):
    documents: list[UploadedDocument]
    errors: list[UploadProblem]


class UploadRejectedBody(ErrorBody):
    files: list[UploadProblem]


class UploadRejected(ErrorResponse):
    """The 413 or 415 of an upload that indexed nothing: the usual error, and each file's problem."""

    error: UploadRejectedBody
