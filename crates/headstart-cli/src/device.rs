//! Where the command computes: a GPU through burn's wgpu backend (Vulkan, Metal or DirectX 12)
//! in a build with the `gpu` feature, the CPU (burn's flex backend, every core) otherwise. As in
//! the page, a GPU is only used once its embedding of a probe image agrees with the CPU's, and a
//! software adapter (e.g. Mesa's llvmpipe) is slower than the CPU path, so only `--device gpu`
//! takes one.

use burn::tensor::Device;
use clap::ValueEnum;
use headstart_core::backbone::EfficientNetLite0;
#[cfg(feature = "gpu")]
use headstart_core::inference::GpuDistrust;
use headstart_core::weights::{WeightsError, load_backbone};
use std::path::PathBuf;

/// Which device the user asked for.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum DeviceChoice {
    /// A hardware GPU where one works, the CPU otherwise.
    Auto,
    /// The CPU.
    Cpu,
    /// The GPU, software adapters included; fails when there is none.
    Gpu,
}

/// The backbone on its device.
pub struct Placed {
    /// The pretrained backbone, BatchNorm folded, on `device`.
    pub backbone: EfficientNetLite0,
    /// The device it lives on.
    pub device: Device,
    /// Whether that device is a GPU.
    pub on_gpu: bool,
    /// What it is, for the user: "the GPU (NVIDIA H200, Vulkan)", "the CPU (16 threads)".
    pub description: String,
}

/// Why the backbone could not be placed.
#[derive(Debug)]
pub enum PlaceError {
    /// The weights file cannot be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The weight bytes are not the backbone's.
    Weights(WeightsError),
    /// `--device gpu` was asked for and no GPU can be used.
    NoGpu(GpuProblem),
}

impl std::fmt::Display for PlaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable { path, error } => write!(
                f,
                "cannot read the backbone weights {} ({error}): run scripts/setup.sh, or pass --weights",
                path.display()
            ),
            Self::Weights(error) => write!(f, "{error}"),
            Self::NoGpu(problem) => write!(f, "{problem}; use --device cpu"),
        }
    }
}

impl std::error::Error for PlaceError {}

/// Why a GPU cannot be used.
#[derive(Debug)]
pub enum GpuProblem {
    /// This build has no GPU backend.
    #[cfg(not(feature = "gpu"))]
    NotBuilt,
    /// The system offers no GPU adapter.
    #[cfg(feature = "gpu")]
    NoAdapter,
    /// The GPU (as the adapter names it) failed to start, in burn's words.
    #[cfg(feature = "gpu")]
    Start {
        /// The adapter and its graphics API.
        name: String,
        /// burn's error.
        detail: String,
    },
    /// The GPU could not hold the model.
    #[cfg(feature = "gpu")]
    Weights {
        /// The adapter and its graphics API.
        name: String,
        /// Why.
        error: WeightsError,
    },
    /// The GPU's embedding of the probe image is not trusted.
    #[cfg(feature = "gpu")]
    Distrusted {
        /// The adapter and its graphics API.
        name: String,
        /// Why.
        distrust: GpuDistrust,
    },
}

impl std::fmt::Display for GpuProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(not(feature = "gpu"))]
            Self::NotBuilt => write!(
                f,
                "this headstart was built without GPU support (build it with `cargo build --release -p headstart-cli --features gpu`)"
            ),
            #[cfg(feature = "gpu")]
            Self::NoAdapter => write!(f, "no GPU adapter was found"),
            #[cfg(feature = "gpu")]
            Self::Start { name, detail } => {
                write!(f, "the GPU ({name}) failed to start ({detail})")
            }
            #[cfg(feature = "gpu")]
            Self::Weights { name, error } => {
                write!(f, "the GPU ({name}) could not hold the model ({error})")
            }
            #[cfg(feature = "gpu")]
            Self::Distrusted { name, distrust } => {
                write!(f, "{}", distrust.sentence(&format!("the GPU ({name})")))
            }
        }
    }
}

impl std::error::Error for GpuProblem {}

/// Loads the backbone from `weights` on the device `choice` names; `auto` falls back to the CPU
/// with a note on stderr when a hardware GPU is there but cannot be used.
pub fn place(weights: Vec<u8>, choice: DeviceChoice) -> Result<Placed, PlaceError> {
    let cpu_device = Device::flex();
    let cpu_backbone = load_backbone(weights.clone(), &cpu_device)
        .map_err(PlaceError::Weights)?
        .folded();
    let on_cpu = |backbone| Placed {
        backbone,
        device: Device::flex(),
        on_gpu: false,
        description: format!(
            "the CPU ({} threads)",
            std::thread::available_parallelism().map_or(1, usize::from)
        ),
    };
    if choice == DeviceChoice::Cpu {
        return Ok(on_cpu(cpu_backbone));
    }
    match place_on_gpu(weights, choice, &cpu_backbone, &cpu_device) {
        Ok(placed) => Ok(placed),
        Err(GpuUnused::Declined) => Ok(on_cpu(cpu_backbone)),
        Err(GpuUnused::Failed(problem)) if choice == DeviceChoice::Auto => {
            eprintln!("headstart: {problem}; computing on the CPU");
            Ok(on_cpu(cpu_backbone))
        }
        Err(GpuUnused::Failed(problem)) => Err(PlaceError::NoGpu(problem)),
    }
}

/// Why the GPU is not used.
enum GpuUnused {
    /// `auto` found no hardware GPU: the CPU is the right place, nothing to report.
    Declined,
    /// The GPU cannot be used.
    Failed(GpuProblem),
}

#[cfg(not(feature = "gpu"))]
fn place_on_gpu(
    _weights: Vec<u8>,
    choice: DeviceChoice,
    _cpu_backbone: &EfficientNetLite0,
    _cpu_device: &Device,
) -> Result<Placed, GpuUnused> {
    match choice {
        DeviceChoice::Gpu => Err(GpuUnused::Failed(GpuProblem::NotBuilt)),
        _ => Err(GpuUnused::Declined),
    }
}

#[cfg(feature = "gpu")]
fn place_on_gpu(
    weights: Vec<u8>,
    choice: DeviceChoice,
    cpu_backbone: &EfficientNetLite0,
    cpu_device: &Device,
) -> Result<Placed, GpuUnused> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    use headstart_core::inference::check_gpu_against_cpu;
    let adapter = gpu_adapter().ok_or(match choice {
        DeviceChoice::Gpu => GpuUnused::Failed(GpuProblem::NoAdapter),
        _ => GpuUnused::Declined,
    })?;
    if adapter.device_type == DeviceType::Cpu && choice == DeviceChoice::Auto {
        return Err(GpuUnused::Declined);
    }
    let name = format!("{}, {}", adapter.name, adapter.backend);
    let device = Device::wgpu_options().init().map_err(|e| {
        GpuUnused::Failed(GpuProblem::Start {
            name: name.clone(),
            detail: format!("{e:?}"),
        })
    })?;
    // A separate model from the bytes: burn's BatchNorm statistics are shared between clones.
    let backbone = load_backbone(weights, &device)
        .map_err(|error| {
            GpuUnused::Failed(GpuProblem::Weights {
                name: name.clone(),
                error,
            })
        })?
        .folded();
    pollster::block_on(check_gpu_against_cpu(
        cpu_backbone,
        cpu_device,
        &backbone,
        &device,
    ))
    .map_err(|distrust| {
        GpuUnused::Failed(GpuProblem::Distrusted {
            name: name.clone(),
            distrust,
        })
    })?;
    let software = match adapter.device_type {
        DeviceType::Cpu => ", a software adapter: slower than --device cpu",
        _ => "",
    };
    Ok(Placed {
        backbone,
        device,
        on_gpu: true,
        description: format!("the GPU ({name}{software})"),
    })
}

/// The adapter burn's wgpu runtime takes: of its graphics APIs in order (Vulkan, DirectX 12,
/// OpenGL; Metal on macOS), the first with a hardware adapter, else the first adapter at all.
#[cfg(feature = "gpu")]
fn gpu_adapter() -> Option<burn::tensor::wgpu::wgpu::AdapterInfo> {
    use burn::backend::AutoGraphicsApi;
    use burn::tensor::wgpu::wgpu;
    let mut any = None;
    for api in AutoGraphicsApi::chain() {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters = pollster::block_on(instance.enumerate_adapters(api.into()));
        for info in adapters.iter().map(wgpu::Adapter::get_info) {
            if info.device_type != wgpu::DeviceType::Cpu {
                return Some(info);
            }
            any.get_or_insert(info);
        }
    }
    any
}
