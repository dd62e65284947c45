"""`local` provider: offline Pillow operations (passthrough, filter, frame, green screen, crop).

Each job decodes, transforms, stamps and encodes in one call into the bounded image thread pool, so the
event loop never runs pixel work.
"""

from collections.abc import Mapping

from PIL import Image
from pydantic import BaseModel

from photochanger.core.images import (
    ImageProblem,
    jpeg_orientation,
    load_oriented,
    run_image_work,
    strip_jpeg_metadata,
)
from photochanger.providers.base import (
    ConnectionCheck,
    Deadline,
    FieldProblem,
    Operation,
    Photo,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    SlotCheck,
)
from photochanger.providers.imaging import finish_image, result, template
from photochanger.providers.local import compose
from photochanger.providers.local.effects import apply_filter
from photochanger.providers.local.schemas import (
    CropOptions,
    FilterOptions,
    FrameOptions,
    GreenScreenOptions,
    PassthroughOptions,
)

__all__ = ["LocalProvider", "PassthroughOptions"]


def _decode(data: bytes, what: str) -> Image.Image:
    try:
        return load_oriented(data)
    except ImageProblem as exc:
        raise ProviderFailed(f"the local engine could not decode the {what}") from exc


def _transform(photo: Image.Image, options: BaseModel, request: ProviderRequest) -> Image.Image:
    if isinstance(options, FilterOptions):
        return apply_filter(photo, options.name)
    if isinstance(options, FrameOptions):
        with _decode(template(request, options.frame_media_id).data, "frame") as frame_img:
            return compose.frame(photo, frame_img, options.fit, options.background)
    if isinstance(options, GreenScreenOptions):
        with _decode(template(request, options.background_media_id).data, "background") as background:
            return compose.green_screen(
                photo, background, options.key_color, options.tolerance, options.spill
            )
    if isinstance(options, CropOptions):
        return compose.crop(photo, options.aspect_ratio)
    return photo


def _lossless_passthrough(options: BaseModel, request: ProviderRequest) -> bytes | Photo | None:
    """A JPEG that needs no rotation and no stamp, wanted back as JPEG, keeps its compressed data: only the
    metadata goes. With none to drop the result is the photo itself, unread when the validation already
    knows that (`Photo.metadata_free`). Re-encoding would cost time on every shot and lose quality for
    nothing."""
    if not isinstance(options, PassthroughOptions) or options.stamp_qr:
        return None
    if request.content_type != "image/jpeg" or request.output_type != "image/jpeg":
        return None
    if request.photo.metadata_free:
        return request.photo
    if jpeg_orientation(request.image) != 1:
        return None
    stripped = strip_jpeg_metadata(request.image)
    return request.photo if stripped is not None and stripped is request.image else stripped


def _frame_problems(options: FrameOptions, check: SlotCheck) -> list[FieldProblem]:
    frame = check.templates.get(options.frame_media_id)
    if frame is None:
        return []
    try:
        with load_oriented(frame.data) as img:
            transparent = "A" in img.getbands() or "transparency" in img.info
    except ImageProblem:
        return [FieldProblem("frame_media_id", "The frame image cannot be decoded", "template_unreadable")]
    if transparent:
        return []
    return [
        FieldProblem(
            "frame_media_id",
            "The frame has no transparency, so it would hide the photo; use a PNG or WebP with "
            "transparent windows",
            "frame_without_transparency",
        )
    ]


def process(options: BaseModel, request: ProviderRequest) -> bytes:
    """Decode the photo, apply the operation its options describe, stamp and encode. Blocking."""
    with _decode(request.image, "photo") as photo:
        return finish_image(_transform(photo, options, request), options, request)


class LocalProvider:
    """The offline engine: always configured, no network."""

    id = "local"
    title = "Local (offline)"

    def __init__(self) -> None:
        self.operations: Mapping[str, Operation] = {
            "passthrough": Operation("passthrough", "Passthrough", PassthroughOptions),
            "filter": Operation("filter", "Filter", FilterOptions),
            "frame": Operation("frame", "Frame", FrameOptions, ("frame_media_id",)),
            "green_screen": Operation(
                "green_screen", "Green screen", GreenScreenOptions, ("background_media_id",)
            ),
            "crop": Operation("crop", "Crop", CropOptions),
        }

    @property
    def configured(self) -> bool:
        return True

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        """A frame without transparency would cover the photo on every shot."""
        if isinstance(check.options, FrameOptions):
            return _frame_problems(check.options, check)
        return []

    async def check_connection(self, deadline: Deadline, api_key: str | None = None) -> ConnectionCheck:
        """Nothing to connect to: the engine runs in this process."""
        return ConnectionCheck(True, "ok: the local engine needs no connection")

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult:
        if operation not in self.operations:
            raise ProviderFailed(f"local has no operation {operation!r}")
        model = self.operations[operation].options_model
        options = request.options
        if not isinstance(options, model):
            raise ProviderFailed(f"expected {model.__name__} options for local.{operation}")
        if request.deadline.expired:
            raise ProviderTimeout("deadline passed before the local engine started")
        lossless = await run_image_work(_lossless_passthrough, options, request)
        if lossless is not None:
            # `same_pixels` tells the caller the input's preview is this result's preview too; a `Photo`
            # result (`same_bytes`), that the result is the upload itself, which it may keep, not copy.
            same = isinstance(lossless, Photo)
            meta = {"operation": operation, "same_pixels": True, "same_bytes": same}
            return result(lossless, request, meta)
        data = await run_image_work(process, options, request)
        return result(data, request, {"operation": operation})
