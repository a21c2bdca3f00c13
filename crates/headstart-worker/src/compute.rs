//! Chooses the compute path: WebGPU on a hardware adapter, the CPU (burn's flex backend)
//! everywhere else. A software/fallback adapter (e.g. SwiftShader) counts as no GPU: it is
//! ~100x slower than the CPU path. Any WebGPU failure at start-up falls back to the CPU. Only
//! the worker's WebGPU build (feature `webgpu`, crate `headstart-worker-webgpu`) can take the
//! GPU; the page fetches that build only where it will be used.

use burn::tensor::Device;
use headstart_browser::probe_adapter;
pub use headstart_core::protocol::{ComputeChoice, ComputePath, ComputeReason};

/// The chosen device and why.
pub struct Compute {
    /// The device models and tensors live on.
    pub device: Device,
    /// Which backend it is.
    pub path: ComputePath,
    /// Why this path was taken, for the badge.
    pub reason: ComputeReason,
}

impl Compute {
    /// The CPU path, with the reason.
    pub fn cpu(reason: ComputeReason) -> Self {
        Self {
            device: Device::flex(),
            path: ComputePath::Cpu,
            reason,
        }
    }
}

/// Initializes burn's WebGPU runtime.
#[cfg(feature = "webgpu")]
pub async fn init_webgpu() -> Result<Device, ComputeReason> {
    Device::wgpu_options()
        .graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|error| ComputeReason::WebGpuFailed(format!("{error:?}")))
}

/// This build has no WebGPU runtime.
#[cfg(not(feature = "webgpu"))]
pub async fn init_webgpu() -> Result<Device, ComputeReason> {
    Err(ComputeReason::WebGpuNotLoaded)
}

/// Picks the device for `choice`, never failing: the CPU is always there.
pub async fn choose(choice: ComputeChoice) -> Compute {
    if choice == ComputeChoice::Cpu {
        return Compute::cpu(ComputeReason::CpuRequested);
    }
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter,
        Err(reason) => return Compute::cpu(reason),
    };
    if adapter.is_fallback && choice == ComputeChoice::Auto {
        return Compute::cpu(ComputeReason::SoftwareAdapter(adapter.description));
    }
    match init_webgpu().await {
        Ok(device) => Compute {
            device,
            path: ComputePath::WebGpu,
            reason: ComputeReason::WebGpu(adapter.description),
        },
        Err(reason) => Compute::cpu(reason),
    }
}
