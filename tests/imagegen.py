"""Small image files made in the tests: asymmetric pictures, EXIF/XMP/ICC blobs, hand-built PNGs and profiles."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
from PIL import Image, ImageCms

XMP_DC_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
    b'xmp:CreatorTool="Darkroom 7" photoshop:City="Lisbon">'
    b"<dc:creator><rdf:Seq><rdf:li>Ana Lima</rdf:li></rdf:Seq></dc:creator>"
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dawn</rdf:li></rdf:Alt></dc:title>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>\n"
    b'<?xpacket end="w"?>'
)


def upright_rgb(height: int = 3, width: int = 5, dtype: type = np.uint8) -> np.ndarray:
    """An asymmetric HxWx3 picture whose every pixel differs: any flip or turn changes it."""
    values = np.arange(height * width * 3, dtype=np.int64).reshape(height, width, 3) * 7 + 3
    scale = 1 if dtype == np.uint8 else 257
    return ((values % 251) * scale).astype(dtype)


def blocky_rgb(height: int = 48, width: int = 80) -> np.ndarray:
    """An asymmetric picture of flat 16x16 blocks, which survives JPEG nearly unchanged."""
    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 16, axis=0), 16, axis=1)


# The inverse of what each EXIF orientation asks a viewer to do: the pixels a camera stores for an upright scene.
_STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels that show `upright` once a viewer applies `orientation`."""
    method = _STORED[orientation]
    if method is None:
        return upright.copy()
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(upright[:, :, c])).transpose(method))
                for c in range(upright.shape[2])]  # fmt: skip
    return np.dstack(channels)


def exif_bytes(
    orientation: int | None = None,
    make: str = "Canon",
    model: str = "EOS R5",
    date_original: str = "2024:05:06 07:08:09",
    gps_latitude_ref: str | None = "N",
) -> bytes:
    """A raw EXIF block (TIFF header first, no b'Exif' marker) with IFD0, Exif and GPS entries."""
    exif = Image.Exif()
    exif[271] = make
    exif[272] = model
    if orientation is not None:
        exif[274] = orientation
    exif.get_ifd(0x8769)[36867] = date_original
    if gps_latitude_ref:
        exif.get_ifd(0x8825)[1] = gps_latitude_ref
    return exif.tobytes()[6:]


def exif_fields(raw: bytes | None) -> dict[str, object]:
    """The EXIF facts the tests check: make, model, orientation, original date, GPS reference."""
    assert raw, "no EXIF"
    exif = Image.Exif()
    exif.load(raw)
    return {
        "make": exif.get(271),
        "model": exif.get(272),
        "orientation": exif.get(274),
        "date_original": exif.get_ifd(0x8769).get(36867),
        "gps_ref": exif.get_ifd(0x8825).get(1),
    }


@cache
def srgb_profile() -> bytes:
    """LittleCMS's sRGB profile; cached, because each new one carries the time it was made."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid PNG header claiming a huge grey image, followed by a few bytes of image data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def encode_with_pillow(array: np.ndarray, fmt: str, **options: object) -> bytes:
    """Encode with Pillow (not Retouch), so a test reads files written by another program."""
    samples = array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(samples)).save(buffer, fmt, **options)
    return buffer.getvalue()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def cmyk_profile_mapping_everything_to(lab: tuple[float, float, float]) -> bytes:
    """A minimal ICC v2 CMYK printer profile whose A2B0 table maps every CMYK value to one Lab colour.

    Converting through it gives that colour everywhere, which a plain CMYK->RGB formula never would: proof that
    the embedded profile was used.
    """
    l_code = round(lab[0] / 100 * 255)
    a_code, b_code = round(lab[1] + 128), round(lab[2] + 128)
    grid = 2
    identity = bytes(range(256))
    lut = (
        b"mft1" + b"\0" * 4 + bytes([4, 3, grid, 0])
        + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
        + identity * 4
        + bytes([l_code, a_code, b_code]) * grid**4
        + identity * 3
    )  # fmt: skip
    text = b"CMYK test profile"
    desc = (
        b"desc" + b"\0" * 4 + struct.pack(">I", len(text) + 1) + text + b"\0"
        + b"\0" * 4 + b"\0" * 4 + b"\0" * 2 + b"\0" + b"\0" * 67
    )  # fmt: skip
    white = b"XYZ " + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", white), (b"A2B0", lut)]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"prtr" + b"CMYK" + b"Lab "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
        + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4 + b"\0" * 44
    )  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
