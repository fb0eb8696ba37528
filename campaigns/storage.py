"""Static files storage: content-hashed, compressed names once `collectstatic`
has run (production), plain names before it (development, tests)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def hashed_name(self, name, content=None, filename=None):
        # Without collected files there is nothing to hash: link the plain
        # name, which runserver and WhiteNoise's finders serve.
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            return name
