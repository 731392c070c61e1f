"""Readers turn a file into the page model (``pipelines.model``)."""

from pipelines.readers.dispatch import ReadError, read_document, sha256_file

__all__ = ["ReadError", "read_document", "sha256_file"]
