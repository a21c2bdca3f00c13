//! Classifying the camera live: the view offers frames, and the state takes one whenever the
//! previous one has been classified, so the frame rate is what the device can do and no
//! frames pile up; each frame is classified by the model in use, like a photo.

use crate::{AppState, Effect, JobId, Notice, Prediction};

/// Live classification of the camera, while it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveClassification<T> {
    /// The latest frame's prediction.
    pub latest: Option<Prediction<T>>,
    /// Frames classified since it started.
    pub frames: u32,
    /// The frame being classified.
    waiting: Option<JobId>,
}

impl<T: Clone> AppState<T> {
    /// Turns live classification on (once a model exists) or off.
    pub(crate) fn set_live(&mut self, on: bool) {
        if !on {
            self.live = None;
        } else if self.model.is_none() {
            self.notify(Notice::TrainFirst);
        } else if self.live.is_none() {
            self.live = Some(LiveClassification {
                latest: None,
                frames: 0,
                waiting: None,
            });
        }
    }

    /// Whether the camera's next frame is wanted now: live classification is on, a model is
    /// ready and no frame is being classified.
    pub fn wants_live_frame(&self) -> bool {
        self.is_ready()
            && self.model.is_some()
            && self
                .live
                .as_ref()
                .is_some_and(|live| live.waiting.is_none())
    }

    /// A frame of the camera, classified if one is wanted (otherwise dropped).
    pub(crate) fn live_frame<F>(&mut self, frame: F) -> Vec<Effect<F, T>> {
        let Some(model) = self.model.clone().filter(|_| self.wants_live_frame()) else {
            return Vec::new();
        };
        let (job, effect) = self.classify_file(&model, "camera".into(), frame, true);
        if let Some(live) = &mut self.live {
            live.waiting = Some(job);
        }
        vec![effect]
    }

    /// A live frame's outcome: its prediction, or `None` when it failed.
    pub(crate) fn live_classified(&mut self, job: JobId, prediction: Option<Prediction<T>>) {
        let Some(live) = self.live.as_mut().filter(|live| live.waiting == Some(job)) else {
            return;
        };
        live.waiting = None;
        if let Some(prediction) = prediction {
            live.latest = Some(prediction);
            live.frames += 1;
        }
    }
}
