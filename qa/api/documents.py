"""Documents: `/v1/documents` to list and upload, `/v1/documents/{doc_id}` to remove.

The gate lets only the admin upload and remove (`qa.api.auth`).
"""

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from index.loaders import SUPPORTED_SUFFIXES
from qa.api.dependencies import Service
from qa.api.errors import ApiError
from qa.api.schemas import DocumentList, DocumentOut, UploadedDocument, UploadProblem, UploadRejected, UploadResult
from qa.service import QAService


def router(max_upload_files: int) -> APIRouter:
    """The document routes; the spec says how many files one upload may carry."""
    documents = APIRouter(tags=["documents"])
    upload_files = Annotated[list[UploadFile], File(description=f"{', '.join(SUPPORTED_SUFFIXES)} files",
                                                    json_schema_extra={"minItems": 1, "maxItems": max_upload_files})]

    @documents.get("/documents", response_model=DocumentList)
    def list_documents(service: Service) -> DocumentList:
        return DocumentList(documents=[DocumentOut.model_validate(record) for record in service.documents()])

    @documents.post("/documents", response_model=UploadResult,
                    responses={status: {"model": UploadRejected} for status in (413, 415)})
    def upload_documents(files: upload_files, service: Service) -> UploadResult:
        return upload(files, service)

    @documents.delete("/documents/{doc_id:path}", status_code=204)
    def delete_document(doc_id: str, service: Service) -> Response:
        if not service.remove_document(doc_id):
            raise ApiError(404, "not_found", f"no document {doc_id!r}")
        return Response(status_code=204)

    return documents


def upload(files: list[UploadFile], service: QAService) -> UploadResult:
    """Index the files the service accepts; a 413 or 415 when it accepts none."""
    settings = service.settings
    if len(files) > settings.max_upload_files:
        raise ApiError(422, "too_many_files", f"at most {settings.max_upload_files} files per upload")
    # One byte over the limit is enough for the service to refuse the file, without reading it all.
    received = [(file.filename or "document", file.file.read(settings.max_upload_bytes + 1)) for file in files]
    outcome = service.add_documents(received)
    result = UploadResult(
        documents=[UploadedDocument(filename=name, doc_id=doc_id, chunks=chunks)
                   for name, doc_id, chunks in outcome.indexed],
        errors=[UploadProblem(filename=r.filename, code=r.code, message=r.message) for r in outcome.rejected],
    )
    if not result.documents:
        raise ApiError(rejection_status(result.errors), "upload_rejected",
                       "; ".join(f"{e.filename}: {e.message}" for e in result.errors),
                       extra={"files": [e.model_dump() for e in result.errors]})
    return result


def rejection_status(problems: list[UploadProblem]) -> int:
    """413 when a file was too large (a smaller one may pass), 415 when none can be indexed as it is."""
    return 413 if any(p.code == "too_large" for p in problems) else 415
