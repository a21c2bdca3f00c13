//! EfficientNet-Lite0, the pretrained ImageNet backbone.
//!
//! The layer layout, TF "SAME" padding (asymmetric on stride-2 layers), BatchNorm epsilon 1e-3,
//! ReLU6 and residual rule follow the reference checkpoint exactly (the stages are
//! [`LITE0_STAGES`]). [`EfficientNetLite0::embed`] returns the 1280-d pooled vector,
//! the embedding that new heads are trained on.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::embedding::EMBEDDING_DIM;
use crate::training::BACKBONE_BLOCKS;

/// One inverted-residual stage of EfficientNet-Lite0.
#[derive(Debug, Clone, Copy)]
pub struct StageSpec {
    /// Number of blocks in the stage.
    pub repeats: usize,
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Stride of the first block (the others use 1).
    pub stride: usize,
    /// Channel expansion ratio of the 1x1 expand convolution (1 = no expand convolution).
    pub expand_ratio: usize,
    /// Output channels.
    pub channels_out: usize,
}

/// The seven stages of EfficientNet-Lite0 ([`BACKBONE_BLOCKS`] blocks).
pub const LITE0_STAGES: [StageSpec; 7] = [
    StageSpec {
        repeats: 1,
        kernel: 3,
        stride: 1,
        expand_ratio: 1,
        channels_out: 16,
    },
    StageSpec {
        repeats: 2,
        kernel: 3,
        stride: 2,
        expand_ratio: 6,
        channels_out: 24,
    },
    StageSpec {
        repeats: 2,
        kernel: 5,
        stride: 2,
        expand_ratio: 6,
        channels_out: 40,
    },
    StageSpec {
        repeats: 3,
        kernel: 3,
        stride: 2,
        expand_ratio: 6,
        channels_out: 80,
    },
    StageSpec {
        repeats: 3,
        kernel: 5,
        stride: 1,
        expand_ratio: 6,
        channels_out: 112,
    },
    StageSpec {
        repeats: 4,
        kernel: 5,
        stride: 2,
        expand_ratio: 6,
        channels_out: 192,
    },
    StageSpec {
        repeats: 1,
        kernel: 3,
        stride: 1,
        expand_ratio: 6,
        channels_out: 320,
    },
];

// The stages make the blocks the training settings count (checked when this builds).
const _: () = {
    let (mut blocks, mut stage) = (0, 0);
    while stage < LITE0_STAGES.len() {
        blocks += LITE0_STAGES[stage].repeats;
        stage += 1;
    }
    assert!(blocks == BACKBONE_BLOCKS);
};

/// Configuration of [`EfficientNetLite0`].
#[derive(Config, Debug)]
pub struct BackboneConfig {
    /// Channels out of the stem convolution.
    #[config(default = 32)]
    pub stem_channels: usize,
    /// Channels of the final 1x1 head convolution, i.e. the embedding width.
    #[config(default = "EMBEDDING_DIM")]
    pub head_channels: usize,
    /// BatchNorm epsilon used by the reference checkpoint.
    #[config(default = 1e-3)]
    pub batch_norm_epsilon: f64,
}

/// A convolution without bias followed by BatchNorm (the only conv pattern in the network),
/// or, once [folded](EfficientNetLite0::folded), one convolution with bias doing both; LoRA
/// may add a low-rank adapter beside it.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution (no bias until folded: BatchNorm's shift replaces it).
    pub conv: Conv2d,
    /// The BatchNorm after it; `None` once folded into the convolution.
    pub bn: Option<BatchNorm>,
    /// A low-rank adapter whose output adds to this layer's (see [`crate::tune`]).
    pub adapter: Option<LowRank>,
}

/// A low-rank update of a 1x1 convolution: `up(down(x))`, with `down` to `rank` channels and
/// `up` back, the LoRA adapter. `up` starts at zero, so a new adapter changes nothing.
#[derive(Module, Debug)]
pub struct LowRank {
    /// Channels in to `rank`.
    pub down: Conv2d,
    /// `rank` to channels out.
    pub up: Conv2d,
}

impl LowRank {
    /// An adapter for a 1x1 convolution of `channels`, `down` drawn from a host RNG seeded with
    /// `seed` (uniform in ±1/sqrt(channels in)).
    pub fn new(channels: [usize; 2], rank: usize, seed: u64, device: &Device) -> Self {
        use burn::tensor::TensorData;
        use rand::{RngExt, SeedableRng};
        let [channels_in, channels_out] = channels;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let bound = 1.0 / (channels_in as f32).sqrt();
        let down: Vec<f32> = (0..rank * channels_in)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        let conv = |from: usize, to: usize, values: Vec<f32>| {
            let mut conv = Conv2dConfig::new([from, to], [1, 1])
                .with_bias(false)
                .init(device);
            conv.weight = Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [to, from, 1, 1]),
                device,
            ));
            conv
        };
        Self {
            down: conv(channels_in, rank, down),
            up: conv(rank, channels_out, vec![0.0; channels_out * rank]),
        }
    }
}

impl ConvBn {
    fn new(
        channels: [usize; 2],
        kernel: usize,
        stride: usize,
        groups: usize,
        epsilon: f64,
        device: &Device,
    ) -> Self {
        let conv = Conv2dConfig::new(channels, [kernel, kernel])
            .with_stride([stride, stride])
            .with_groups(groups)
            .with_padding(PaddingConfig2d::Same)
            .with_bias(false)
            .init(device);
        let bn = BatchNormConfig::new(channels[1])
            .with_epsilon(epsilon)
            .init(device);
        Self {
            conv,
            bn: Some(bn),
            adapter: None,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let low_rank = self
            .adapter
            .as_ref()
            .map(|adapter| adapter.up.forward(adapter.down.forward(x.clone())));
        let x = self.conv.forward(x);
        let x = match &self.bn {
            Some(bn) => bn.forward(x),
            None => x,
        };
        match low_rank {
            Some(update) => x + update,
            None => x,
        }
    }

    /// The same eval-mode function in one convolution: each output channel's weights scaled by
    /// `gamma / sqrt(var + eps)` and a bias of `beta - mean * scale`. Tensor operations only,
    /// so it runs on any device without reading values back.
    pub(crate) fn folded(self) -> Self {
        let Some(bn) = self.bn else { return self };
        let scale = bn.gamma.val() / bn.running_var.value().add_scalar(bn.epsilon).sqrt();
        let bias = bn.beta.val() - bn.running_mean.value() * scale.clone();
        let [channels] = scale.dims();
        let weight = self.conv.weight.val() * scale.reshape([channels, 1, 1, 1]);
        let mut conv = self.conv;
        conv.weight = Param::from_tensor(weight);
        conv.bias = Some(Param::from_tensor(bias));
        Self {
            conv,
            bn: None,
            adapter: self.adapter,
        }
    }

    pub(crate) fn forward_relu6(&self, x: Tensor<4>) -> Tensor<4> {
        relu6(self.forward(x))
    }
}

/// Mobile inverted bottleneck block: expand (1x1), depthwise, project (1x1), optional residual.
#[derive(Module, Debug)]
pub struct MbConvBlock {
    /// 1x1 expansion; absent when the expand ratio is 1.
    pub expand: Option<ConvBn>,
    /// Depthwise convolution (groups = channels).
    pub depthwise: ConvBn,
    /// 1x1 projection, linear (no activation).
    pub project: ConvBn,
}

impl MbConvBlock {
    /// The block with its BatchNorms folded into the convolutions (see [`ConvBn::folded`]).
    pub(crate) fn folded(self) -> Self {
        Self {
            expand: self.expand.map(ConvBn::folded),
            depthwise: self.depthwise.folded(),
            project: self.project.folded(),
        }
    }

    pub(crate) fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = input.clone();
        if let Some(expand) = &self.expand {
            x = expand.forward_relu6(x);
        }
        let x = self.project.forward(self.depthwise.forward_relu6(x));
        // The residual applies exactly when the block keeps the shape: stride 1 and in == out.
        if x.dims() == input.dims() {
            x + input
        } else {
            x
        }
    }
}

/// EfficientNet-Lite0 without its ImageNet classifier: image in, 1280-d embedding out.
#[derive(Module, Debug)]
pub struct EfficientNetLite0 {
    /// 3x3 stride-2 stem convolution.
    pub stem: ConvBn,
    /// The [`BACKBONE_BLOCKS`] inverted-residual blocks.
    pub blocks: Vec<MbConvBlock>,
    /// Final 1x1 convolution to the embedding width.
    pub head: ConvBn,
}

impl BackboneConfig {
    /// Builds the network with freshly initialized weights (load pretrained ones with
    /// [`crate::weights`]).
    pub fn init(&self, device: &Device) -> EfficientNetLite0 {
        let eps = self.batch_norm_epsilon;
        let stem = ConvBn::new([3, self.stem_channels], 3, 2, 1, eps, device);
        let mut blocks = Vec::new();
        let mut channels_in = self.stem_channels;
        for stage in LITE0_STAGES {
            for repeat in 0..stage.repeats {
                let stride = if repeat == 0 { stage.stride } else { 1 };
                let hidden = channels_in * stage.expand_ratio;
                let expand = (stage.expand_ratio != 1)
                    .then(|| ConvBn::new([channels_in, hidden], 1, 1, 1, eps, device));
                let depthwise =
                    ConvBn::new([hidden, hidden], stage.kernel, stride, hidden, eps, device);
                let project = ConvBn::new([hidden, stage.channels_out], 1, 1, 1, eps, device);
                blocks.push(MbConvBlock {
                    expand,
                    depthwise,
                    project,
                });
                channels_in = stage.channels_out;
            }
        }
        let head = ConvBn::new([channels_in, self.head_channels], 1, 1, 1, eps, device);
        EfficientNetLite0 { stem, blocks, head }
    }
}

impl EfficientNetLite0 {
    /// The network with every BatchNorm folded into its convolution: the same embeddings (to
    /// float rounding) from one pass less per layer, and statistics that can no longer change
    /// (fine-tuning trains folded layers; training from scratch needs the BatchNorm layers).
    pub fn folded(self) -> Self {
        Self {
            stem: self.stem.folded(),
            blocks: self.blocks.into_iter().map(MbConvBlock::folded).collect(),
            head: self.head.folded(),
        }
    }

    /// Output of the stem and the first `blocks` blocks: the frozen prefix whose output
    /// fine-tuning can cache, and a small piece of the network for backend comparisons.
    pub fn prefix(&self, images: Tensor<4>, blocks: usize) -> Tensor<4> {
        self.blocks[..blocks]
            .iter()
            .fold(self.stem.forward_relu6(images), |x, block| block.forward(x))
    }

    /// Feature map before pooling: `[batch, 1280, 7, 7]` for a 224x224 input.
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        self.head
            .forward_relu6(self.prefix(images, self.blocks.len()))
    }

    /// Global-average-pooled embedding, `[batch, 1280]`, from preprocessed `[batch, 3, 224, 224]`
    /// images (see [`crate::preprocess`]).
    pub fn embed(&self, images: Tensor<4>) -> Tensor<2> {
        self.features(images).mean_dims(&[2, 3]).flatten(1, 3)
    }
}

/// `min(max(0, x), 6)` as two passes: burn's flex backend runs `clamp` one element at a time
/// (its `f32::clamp` asserts its bounds inside the loop), 5x slower than `relu` and
/// `clamp_max`, which vectorize (1.17 against 0.21 ms on 96x112x112 floats natively). In the
/// page's worker a photo took 74.1 ms with `clamp`, 51.4 ms with this (BENCHMARKS.md).
fn relu6(x: Tensor<4>) -> Tensor<4> {
    relu(x).clamp_max(6.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_reference_parameter_count() {
        let device = Device::flex();
        let model = BackboneConfig::new().init(&device);
        assert_eq!(model.blocks.len(), 16);
        assert!(model.blocks[0].expand.is_none());
        assert!(model.blocks[1..].iter().all(|block| block.expand.is_some()));
        // backbone.md: 4,652,008 trainable parameters including the 1280x1000 + 1000 classifier,
        // plus 42,016 BatchNorm running values, which burn counts as well.
        assert_eq!(model.num_params(), 4_652_008 - 1_281_000 + 42_016);
    }

    #[test]
    fn embeds_to_1280_and_downsamples_32x() {
        let device = Device::flex();
        let model = BackboneConfig::new().init(&device);
        let images = Tensor::<4>::zeros([2, 3, 64, 64], &device);
        assert_eq!(model.features(images.clone()).dims(), [2, 1280, 2, 2]);
        assert_eq!(model.prefix(images.clone(), 1).dims(), [2, 16, 32, 32]);
        assert_eq!(model.embed(images).dims(), [2, EMBEDDING_DIM]);
    }
}
