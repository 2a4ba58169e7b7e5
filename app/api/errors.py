"""JSON errors for the API: a stable code, a message, and the fields at fault."""

from __future__ import annotations

from pydantic import ValidationError
from pymongo.errors import PyMongoError
from quart import Quart, Response, has_request_context, jsonify, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from app.api.models import ApiError, FieldProblem
from app.json_input import JsonTooDeep, check_depth
from app.vendors.base import VendorError
from app.web.problems import HttpProblem

API_PREFIXES = ("/booking-flow-routers", "/scheduler", "/bookings", "/api/")


def api_error(status: int, code: str, message: str, fields: list[FieldProblem] | None = None) -> Response:
    response = jsonify(ApiError(error=code, message=message, fields=fields or []).model_dump())
    response.status_code = status
    return response


def _field_problems(error: Exception) -> list[FieldProblem]:
    if not isinstance(error, ValidationError):
        return [FieldProblem(field="(body)", message=str(error)[:300])]
    return [
        FieldProblem(field=".".join(str(p) for p in e["loc"]) or "(body)", message=e["msg"])
        for e in error.errors(include_url=False)
    ]


def init_errors(app: Quart) -> None:
    @app.before_request
    async def bounded_json() -> Response | None:
        """A JSON body nested too deeply is refused before anything parses it."""
        if request.path.startswith(API_PREFIXES) and request.method in {"POST", "PUT", "PATCH"} and request.is_json:
            try:
                check_depth(await request.get_data())
            except JsonTooDeep as exc:
                return api_error(400, "invalid_json", f"The request body is not accepted: {exc}.")
        return None

    @app.errorhandler(RecursionError)
    async def nested_too_deeply(error: RecursionError) -> Response:
        # A last guard: input that made a parser recurse without end is the sender's fault.
        message = "The request is nested too deeply."
        if has_request_context() and request.path.startswith(API_PREFIXES):
            return api_error(400, "invalid_json", message)
        return Response(message, status=400, content_type="text/plain; charset=utf-8")

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_request(error: RequestSchemaValidationError) -> Response:
        fields = _field_problems(error.validation_error)
        summary = "; ".join(f"{f.field}: {f.message}" for f in fields)
        return api_error(422, "invalid_request", f"The request is not valid: {summary}", fields)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response | HTTPException:
        # A websocket refused before its handshake has no request: it keeps the plain answer.
        if has_request_context() and request.path.startswith(API_PREFIXES):
            code = (error.name or "error").lower().replace(" ", "_")
            return api_error(error.code or 500, code, error.description or error.name)
        return error

    @app.errorhandler(UnicodeDecodeError)
    async def undecodable_body(error: UnicodeDecodeError) -> Response:
        # Quart decodes a JSON body as UTF-8 before parsing it and lets this escape.
        message = "The request body is not valid UTF-8."
        if request.path.startswith(API_PREFIXES):
            return api_error(400, "invalid_encoding", message)
        return Response(message, status=400, content_type="text/plain; charset=utf-8")

    @app.errorhandler(VendorError)
    async def vendor_failed(error: VendorError) -> Response:
        # Only API routes reach here; the step routes answer with a fragment of their own.
        response = api_error(503, "vendor_unavailable", "The company's scheduling system did not answer. Try again shortly.")
        response.headers["Retry-After"] = str(int(getattr(error, "retry_after", None) or 30))
        return response

    @app.errorhandler(PyMongoError)
    async def database_unreachable(error: PyMongoError) -> Response:
        # The step routes answer with a fragment of their own (app/web/steps.py).
        message = "The booking service cannot reach its database. Try again shortly."
        if has_request_context() and request.path.startswith(API_PREFIXES):
            response = api_error(503, "service_unavailable", message)
        else:
            response = Response(message, status=503, content_type="text/plain; charset=utf-8")
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(HttpProblem)
    async def access_denied(error: HttpProblem) -> Response:
        response = api_error(error.status, error.code, error.message)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
