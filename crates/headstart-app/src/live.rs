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

    /// The camera could not start (`detail` for the console).
    pub(crate) fn camera_failed<F>(&mut self, detail: String) -> Vec<Effect<F, T>> {
        self.notify(Notice::CameraUnavailable);
        self.live = None;
        vec![Effect::Log(format!("camera: {detail}"))]
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

#[cfg(test)]
mod tests {
    use crate::test_support::{Effects, finish, trainable};
    use crate::{Action, Effect, Notice};
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::{Event, PhotoError, Request};

    #[test]
    fn live_classification_takes_one_camera_frame_at_a_time_and_keeps_only_the_latest() {
        let (mut state, _) = trainable();
        state.apply::<&str>(Action::Live(true));
        assert!(state.live.is_none(), "no model yet");
        assert_eq!(state.notices.last(), Some(&Notice::TrainFirst));
        let effects: Effects = state.apply(Action::Train);
        finish(&mut state, &effects);
        state.apply::<&str>(Action::Live(true));
        assert!(state.wants_live_frame());

        let sent: Effects = state.apply(Action::LiveFrame("frame-1"));
        let [Effect::Send(Request::Classify { job, .. }, Some("frame-1"))] = sent[..] else {
            panic!("{sent:?}")
        };
        assert!(!state.wants_live_frame(), "one frame at a time");
        assert!(
            state.apply::<&str>(Action::LiveFrame("frame-2")).is_empty(),
            "dropped"
        );
        assert_eq!(
            state.photos_being_classified(),
            0,
            "a frame is not a photo being classified"
        );
        let classified = |job, p: f32| {
            Action::<&str, String>::Worker(
                Event::Classified {
                    job,
                    probabilities: vec![p, 1.0 - p],
                },
                Attachment::Decoded {
                    thumbnail: "frame-thumb".into(),
                    input: "frame-input".into(),
                },
            )
        };
        state.apply(classified(job, 0.9));
        let live = state.live.as_ref().unwrap();
        assert_eq!(
            (live.frames, live.latest.as_ref().unwrap().top().1),
            (1, 0.9)
        );
        assert!(
            state.predictions.is_empty(),
            "frames do not fill the predictions"
        );
        assert!(state.wants_live_frame());

        let sent: Effects = state.apply(Action::LiveFrame("frame-3"));
        let [Effect::Send(Request::Classify { job, .. }, _)] = sent[..] else {
            panic!("{sent:?}")
        };
        state.apply::<&str>(Action::Worker(
            Event::PhotoFailed {
                job,
                error: PhotoError::NotAnImage,
            },
            Attachment::Nothing,
        ));
        assert!(
            state.wants_live_frame(),
            "a failed frame frees the way for the next"
        );
        assert!(
            !state
                .notices
                .iter()
                .any(|n| matches!(n, Notice::PhotoNotClassified { .. }))
        );

        let sent: Effects = state.apply(Action::LiveFrame("frame-4"));
        let [Effect::Send(Request::Classify { job, .. }, _)] = sent[..] else {
            panic!("{sent:?}")
        };
        state.apply::<&str>(Action::Live(false));
        state.apply(classified(job, 0.2));
        assert!(
            state.live.is_none() && state.predictions.is_empty(),
            "a late frame is dropped"
        );
        state.apply::<&str>(Action::CameraFailed("NotAllowedError".into()));
        assert_eq!(state.notices.last(), Some(&Notice::CameraUnavailable));
    }
}
