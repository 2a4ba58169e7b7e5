"""/_dev/mail: what the local SMTP server received (development and tests, never production).

The list, newest first; each message rendered (its HTML in a sandboxed frame, so its
links and styles stay inside), its plain text, its source, and its attachments.
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Response, abort, render_template

from app.demo.mailbox import StoredMail, read_folder, read_one
from app.web import services

bp = Blueprint("dev_mail", __name__)


def _folder() -> Path:
    folder = services.current().settings.dev_mailbox_dir
    if folder is None:
        abort(404)
    return folder


def _message(mail_id: str) -> StoredMail:
    found = read_one(_folder(), mail_id)
    if found is None:
        abort(404)
    return found


@bp.get("/_dev/mail")
async def mail_list() -> str:
    return await render_template("dev/mail_list.html", messages=read_folder(_folder()))


@bp.get("/_dev/mail/<mail_id>")
async def mail_message(mail_id: str) -> str:
    return await render_template("dev/mail_message.html", mail=_message(mail_id))


@bp.get("/_dev/mail/<mail_id>/source")
async def mail_source(mail_id: str) -> Response:
    return Response(_message(mail_id).raw, content_type="text/plain; charset=utf-8")


@bp.get("/_dev/mail/<mail_id>/attachments/<int:index>")
async def mail_attachment(mail_id: str, index: int) -> Response:
    attachments = _message(mail_id).attachments()
    if not 0 <= index < len(attachments):
        abort(404)
    name, content_type, data = attachments[index]
    safe_name = "".join(c for c in name if c.isalnum() or c in "._-") or "attachment"
    return Response(
        data, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{safe_name}"'}
    )
