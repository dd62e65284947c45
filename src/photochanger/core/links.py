"""Every path the app hands out to booths, guests and providers, built in one place."""


class Links:
    """Paths relative to the public base URL; `AppConfig.absolute_url(path)` makes a full link of one.

    The routes serving them are registered by their own packages; these builders only spell the paths.
    """

    @staticmethod
    def result(job_id: str) -> str:
        """The result as an attachment (`public/`)."""
        return f"/public/results/{job_id}"

    @staticmethod
    def preview(job_id: str) -> str:
        return f"/public/results/{job_id}/preview"

    @staticmethod
    def views(job_id: str) -> str:
        """The prefix of the sized views; append `/{long_side}`."""
        return f"/public/results/{job_id}/view"

    @staticmethod
    def share(job_id: str) -> str:
        return f"/public/results/{job_id}/share"

    @staticmethod
    def guest_page(job_id: str) -> str:
        """The guest page behind the QR code."""
        return f"/r/{job_id}"

    @staticmethod
    def job_status(job_id: str) -> str:
        return f"/api/jobs/{job_id}"

    @staticmethod
    def ingest(slot_id: str) -> str:
        return f"/api/ingest/{slot_id}"

    @staticmethod
    def gallery(token: str) -> str:
        return f"/e/{token}"

    @staticmethod
    def event_logo(event_id: str) -> str:
        return f"/public/events/{event_id}/logo"

    @staticmethod
    def slot_logo(media_id: str) -> str:
        return f"/public/slots/logo/{media_id}"
