//! How large a photo says it is, read from its file's header before anything decodes it, so a
//! photo too large to decode safely (or a file whose header claims one) is refused by name,
//! and a large one is decoded straight to a smaller size. Reads PNG, JPEG, GIF, WebP and BMP
//! headers; other formats are left to the browser's decoder and its own limits.

/// Most pixels a photo may have: 200 million (a 108-megapixel phone photo fits). A file whose
/// header states more is refused before it is decoded.
pub const MAX_PHOTO_PIXELS: u64 = 200_000_000;

/// Photos with more pixels than this are decoded straight to about this many (the decoder
/// scales them), far more than the 224x224 input and the thumbnail need.
pub const DECODE_PIXELS: u64 = 16_000_000;

/// Bytes of the file's start that hold the size in the formats read here (a JPEG's frame
/// header comes after its EXIF block, which holds a thumbnail of its own).
pub const HEADER_BYTES: usize = 256 << 10;

/// What a photo's header says of its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatedSize {
    /// Decode it as it is.
    Fits,
    /// Decode it to at most this width (the height follows the aspect ratio).
    DecodeToWidth(u32),
    /// Too large to decode: its width and height.
    TooLarge(u32, u32),
}

/// What the header `start` (the file's first [`HEADER_BYTES`] or fewer) says: decode the
/// photo as it is, at a smaller size, or not at all. A format not read here, or a header too
/// short to say, fits (the decoder decides).
pub fn stated_size(start: &[u8]) -> StatedSize {
    let Some((width, height)) = dimensions(start) else {
        return StatedSize::Fits;
    };
    let pixels = width as u64 * height as u64;
    if pixels > MAX_PHOTO_PIXELS {
        StatedSize::TooLarge(width, height)
    } else if pixels > DECODE_PIXELS {
        let scale = (DECODE_PIXELS as f64 / pixels as f64).sqrt();
        StatedSize::DecodeToWidth(((width as f64 * scale) as u32).max(1))
    } else {
        StatedSize::Fits
    }
}

/// Width and height from a PNG, JPEG, GIF, WebP or BMP header.
pub fn dimensions(start: &[u8]) -> Option<(u32, u32)> {
    let be32 = |at: usize| Some(u32::from_be_bytes(start.get(at..at + 4)?.try_into().ok()?));
    let le16 = |at: usize| Some(u16::from_le_bytes(start.get(at..at + 2)?.try_into().ok()?) as u32);
    let le32 = |at: usize| Some(u32::from_le_bytes(start.get(at..at + 4)?.try_into().ok()?));
    match start {
        [0x89, b'P', b'N', b'G', ..] => Some((be32(16)?, be32(20)?)),
        [0xFF, 0xD8, ..] => jpeg_dimensions(start),
        [b'G', b'I', b'F', b'8', ..] => Some((le16(6)?, le16(8)?)),
        [b'B', b'M', ..] => Some((le32(18)?, (le32(22)? as i32).unsigned_abs())),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => match start.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let bits = le32(21)?;
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            b"VP8X" => {
                let le24 = |at: usize| {
                    let bytes = start.get(at..at + 3)?;
                    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], 0]))
                };
                Some((le24(24)? + 1, le24(27)? + 1))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A JPEG's size from its first frame header (SOF0-SOF15 but DHT, JPG and DAC).
fn jpeg_dimensions(start: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *start.get(at)? != 0xFF {
            at += 1;
        }
        while *start.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *start.get(at)?;
        at += 1;
        if matches!(marker, 0xD0..=0xD9 | 0x01) {
            continue;
        }
        let length = u16::from_be_bytes([*start.get(at)?, *start.get(at + 1)?]) as usize;
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes([*start.get(at + 3)?, *start.get(at + 4)?]);
            let width = u16::from_be_bytes([*start.get(at + 5)?, *start.get(at + 6)?]);
            return Some((width as u32, height as u32));
        }
        at += length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes
    }

    #[test]
    fn reads_the_size_each_format_states() {
        assert_eq!(dimensions(&png_header(640, 480)), Some((640, 480)));
        // A JPEG with an EXIF block before its frame header.
        let mut jpeg = vec![
            0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0,
        ];
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8, 0x01, 0xE0, 0x02, 0x80, 3]);
        assert_eq!(dimensions(&jpeg), Some((640, 480)));
        let gif = [b"GIF89a".as_slice(), &[0x80, 0x02, 0xE0, 0x01]].concat();
        assert_eq!(dimensions(&gif), Some((640, 480)));
        let mut bmp = vec![0u8; 26];
        bmp[..2].copy_from_slice(b"BM");
        bmp[18..22].copy_from_slice(&640i32.to_le_bytes());
        bmp[22..26].copy_from_slice(&(-480i32).to_le_bytes());
        assert_eq!(
            dimensions(&bmp),
            Some((640, 480)),
            "a top-down BMP's height is negative"
        );
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00]);
        assert_eq!(dimensions(&webp), Some((640, 480)));
        assert_eq!(dimensions(b"not an image"), None);
        assert_eq!(dimensions(&png_header(640, 480)[..18]), None, "cut short");
    }

    #[test]
    fn a_photo_too_large_is_refused_and_a_large_one_decodes_smaller() {
        assert_eq!(stated_size(&png_header(4000, 3000)), StatedSize::Fits);
        assert_eq!(
            stated_size(&png_header(50_000, 50_000)),
            StatedSize::TooLarge(50_000, 50_000)
        );
        let StatedSize::DecodeToWidth(width) = stated_size(&png_header(12_000, 9_000)) else {
            panic!("a 108-megapixel photo decodes smaller");
        };
        let height = width as u64 * 9_000 / 12_000;
        assert!((width as u64 * height).abs_diff(DECODE_PIXELS) < DECODE_PIXELS / 100);
        assert_eq!(stated_size(b"unknown"), StatedSize::Fits);
    }
}
