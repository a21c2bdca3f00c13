"""Draws the page's app icons (www/icon-192.png and www/icon-512.png, for the web manifest that
lets a browser install the page as an app): a white "H" on the page's accent blue, with a
small "step" in its bar, full-bleed so that any mask shape fits. Plain Python (zlib), no
imaging library; run it again only to change the icon."""
import os
import struct
import zlib

ACCENT = (0x2F, 0x6F, 0xDF)
WHITE = (0xFF, 0xFF, 0xFF)


def pixel(x: float, y: float) -> tuple:
    """The colour at (x, y) in the unit square."""
    in_left = 0.28 <= x <= 0.40 and 0.26 <= y <= 0.74
    in_right = 0.60 <= x <= 0.72 and 0.26 <= y <= 0.74
    in_bar = 0.40 <= x <= 0.60 and 0.45 <= y <= 0.55
    in_step = 0.60 <= x <= 0.74 and 0.20 <= y <= 0.26
    return WHITE if in_left or in_right or in_bar or in_step else ACCENT


def png(size: int) -> bytes:
    rows = b"".join(
        b"\0" + bytes(c for x in range(size) for c in pixel((x + 0.5) / size, (y + 0.5) / size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


www = os.path.join(os.path.dirname(__file__), "..", "www")
for size in (192, 512):
    with open(os.path.join(www, f"icon-{size}.png"), "wb") as out:
        out.write(png(size))
    print(f"www/icon-{size}.png")
