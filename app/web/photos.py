"""Photos of the problem, over HTTP: the widget's photo code (static/widget/photos.js) asks
for a presigned upload form, POSTs the file straight to S3, asks the server to check what
arrived, and may remove a photo. Links to a kept copy (`/photos/<token>`) redirect to a
presigned GET, so the bucket stays private.

Answers are JSON: `{"id", "upload": {"url", "fields"}, "check_url", "remove_url", "max_bytes"}`,
`{"id", "thumb_url", "url", "width", "height"}`, or `{"error": code, "message": …}` in the
visitor's language. Only a session whose flow asks for photos for its service, on its
AdditionalDetails step, may add them.
"""

from __future__ import annotations

import logging
import re

from pymongo.errors import PyMongoError
from quart import Blueprint, Response, jsonify, request

from app.domain.photo import Photo
from app.i18n import N_, gettext
from app.photos.storage import StorageUnavailable
from app.photos.uploads import NOT_FOUND, STORAGE_PROBLEM, PhotoRefused, PhotoUploads
from app.steps.engine import Visit
from app.web import rate_limits, services
from app.web.access import current_visit
from app.web.languages import speak, speak_the_browsers_language
from app.web.problems import DATABASE_PROBLEM, HttpProblem
from app.web.urls import external_url

bp = Blueprint("photos", __name__)
log = logging.getLogger(__name__)

PHOTO_ID = re.compile(r"^[0-9a-f]{16}$")
NOT_ASKED = N_("This booking form doesn't take photos.")
NOT_NOW = N_("Photos are added on the details step.")

bp.before_request(speak_the_browsers_language)


def _problem(status: int, code: str, message: str, retry_after: int | None = None) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HttpProblem)
async def http_problem(error: HttpProblem) -> Response:
    return _problem(error.status, error.code, error.message, error.retry_after)


@bp.errorhandler(PhotoRefused)
async def refused(error: PhotoRefused) -> Response:
    return _problem(error.status, error.code, gettext(error.message) % error.values if error.values else gettext(error.message))


@bp.errorhandler(StorageUnavailable)
async def storage_unavailable(error: StorageUnavailable) -> Response:
    log.warning("the uploads bucket did not answer", extra={"problem": str(error)[:300]})
    return _problem(503, "storage_unavailable", gettext(STORAGE_PROBLEM), 30)


@bp.errorhandler(PyMongoError)
async def database_unreachable(error: PyMongoError) -> Response:
    log.warning("database unreachable during a photo request", extra={"problem": str(error)[:300]})
    return _problem(503, "database_unavailable", gettext(DATABASE_PROBLEM), 30)


def _uploads() -> PhotoUploads:
    uploads = services.current().photos
    if uploads is None:
        raise HttpProblem(404, "no_photos", gettext(NOT_ASKED))
    return uploads


async def _visit() -> tuple[PhotoUploads, Visit]:
    """The session asking, in its language, counted against the photo rate limits."""
    service = services.current()
    now = service.clock()
    uploads = _uploads()
    await rate_limits.check(service.db, "photos_per_ip", rate_limits.client_ip(), now)
    visit = await current_visit(service.db, now)
    speak(visit.session.locale, visit.flow)
    await rate_limits.check(service.db, "photos_per_session", visit.session.id, now)
    return uploads, visit


def _photo_id(photo_id: str) -> str:
    if not PHOTO_ID.fullmatch(photo_id):
        raise PhotoRefused(404, "no_such_photo", NOT_FOUND)
    return photo_id


def photo_link(key: str) -> str:
    service = services.current()
    return external_url("photos.photo", token=service.photo_links.token(key, service.clock()))


def photo_json(photo: Photo) -> dict[str, object]:
    return {"id": photo.id, "thumb_url": photo_link(photo.thumb_key), "url": photo_link(photo.key),
            "width": photo.width, "height": photo.height}


@bp.post("/session/photos")
async def begin_upload() -> Response:
    """A presigned form for one more photo: `content_type` and `size` (bytes) of the file."""
    uploads, visit = await _visit()
    session, flow = visit.session, visit.flow
    service = session.booking.service
    asked = flow.photos_for(service.id if service else None)
    if asked is None:
        raise HttpProblem(409, "photos_not_asked", gettext(NOT_ASKED))
    step = flow.step(session.current_step)
    if step is None or step.type != "AdditionalDetails" or session.status != "active":
        raise HttpProblem(409, "not_on_details_step", gettext(NOT_NOW))
    form = await request.form
    content_type = (form.get("content_type") or "")[:100].strip().lower()
    try:
        size = int((form.get("size") or "")[:20])
    except ValueError:
        raise HttpProblem(400, "bad_size", "Send the file's size in bytes as `size`.") from None
    upload = await uploads.begin(session.organization_id, session.id, content_type, size, services.current().clock(), asked.max_photos)
    answer = jsonify({
        "id": upload.photo_id,
        "upload": {"url": upload.url, "fields": upload.fields},
        "max_bytes": upload.max_bytes,
        "check_url": external_url("photos.check_upload", photo_id=upload.photo_id),
        "remove_url": external_url("photos.remove_photo", photo_id=upload.photo_id),
    })
    answer.status_code = 201
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.post("/session/photos/<photo_id>")
async def check_upload(photo_id: str) -> Response:
    """The file was POSTed to S3: check it, keep its copies, answer with their links."""
    uploads, visit = await _visit()
    photo = await uploads.check(visit.session.id, _photo_id(photo_id))
    answer = jsonify(photo_json(photo))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.delete("/session/photos/<photo_id>")
async def remove_photo(photo_id: str) -> Response:
    uploads, visit = await _visit()
    await uploads.remove(visit.session.id, _photo_id(photo_id))
    return Response("", status=204)


@bp.get("/photos/<token>")
async def photo(token: str) -> Response:
    """A signed link to a kept copy: a redirect to S3 for a few minutes."""
    service = services.current()
    uploads = _uploads()
    key = service.photo_links.key_of(token, service.clock())
    if key is None:
        return Response("This photo link is not valid.", status=404, content_type="text/plain; charset=utf-8")
    answer = Response("", status=302)
    answer.headers["Location"] = await uploads.store.link(key)
    answer.headers["Cache-Control"] = "private, max-age=600"
    answer.headers["Referrer-Policy"] = "no-referrer"
    return answer
