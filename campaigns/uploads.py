"""Uploads too large for any of the app's caps are refused before they are read.

Django keeps a small uploaded file in memory and streams a larger one to a
temporary file. `CappedUploadHandler` comes first among the upload handlers
(settings.FILE_UPLOAD_HANDLERS): when a request is larger than the largest cap
(IMAGE_MAX_BYTES, AUDIENCE_CSV_MAX_BYTES), each of its files is discarded as it
arrives, neither kept in memory nor written to disk, and stands in the form as
a `RefusedUpload` of the request's size and no content. Each form then refuses
it with its own message, by size, before anything reads it.
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers


def upload_max_bytes() -> int:
    """The largest upload any page accepts."""
    return max(settings.IMAGE_MAX_BYTES, settings.AUDIENCE_CSV_MAX_BYTES)


class RefusedUpload(UploadedFile):
    """A file that was too large to keep: its name and size, no content."""

    def __init__(self, *, name: str, content_type: str, size: int, charset):
        super().__init__(io.BytesIO(), name, content_type, size, charset)


class CappedUploadHandler(FileUploadHandler):
    """Swallows every file of a request larger than `upload_max_bytes()`."""

    too_large = False

    def handle_raw_input(
        self, input_data, META, content_length, boundary, encoding=None
    ):
        # A multipart body carries its files, so its length bounds theirs.
        self.request_bytes = content_length
        self.too_large = content_length > upload_max_bytes()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.too_large:
            # The other handlers open neither a buffer nor a temporary file.
            raise StopFutureHandlers

    def receive_data_chunk(self, raw_data, start):
        return None if self.too_large else raw_data

    def file_complete(self, file_size):
        if not self.too_large:
            return None
        return RefusedUpload(
            name=self.file_name,
            content_type=self.content_type,
            size=self.request_bytes,
            charset=self.charset,
        )
