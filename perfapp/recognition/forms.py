"""Turn submitted recognition forms into service inputs (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import FileStorage, MultiDict

from perfapp.core.validation import parse_int
from perfapp.recognition.badges import ICON_MAX_BYTES, AwardInput, BadgeInput
from perfapp.recognition.flowers import FlowerInput

_TRUE = {"1", "on", "true", "yes"}


def parse_flowers(form: MultiDict) -> FlowerInput:
    return FlowerInput(receiver_id=parse_int(form.get("receiver_id")), count=parse_int(form.get("count")),
                       message=form.get("message", ""), tag_id=parse_int(form.get("tag_id")),
                       milestone_id=parse_int(form.get("milestone_id")))


def parse_award(form: MultiDict) -> AwardInput:
    return AwardInput(badge_id=parse_int(form.get("badge_id")), receiver_id=parse_int(form.get("receiver_id")),
                      citation=form.get("citation", ""), milestone_id=parse_int(form.get("milestone_id")))


def _read_upload(upload: FileStorage | None) -> bytes | None:
    """The uploaded bytes, read one byte past the limit so a too-big file is known without reading it all."""
    if upload is None or not upload.filename:
        return None
    return upload.stream.read(ICON_MAX_BYTES + 1)


def parse_badge(form: MultiDict, files: MultiDict) -> BadgeInput:
    return BadgeInput(
        name_zh=form.get("name_zh", ""), name_en=form.get("name_en", ""),
        description_zh=form.get("description_zh", ""), description_en=form.get("description_en", ""),
        icon=form.get("icon", ""), use_image=form.get("icon_source") == "image",
        image=_read_upload(files.get("image")), colour=form.get("colour", ""),
        tag_id=parse_int(form.get("tag_id")), awarders=form.get("awarders", "anyone"),
        monthly_limit=parse_int(form.get("monthly_limit")), active=form.get("active", "") in _TRUE,
    )
