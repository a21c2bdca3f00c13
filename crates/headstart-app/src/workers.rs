//! The model workers: how many the page starts, and loading the pretrained backbone into them.
//! Photos come in once the workers hold it (and the saved work is restored).

use crate::scheduler::PoolSize;
use crate::{AppState, Effect, Notice, StorageState};
use headstart_core::protocol::{ComputePath, ComputeReason};

/// Most model workers the page starts: each holds its own backbone (see the README for the
/// memory each takes).
pub const MAX_WORKERS: usize = 4;

/// The page's memory a model worker takes: each one more added 43–45 MB to the renderer at ready
/// (`scripts/bench-memory.sh`: 473, 518 and 604 MB with 1, 2 and 4 workers), and its wasm
/// memory grows by a few MB as it works.
const WORKER_BYTES: f64 = 64e6;

/// The share of the device's memory the page lets its workers take.
const WORKERS_MEMORY_SHARE: f64 = 1.0 / 8.0;

/// How many model workers the page may start: where `requested` (the `?workers=` parameter), that
/// many within 1 and [`MAX_WORKERS`]; otherwise up to one per logical core, at most
/// [`MAX_WORKERS`] and at most what an eighth of `device_memory_gib` holds (where the browser
/// says, as Chromium's `navigator.deviceMemory` does), each joining only if it makes embedding
/// faster ([`PoolSize::UpTo`]): the core count alone misleads (WebKit reports 4 on 2 cores,
/// where a second worker embedded twice as many photos a second and a third none more). No
/// core is left to the page: it only renders and routes messages (`scripts/bench-workers.sh`).
pub fn pool_size(
    logical_cores: usize,
    device_memory_gib: Option<f64>,
    requested: Option<usize>,
) -> PoolSize {
    if let Some(workers) = requested {
        return PoolSize::Fixed(workers.clamp(1, MAX_WORKERS));
    }
    let memory_holds = device_memory_gib.map_or(MAX_WORKERS, |gib| {
        (gib * f64::from(1u32 << 30) * WORKERS_MEMORY_SHARE / WORKER_BYTES) as usize
    });
    PoolSize::UpTo(logical_cores.min(memory_holds).clamp(1, MAX_WORKERS))
}

/// Loading the pretrained model into the workers.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// Downloading the weights.
    Loading {
        /// Bytes received.
        received: u64,
        /// Bytes expected, when the server says.
        total: Option<u64>,
    },
    /// The workers hold the backbone.
    Ready {
        /// The compute path they run on.
        path: ComputePath,
        /// Why that path.
        reason: ComputeReason,
        /// How many workers embed photos.
        workers: usize,
    },
    /// The model could not start (detail for the console).
    Failed(String),
}

impl<T: Clone> AppState<T> {
    /// The model is loaded and the saved work restored: photos may come in.
    pub fn is_ready(&self) -> bool {
        matches!(self.model_status, ModelStatus::Ready { .. })
            && self.storage != StorageState::Opening
    }

    /// The worker pool is up on `path`; the student hears when the CPU took over from a GPU
    /// that was lost.
    pub(crate) fn workers_started(
        &mut self,
        path: ComputePath,
        reason: ComputeReason,
        workers: usize,
    ) {
        let was_on_gpu = matches!(
            self.model_status,
            ModelStatus::Ready {
                path: ComputePath::WebGpu,
                ..
            }
        );
        if was_on_gpu && path == ComputePath::Cpu {
            self.notices.push(Notice::GpuStopped);
        }
        self.model_status = ModelStatus::Ready {
            path,
            reason,
            workers,
        };
    }

    /// The model could not start (`detail` for the console).
    pub(crate) fn model_failed<F>(&mut self, detail: String) -> Vec<Effect<F, T>> {
        self.model_status = ModelStatus::Failed(detail.clone());
        vec![Effect::Log(format!("model failed to start: {detail}"))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;
    use crate::test_support::{State, ready};

    #[test]
    fn the_cpu_taking_over_from_a_lost_gpu_is_said_once() {
        let mut state = ready();
        let started = |state: &mut State, path| {
            state.apply::<&str>(Action::WorkersStarted {
                path,
                reason: ComputeReason::CpuRequested,
                workers: 1,
            });
        };
        started(&mut state, ComputePath::Cpu);
        assert!(!state.notices.contains(&Notice::GpuStopped));
        started(&mut state, ComputePath::WebGpu);
        started(&mut state, ComputePath::Cpu);
        started(&mut state, ComputePath::Cpu);
        let said = state.notices.iter().filter(|n| **n == Notice::GpuStopped);
        assert_eq!(said.count(), 1);
        assert!(matches!(
            state.model_status,
            ModelStatus::Ready {
                path: ComputePath::Cpu,
                ..
            }
        ));
    }

    #[test]
    fn up_to_one_worker_per_core_within_bounds_and_memory() {
        assert_eq!(pool_size(0, None, None), PoolSize::UpTo(1));
        assert_eq!(pool_size(2, None, None), PoolSize::UpTo(2));
        assert_eq!(pool_size(3, None, None), PoolSize::UpTo(3));
        assert_eq!(pool_size(16, None, None), PoolSize::UpTo(MAX_WORKERS));
        // An eighth of 2 GiB holds 4 workers, of 1 GiB 2, of 0.5 GiB 1, of 0.25 GiB none: one.
        assert_eq!(pool_size(16, Some(2.0), None), PoolSize::UpTo(MAX_WORKERS));
        assert_eq!(pool_size(16, Some(1.0), None), PoolSize::UpTo(2));
        assert_eq!(pool_size(16, Some(0.5), None), PoolSize::UpTo(1));
        assert_eq!(pool_size(16, Some(0.25), None), PoolSize::UpTo(1));
        // Asked for: that many, whatever the device.
        assert_eq!(pool_size(2, Some(0.5), Some(2)), PoolSize::Fixed(2));
        assert_eq!(pool_size(2, None, Some(0)), PoolSize::Fixed(1));
        assert_eq!(pool_size(2, None, Some(99)), PoolSize::Fixed(MAX_WORKERS));
    }
}
