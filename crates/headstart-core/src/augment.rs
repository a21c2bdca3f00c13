//! Data augmentation on the 224x224 model input: random resized crop, horizontal flip, colour
//! jitter and a small rotation, seeded so that a view can be made again exactly. Each view is a
//! new photo for the backbone (its embedding is computed like any other), labelled as the photo
//! it came from.

use crate::preprocess::INPUT_SIZE;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// Which augmentations make the extra views of each training photo, and how many views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentationSettings {
    /// Random resized crop: a random part of the photo (half of its area or more, aspect ratio
    /// between 3:4 and 4:3) stretched back to 224x224.
    pub crop: bool,
    /// Mirror the photo left to right, in half of the views.
    pub flip: bool,
    /// Colour jitter: brightness, contrast and saturation each changed by up to 30%.
    pub color: bool,
    /// Rotate by up to 15 degrees either way.
    pub rotation: bool,
    /// Augmented views made of each training photo (each adds one training example).
    pub views_per_photo: usize,
}

impl Default for AugmentationSettings {
    fn default() -> Self {
        Self {
            crop: false,
            flip: false,
            color: false,
            rotation: false,
            views_per_photo: 4,
        }
    }
}

impl AugmentationSettings {
    /// Whether any augmentation is on (and so views are made at all).
    pub fn is_on(&self) -> bool {
        (self.crop || self.flip || self.color || self.rotation) && self.views_per_photo > 0
    }
}

/// Largest rotation, in degrees.
const MAX_ROTATION_DEGREES: f32 = 15.0;
/// Smallest share of the photo's area a random crop keeps.
const MIN_CROP_AREA: f32 = 0.5;
/// Largest relative change of brightness, contrast and saturation.
const COLOR_JITTER: f32 = 0.3;

/// The seed of view `view` (1-based) of photo `photo` in a run seeded with `run_seed`: the same
/// photo and view always get the same seed, so cached views stay valid.
pub fn view_seed(run_seed: u64, photo: u32, view: usize) -> u64 {
    // SplitMix64's finalizer over the three numbers.
    let mut z =
        run_seed ^ (u64::from(photo) << 20) ^ (view as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One augmented view of 224x224 RGBA pixels (alpha kept at 255). Every random draw is made
/// whether or not its augmentation is on, so turning one on or off leaves the others' draws
/// unchanged.
///
/// # Panics
/// If `rgba` is not exactly `224 * 224 * 4` bytes long.
pub fn augment_rgba(rgba: &[u8], settings: &AugmentationSettings, seed: u64) -> Vec<u8> {
    let side = INPUT_SIZE;
    assert_eq!(rgba.len(), side * side * 4, "expected 224x224 RGBA pixels");
    let mut rng = StdRng::seed_from_u64(seed);
    let area = rng.random_range(MIN_CROP_AREA..=1.0f32);
    let log_ratio = rng.random_range((3.0f32 / 4.0).ln()..=(4.0f32 / 3.0).ln());
    let (offset_x, offset_y) = (rng.random::<f32>(), rng.random::<f32>());
    let mirrored = rng.random_bool(0.5);
    let angle = rng
        .random_range(-MAX_ROTATION_DEGREES..=MAX_ROTATION_DEGREES)
        .to_radians();
    let mut jitter = || rng.random_range(1.0 - COLOR_JITTER..=1.0 + COLOR_JITTER);
    let (brightness, contrast, saturation) = (jitter(), jitter(), jitter());

    // Output coordinates (centred, in units of the side) map to source coordinates.
    let (crop_width, crop_height) = if settings.crop {
        let ratio = log_ratio.exp();
        (
            (area * ratio).sqrt().min(1.0),
            (area / ratio).sqrt().min(1.0),
        )
    } else {
        (1.0, 1.0)
    };
    let centre_x = (offset_x - 0.5) * (1.0 - crop_width);
    let centre_y = (offset_y - 0.5) * (1.0 - crop_height);
    let flip = if settings.flip && mirrored { -1.0 } else { 1.0 };
    let (sin, cos) = if settings.rotation {
        angle.sin_cos()
    } else {
        (0.0, 1.0)
    };

    let mut out = vec![255u8; rgba.len()];
    let n = side as f32;
    for v in 0..side {
        for u in 0..side {
            let x = ((u as f32 + 0.5) / n - 0.5) * flip;
            let y = (v as f32 + 0.5) / n - 0.5;
            let (x, y) = (x * cos - y * sin, x * sin + y * cos);
            let source_x = (centre_x + x * crop_width + 0.5) * n - 0.5;
            let source_y = (centre_y + y * crop_height + 0.5) * n - 0.5;
            let at = (v * side + u) * 4;
            out[at..at + 3].copy_from_slice(&bilinear(rgba, source_x, source_y));
        }
    }
    if settings.color {
        jitter_colors(&mut out, brightness, contrast, saturation);
    }
    out
}

/// The RGB value at a fractional position, edges extended outwards.
fn bilinear(rgba: &[u8], x: f32, y: f32) -> [u8; 3] {
    let last = (INPUT_SIZE - 1) as f32;
    let (x, y) = (x.clamp(0.0, last), y.clamp(0.0, last));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(INPUT_SIZE - 1), (y0 + 1).min(INPUT_SIZE - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let pixel = |px: usize, py: usize, c: usize| rgba[(py * INPUT_SIZE + px) * 4 + c] as f32;
    std::array::from_fn(|c| {
        let top = pixel(x0, y0, c) * (1.0 - fx) + pixel(x1, y0, c) * fx;
        let bottom = pixel(x0, y1, c) * (1.0 - fx) + pixel(x1, y1, c) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    })
}

/// Brightness scales every value; contrast moves values from the image's mean grey; saturation
/// moves each pixel from its own grey.
fn jitter_colors(rgba: &mut [u8], brightness: f32, contrast: f32, saturation: f32) {
    let grey = |p: &[u8]| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
    let pixels = (rgba.len() / 4) as f32;
    let mean_grey = rgba.chunks_exact(4).map(grey).sum::<f32>() / pixels * brightness;
    for pixel in rgba.chunks_exact_mut(4) {
        let own_grey = grey(pixel) * brightness;
        for value in &mut pixel[..3] {
            let bright = *value as f32 * brightness;
            let saturated = own_grey + (bright - own_grey) * saturation;
            let contrasted = mean_grey + (saturated - mean_grey) * contrast;
            *value = contrasted.round().clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo-like input: smooth gradients in each channel and a bright square off-centre.
    fn picture() -> Vec<u8> {
        let mut rgba = vec![255u8; INPUT_SIZE * INPUT_SIZE * 4];
        for y in 0..INPUT_SIZE {
            for x in 0..INPUT_SIZE {
                let at = (y * INPUT_SIZE + x) * 4;
                let square = (30..80).contains(&x) && (40..90).contains(&y);
                rgba[at] = if square { 250 } else { x as u8 };
                rgba[at + 1] = y as u8;
                rgba[at + 2] = ((x + y) / 2) as u8;
            }
        }
        rgba
    }

    fn only(change: impl Fn(&mut AugmentationSettings)) -> AugmentationSettings {
        let mut settings = AugmentationSettings::default();
        change(&mut settings);
        settings
    }

    #[test]
    fn views_are_seeded() {
        let all = only(|s| {
            s.crop = true;
            s.flip = true;
            s.color = true;
            s.rotation = true;
        });
        let input = picture();
        assert_eq!(augment_rgba(&input, &all, 7), augment_rgba(&input, &all, 7));
        assert_ne!(augment_rgba(&input, &all, 7), augment_rgba(&input, &all, 8));
        assert_eq!(view_seed(42, 3, 1), view_seed(42, 3, 1));
        let seeds = [
            view_seed(42, 3, 1),
            view_seed(42, 3, 2),
            view_seed(42, 4, 1),
            view_seed(43, 3, 1),
        ];
        for (i, a) in seeds.iter().enumerate() {
            assert!(
                seeds[i + 1..].iter().all(|b| a != b),
                "seeds repeat: {seeds:?}"
            );
        }
    }

    #[test]
    fn each_augmentation_changes_the_pixels_and_none_leaves_them() {
        let input = picture();
        assert_eq!(
            augment_rgba(&input, &AugmentationSettings::default(), 1),
            input
        );
        let each = [
            only(|s| s.crop = true),
            only(|s| s.color = true),
            only(|s| s.rotation = true),
        ];
        for settings in each {
            for seed in 0..4 {
                let view = augment_rgba(&input, &settings, seed);
                let changed = view.iter().zip(&input).filter(|(a, b)| a != b).count();
                assert!(
                    changed > 1000,
                    "{settings:?} seed {seed}: {changed} values changed"
                );
                assert!(view.chunks_exact(4).all(|p| p[3] == 255));
            }
        }
        // A flip mirrors exactly, in about half of the views.
        let flip = only(|s| s.flip = true);
        let views: Vec<Vec<u8>> = (0..16)
            .map(|seed| augment_rgba(&input, &flip, seed))
            .collect();
        let mirrored: Vec<&Vec<u8>> = views.iter().filter(|v| **v != input).collect();
        assert!(
            (4..=12).contains(&mirrored.len()),
            "{} of 16 flipped",
            mirrored.len()
        );
        for view in mirrored {
            for y in [0, 100, 223] {
                for x in [0, 31, 170] {
                    let at = |x: usize| (y * INPUT_SIZE + x) * 4;
                    let mirror = at(INPUT_SIZE - 1 - x);
                    assert_eq!(view[at(x)..at(x) + 3], input[mirror..mirror + 3]);
                }
            }
        }
    }

    #[test]
    fn turning_one_augmentation_on_keeps_the_others_draws() {
        let input = picture();
        let crop = only(|s| s.crop = true);
        let crop_and_flip = only(|s| {
            s.crop = true;
            s.flip = true;
        });
        let mirror = |view: &[u8]| -> Vec<u8> {
            view.chunks_exact(INPUT_SIZE * 4)
                .flat_map(|row| {
                    row.chunks_exact(4)
                        .rev()
                        .flatten()
                        .copied()
                        .collect::<Vec<u8>>()
                })
                .collect()
        };
        // The same crop either way: the flipped view is the cropped view or its exact mirror.
        let mut mirrored = 0;
        for seed in 0..8 {
            let cropped = augment_rgba(&input, &crop, seed);
            let flipped = augment_rgba(&input, &crop_and_flip, seed);
            if flipped != cropped {
                assert_eq!(flipped, mirror(&cropped), "seed {seed}");
                mirrored += 1;
            }
        }
        assert!(mirrored > 0);
    }
}
