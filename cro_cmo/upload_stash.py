"""Keep an uploaded file across a form's validation error, so the user does not choose it again.

A browser never re-sends a file input: after an error elsewhere on the form the file would be lost.
``stash_upload`` writes the upload to a private directory (``VAR_DIR/upload-stash``, never served) and
returns a signed token naming it, the user and the field; the form carries the token in a hidden input
and ``restore_upload`` turns it back into an uploaded file on the next submit. The token is signed (a
forged or altered one is ignored), bound to the user and the field, and expires after ``MAX_AGE``;
stashed files older than that are swept on the next stash. The restored file goes through the form's
and the model's validators again, like a fresh upload.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

SALT = "cro_cmo.upload_stash"
MAX_AGE = 60 * 60  # seconds: a form corrected within the hour keeps its file
MAX_BYTES = 20 * 1024 * 1024
TOKEN_SUFFIX = "__kept"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def stash_dir() -> Path:
    path = Path(settings.VAR_DIR) / "upload-stash"
    path.mkdir(parents=True, exist_ok=True)
    return path


def token_field(name: str) -> str:
    """The hidden input's name for file field ``name``."""
    return name + TOKEN_SUFFIX


def _sweep(directory: Path) -> None:
    cutoff = time.time() - MAX_AGE
    for path in directory.glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def stash_upload(*, user, field: str, uploaded) -> str | None:
    """Write ``uploaded`` to the stash and return its signed token (None if it cannot or should not be kept)."""
    size = getattr(uploaded, "size", 0) or 0
    if not size or size > MAX_BYTES:
        return None
    directory = stash_dir()
    _sweep(directory)
    key = uuid.uuid4().hex
    with open(directory / f"{key}.upload", "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    uploaded.seek(0)
    name = SAFE_NAME.sub("_", Path(uploaded.name or "file").name)[:120] or "file"
    content_type = getattr(uploaded, "content_type", "") or "application/octet-stream"
    return signing.dumps({"k": key, "n": name, "u": user.pk, "f": field, "t": content_type}, salt=SALT)


def _payload(token: str, *, user, field: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("f") != field:
        return None
    if not re.fullmatch(r"[0-9a-f]{32}", str(data.get("k", ""))):
        return None
    return data


def restore_upload(token: str, *, user, field: str) -> SimpleUploadedFile | None:
    """The file a valid token names, as an upload again; None for a bad, foreign or expired token."""
    data = _payload(token, user=user, field=field)
    if data is None:
        return None
    path = stash_dir() / f"{data['k']}.upload"
    try:
        content = path.read_bytes()
    except OSError:
        return None
    return SimpleUploadedFile(data["n"], content, content_type=data.get("t") or "application/octet-stream")


def discard_upload(token: str, *, user, field: str) -> None:
    """Remove a stashed file once it has been saved for good (or replaced)."""
    data = _payload(token, user=user, field=field)
    if data is not None:
        (stash_dir() / f"{data['k']}.upload").unlink(missing_ok=True)
