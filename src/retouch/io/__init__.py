"""Image files in and out with nothing lost: pixels, alpha, bit depth, ICC, EXIF, XMP, DPI; atomic writes;
AI-edit provenance in XMP.

Importing this package loads numpy and Pillow only; OpenCV, tifffile and pillow-heif load when a file needs them.
"""

from retouch.io.decode import load_image, probe
from retouch.io.encode import encode_image
from retouch.io.formats import FORMATS, ImageFormat, format_for_path, format_named
from retouch.io.limits import DEFAULT_MAX_PIXELS
from retouch.io.opened import ImageHeader
from retouch.io.save import save_image
from retouch.io.xmp import Provenance, read_provenance

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "ImageFormat",
    "ImageHeader",
    "Provenance",
    "encode_image",
    "format_for_path",
    "format_named",
    "load_image",
    "probe",
    "read_provenance",
    "save_image",
]
