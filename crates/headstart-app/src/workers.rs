//! The model workers: how many the page starts, and loading the pretrained backbone into them.
//! Photos come in once the workers hold it (and the saved work is restored).

use crate::{AppState, Effect, Notice, StorageState};
use headstart_core::protocol::{ComputePath, ComputeReason};

/// Most model workers the page starts: each holds its own backbone (see the README for the
/// memory each takes).
pub const MAX_WORKERS: usize = 4;

/// How many model workers to start on a device with `logical_cores`: one per core, between 1
/// and [`MAX_WORKERS`]; `requested` (the `?workers=` parameter) overrides the count within the
/// same bounds. No core is left to the page: it only renders and routes messages, and on two
/// cores a second worker embedded 1.4x as many photos per second with no long task on the
/// page's thread either way (`scripts/bench-workers.sh`).
pub fn worker_count(logical_cores: usize, requested: Option<usize>) -> usize {
    requested.unwrap_or(logical_cores).clamp(1, MAX_WORKERS)
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
    fn one_worker_per_core_within_bounds() {
        assert_eq!(worker_count(0, None), 1);
        assert_eq!(worker_count(2, None), 2);
        assert_eq!(worker_count(3, None), 3);
        assert_eq!(worker_count(16, None), MAX_WORKERS);
        assert_eq!(worker_count(2, Some(2)), 2);
        assert_eq!(worker_count(2, Some(0)), 1);
        assert_eq!(worker_count(2, Some(99)), MAX_WORKERS);
    }
}
