//! Chooses the compute path: WebGPU on a hardware adapter, the CPU (burn's flex backend)
//! everywhere else. A software/fallback adapter (e.g. SwiftShader) counts as no GPU: it is
//! ~100x slower than the CPU path. Any WebGPU failure at start-up falls back to the CPU.

use burn::tensor::Device;
use headstart_browser::describe;
pub use headstart_core::protocol::{ComputeChoice, ComputePath};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The chosen device and, when it is the CPU, why.
pub struct Compute {
    /// The device models and tensors live on.
    pub device: Device,
    /// Which backend it is.
    pub path: ComputePath,
    /// Why this path was taken, for the badge's tooltip.
    pub reason: String,
}

impl Compute {
    /// The CPU path, with the reason.
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self {
            device: Device::flex(),
            path: ComputePath::Cpu,
            reason: reason.into(),
        }
    }
}

/// What the browser's WebGPU adapter is.
pub struct AdapterInfo {
    /// True for software adapters.
    pub is_fallback: bool,
    /// Vendor and architecture, as the browser reports them.
    pub description: String,
}

/// Asks the browser for a WebGPU adapter without creating a device.
pub async fn probe_adapter() -> Result<AdapterInfo, String> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).map_err(describe)?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).map_err(describe)?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not offer WebGPU to workers".into());
    }
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into())
        .map_err(describe)?
        .unchecked_into();
    let promise: Promise = request.call0(&gpu).map_err(describe)?.unchecked_into();
    let adapter = JsFuture::from(promise).await.map_err(describe)?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser found no WebGPU adapter".into());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let flag = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .map(|v| v.is_truthy())
            .unwrap_or(false)
    };
    let architecture = text(&info, "architecture");
    let description = format!("{} {}", text(&info, "vendor"), architecture)
        .trim()
        .to_string();
    let is_fallback = flag(&info, "isFallbackAdapter")
        || flag(&adapter, "isFallbackAdapter")
        || architecture.eq_ignore_ascii_case("swiftshader");
    Ok(AdapterInfo {
        is_fallback,
        description,
    })
}

/// Initializes burn's WebGPU runtime.
pub async fn init_webgpu() -> Result<Device, String> {
    Device::wgpu_options()
        .graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|error| format!("{error:?}"))
}

/// Picks the device for `choice`, never failing: the CPU is always there.
pub async fn choose(choice: ComputeChoice) -> Compute {
    if choice == ComputeChoice::Cpu {
        return Compute::cpu("the CPU was requested");
    }
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter,
        Err(reason) => return Compute::cpu(reason),
    };
    if adapter.is_fallback && choice == ComputeChoice::Auto {
        return Compute::cpu(format!(
            "WebGPU here is a software adapter ({}), slower than the CPU path",
            adapter.description
        ));
    }
    match init_webgpu().await {
        Ok(device) => Compute {
            device,
            path: ComputePath::WebGpu,
            reason: format!("WebGPU adapter: {}", adapter.description),
        },
        Err(error) => Compute::cpu(format!("WebGPU failed to start ({error})")),
    }
}
