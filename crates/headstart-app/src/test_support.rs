//! What the modules' tests share: a page made ready, photos added and answered, a run
//! finished, the worker's answers and the requests the state sent.

use crate::{
    Action, AppState, ClassId, Effect, MemoryStorage, ProjectStorage, SaveChange, SavedWork,
    StorageAccess,
};
use headstart_core::embedding::{EMBEDDING_DIM, Embedding};
use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{
    Attachment, ComputePath, ComputeReason, Event, JobId, NetworkTraining, Request,
    ViewAugmentation,
};
use headstart_core::run::{RunSpec, TrainingExamples};
use headstart_core::training::{
    AugmentedView, EpochReport, HeadWeights, LabeledEmbedding, Metrics, ModelVersion, ModelWeights,
    NetworkWeights, SplitSizes, TrainedModel, TrainingSettings,
};

/// Files are their names and thumbnails are strings in these tests.
pub(crate) type State = AppState<String>;
pub(crate) type Effects = Vec<Effect<&'static str, String>>;

/// A page whose storage opened empty and whose workers started.
pub(crate) fn ready() -> State {
    let mut state = State::new();
    open(&mut state, None, StorageAccess::Granted);
    state
}

/// What the page does as it starts: storage opens with `work`, then the workers start.
pub(crate) fn open(state: &mut State, work: Option<SavedWork<String>>, access: StorageAccess) {
    let work = work.map(Box::new);
    state.apply::<&str>(Action::Restore { work, access });
    state.apply::<&str>(Action::WorkersStarted {
        path: ComputePath::Cpu,
        reason: ComputeReason::CpuRequested,
        workers: 2,
    });
}

/// Ready, with two classes of two photos each; returns the first class's id too.
pub(crate) fn trainable() -> (State, ClassId) {
    let mut state = ready();
    let (a, b) = (state.classes[0].id, state.classes[1].id);
    with_photos(&mut state, a, 2);
    with_photos(&mut state, b, 2);
    (state, a)
}

/// Files named `names`, each its name.
pub(crate) fn files(names: &[&'static str]) -> Vec<(String, &'static str)> {
    names.iter().map(|n| (n.to_string(), *n)).collect()
}

/// The jobs of the embedding, classifying and training requests among the effects.
pub(crate) fn sent_jobs(effects: &Effects) -> Vec<JobId> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(Request::Embed { job }, _)
            | Effect::Send(Request::Classify { job, .. }, _)
            | Effect::Send(Request::Train { job, .. }, _) => Some(*job),
            _ => None,
        })
        .collect()
}

/// A run's embeddings and views (none when it trains on model inputs).
pub(crate) fn run_embeddings(
    examples: &TrainingExamples,
) -> (&[LabeledEmbedding], &[AugmentedView]) {
    match examples {
        TrainingExamples::Embeddings { examples, views } => (examples, views),
        TrainingExamples::ModelInputs { .. } => (&[], &[]),
    }
}

/// An embedding of `value` everywhere.
pub(crate) fn embedding(value: f32) -> Embedding {
    Embedding::try_from(vec![value; EMBEDDING_DIM]).unwrap()
}

/// Adds `count` photos to a class and lets the worker answer every one.
pub(crate) fn with_photos(state: &mut State, class: ClassId, count: usize) {
    let names: Vec<&'static str> = (0..count).map(|_| "p.png").collect();
    let effects = state.apply(Action::AddPhotos(class, files(&names)));
    for job in sent_jobs(&effects) {
        state.apply::<&str>(Action::Worker(
            Event::Embedded {
                job,
                embedding: embedding(job.0 as f32),
            },
            Attachment::Decoded {
                thumbnail: format!("thumb-{}", job.0),
                input: format!("input-{}", job.0),
            },
        ));
    }
}

/// An epoch's report: loss 0.5 and accuracy 0.9, in training and validation.
pub(crate) fn report(epoch: usize) -> EpochReport {
    let metrics = Metrics {
        loss: 0.5,
        accuracy: 0.9,
    };
    EpochReport {
        epoch,
        train: metrics,
        validation: Some(metrics),
        validation_spread: None,
    }
}

/// A model of trained network layers (none of its tensors: the page never looks inside)
/// with one epoch and `params` trained numbers.
pub(crate) fn network_model(job: JobId, params: usize) -> TrainedModel {
    TrainedModel {
        version: ModelVersion(0),
        class_names: vec!["a".into(), "b".into()],
        settings: TrainingSettings::default(),
        split: SplitSizes {
            train: 6,
            views: 0,
            validation: 2,
        },
        history: vec![report(1)],
        stopped_early: false,
        restored_epoch: None,
        validation: Vec::new(),
        weights: ModelWeights::Network(NetworkWeights {
            training: NetworkTraining::FineTune,
            tensors: std::sync::Arc::new(Vec::new()),
        }),
        trainable_params: params,
        training_ms: 900.0 + f64::from(job.0),
        fold_accuracies: Vec::new(),
    }
}

/// Finishes the running training with a model of its version and class names.
pub(crate) fn finish(state: &mut State, effects: &Effects) -> ModelVersion {
    let Some(Effect::Send(
        Request::Train {
            job,
            run:
                RunSpec {
                    version,
                    class_names,
                    ..
                },
            ..
        },
        None,
    )) = effects.first()
    else {
        panic!("no training request in {effects:?}");
    };
    let classes = class_names.len();
    let model = TrainedModel {
        version: *version,
        class_names: class_names.clone(),
        settings: TrainingSettings::default(),
        split: SplitSizes {
            train: 4,
            views: 0,
            validation: 0,
        },
        history: vec![report(1)],
        stopped_early: false,
        restored_epoch: None,
        validation: Vec::new(),
        weights: ModelWeights::Head(HeadWeights {
            weight: vec![0.0; EMBEDDING_DIM * classes],
            bias: vec![0.0; classes],
        }),
        trainable_params: (EMBEDDING_DIM + 1) * classes,
        training_ms: 1.0,
        fold_accuracies: Vec::new(),
    };
    state.apply::<&str>(Action::Worker(
        Event::Trained {
            job: *job,
            model: Box::new(model),
        },
        Attachment::Nothing,
    ));
    *version
}

/// An EmbedInput request: its job, normalization, view and the input it carries.
pub(crate) type ViewRequest = (JobId, Normalization, Option<ViewAugmentation>, String);

/// The EmbedInput requests among the effects, with the input each carries.
pub(crate) fn view_requests(effects: &Effects) -> Vec<ViewRequest> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::SendWithInput(
                Request::EmbedInput {
                    job,
                    normalization,
                    augmentation,
                },
                input,
            ) => Some((*job, *normalization, *augmentation, input.clone())),
            _ => None,
        })
        .collect()
}

/// Lets the worker embed every view asked for; returns the effects of the last answer.
pub(crate) fn answer_views(state: &mut State, requests: &[ViewRequest]) -> Effects {
    let mut effects = Vec::new();
    for (job, ..) in requests {
        let event = Event::Embedded {
            job: *job,
            embedding: embedding(1000.0 + job.0 as f32),
        };
        effects = state.apply(Action::Worker(event, Attachment::Nothing));
    }
    effects
}

/// Runs a storage call that completes at once (the in-memory storage's do).
pub(crate) fn at_once<O>(future: impl std::future::Future<Output = O>) -> O {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the in-memory storage never waits"),
    }
}

/// Carries out the state's unsaved changes, as the page does after every action.
pub(crate) fn save(state: &mut State, storage: &MemoryStorage<String>) -> Vec<SaveChange<String>> {
    let changes = state.unsaved_changes();
    at_once(storage.save(changes.clone())).unwrap();
    state.apply::<&str>(Action::Saved);
    changes
}

/// A fresh page that opens `storage`.
pub(crate) fn reopened(storage: &MemoryStorage<String>, access: StorageAccess) -> State {
    let mut state = State::new();
    open(&mut state, at_once(storage.load()).unwrap(), access);
    state
}

/// Photos added next get identities no photo in the state has.
pub(crate) fn assert_new_photos_take_new_ids(state: &mut State) {
    let class = state.classes[0].id;
    let added: Effects = state.apply(Action::AddPhotos(class, files(&["new.png"])));
    let [job] = sent_jobs(&added)[..] else {
        panic!("{added:?}")
    };
    let mut photos = state.classes.iter().flat_map(|c| &c.photos);
    assert!(photos.all(|p| p.id.0 < job.0));
}
