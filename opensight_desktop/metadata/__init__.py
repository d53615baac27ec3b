"""Metadata and provenance read from evidence bytes: EXIF (exifread), GPS, XMP, PNG text,
ICC, JPEG quantisation, C2PA, embedded thumbnail; and the flags an examiner reads next to
the score. Pure functions of the file's bytes: no case, no Qt, no network."""
