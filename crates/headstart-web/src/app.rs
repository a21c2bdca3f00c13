//! The page: renders [`AppState`] and turns clicks, uploads and drops into its methods and into
//! [`Engine`] work. Long work runs in spawned futures that report back with messages.

use crate::browser::{
    fetch_blob, fetch_text, object_url, query_param, revoke_object_url, yield_to_browser,
};
use crate::check::{CheckOutcome, compare_backends};
use crate::compute::ComputeChoice;
use crate::engine::{Engine, TrainedHead};
use headstart_app::{AppState, ClassEntry, Id, Prediction, TrainingState};
use headstart_core::head::{ClassifierHead, EpochReport, TrainingConfig};
use std::future::Future;
use std::rc::Rc;
use web_sys::{Blob, DragEvent, File, FileList, HtmlInputElement};
use yew::html::Scope;
use yew::prelude::*;

/// Where the sample photos are listed, one `class/file` per line.
const SAMPLES_INDEX: &str = "samples/index.txt";

/// Loading the pretrained model.
enum ModelStatus {
    Loading { received: u64, total: Option<u64> },
    Ready(Rc<Engine>),
    Failed(String),
}

/// Everything that changes the page.
pub enum Msg {
    ModelProgress(u64, Option<u64>),
    ModelReady(Rc<Engine>),
    ModelFailed(String),
    AddClass,
    RenameClass(Id, String),
    DeleteClass(Id),
    DeletePhoto(Id),
    AddPhotos(Id, Vec<(String, Blob)>),
    LoadSamples,
    SampleClass(String, Vec<(String, Blob)>),
    SamplesFailed(String),
    PhotoEmbedded {
        class: Id,
        file_name: String,
        thumbnail: String,
        embedding: Vec<f32>,
    },
    PhotoFailed(String),
    Train,
    Epoch(EpochReport),
    Trained(Rc<TrainedHead>, Vec<String>),
    TrainingFailed(String),
    BackendCheckStage(String),
    BackendCheck(CheckOutcome),
    Predict(Vec<(String, Blob)>),
    Predicted {
        file_name: String,
        thumbnail: String,
        probabilities: Vec<f32>,
    },
    ClearPredictions,
}

/// The root component.
pub struct App {
    state: AppState,
    model: ModelStatus,
    head: Option<Rc<ClassifierHead>>,
    /// Photos waiting to be embedded (added or to classify).
    pending_photos: usize,
    /// `?check=backends`: the WebGPU-versus-CPU comparison, once it ran.
    backend_check: Option<Option<CheckOutcome>>,
    /// What the comparison is doing now.
    backend_check_stage: String,
}

/// Photos from a file input's list.
fn files_of(list: Option<FileList>) -> Vec<(String, Blob)> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file: File| (file.name(), Blob::from(file)))
        .collect()
}

fn input_files(event: &Event) -> Vec<(String, Blob)> {
    let input: HtmlInputElement = event.target_unchecked_into();
    let files = files_of(input.files());
    input.set_value("");
    files
}

fn dropped_files(event: &DragEvent) -> Vec<(String, Blob)> {
    event.prevent_default();
    files_of(event.data_transfer().and_then(|transfer| transfer.files()))
}

fn allow_drop(event: DragEvent) {
    event.prevent_default();
}

impl App {
    fn engine(&self) -> Option<Rc<Engine>> {
        match &self.model {
            ModelStatus::Ready(engine) => Some(engine.clone()),
            _ => None,
        }
    }

    /// Runs `work` on each photo in turn, yielding to the browser between photos, and sends
    /// `done(file name, thumbnail, result)` per photo, or a notice that the photo was `skipped`.
    fn for_each_photo<T: 'static, Work: Future<Output = Result<T, String>> + 'static>(
        &mut self,
        link: &Scope<Self>,
        photos: Vec<(String, Blob)>,
        skipped: &'static str,
        work: impl Fn(Blob) -> Work + 'static,
        done: impl Fn(String, String, T) -> Msg + 'static,
    ) {
        self.pending_photos += photos.len();
        let link = link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            for (file_name, blob) in photos {
                yield_to_browser().await;
                link.send_message(match work(blob.clone()).await {
                    Ok(result) => done(file_name, object_url(&blob), result),
                    Err(error) => Msg::PhotoFailed(format!("\"{file_name}\" {skipped}: {error}.")),
                });
            }
        });
    }

    /// Embeds photos into a class.
    fn embed_photos(&mut self, link: &Scope<Self>, class: Id, photos: Vec<(String, Blob)>) {
        let Some(engine) = self.engine() else {
            self.state
                .notify("The model is still loading; add the photos again in a moment.".into());
            return;
        };
        let work = move |blob: Blob| {
            let engine = engine.clone();
            async move { engine.embed_photo(&blob).await }
        };
        let done = move |file_name, thumbnail, embedding| Msg::PhotoEmbedded {
            class,
            file_name,
            thumbnail,
            embedding,
        };
        self.for_each_photo(link, photos, "was skipped", work, done);
    }

    /// Classifies photos with the trained head.
    fn classify_photos(&mut self, link: &Scope<Self>, photos: Vec<(String, Blob)>) {
        let (Some(engine), Some(head)) = (self.engine(), self.head.clone()) else {
            self.state
                .notify("Train the model before classifying photos.".into());
            return;
        };
        let work = move |blob: Blob| {
            let (engine, head) = (engine.clone(), head.clone());
            async move { engine.classify_photo(&head, &blob).await }
        };
        let done = |file_name, thumbnail, probabilities| Msg::Predicted {
            file_name,
            thumbnail,
            probabilities,
        };
        self.for_each_photo(link, photos, "was not classified", work, done);
    }

    fn start_training(&mut self, link: &Scope<Self>) {
        let Some(engine) = self.engine() else { return };
        if let Some(reason) = self.state.training_blocker() {
            self.state.notify(reason);
            return;
        }
        let (examples, names) = self.state.training_set();
        let config = TrainingConfig::new();
        self.state.start_training(config.epochs);
        let link = link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            yield_to_browser().await;
            let epoch_link = link.clone();
            let result = engine
                .train(&examples, names.len(), config, |report| {
                    epoch_link.send_message(Msg::Epoch(report))
                })
                .await;
            link.send_message(match result {
                Ok(trained) => Msg::Trained(Rc::new(trained), names),
                Err(error) => Msg::TrainingFailed(error),
            });
        });
    }

    fn load_samples(link: &Scope<Self>) {
        let link = link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let index = match fetch_text(SAMPLES_INDEX).await {
                Ok(index) => index,
                Err(error) => return link.send_message(Msg::SamplesFailed(error)),
            };
            let mut by_class: Vec<(String, Vec<(String, Blob)>)> = Vec::new();
            for line in index.lines().map(str::trim).filter(|line| !line.is_empty()) {
                let Some((class, file)) = line.split_once('/') else {
                    continue;
                };
                let blob = match fetch_blob(&format!("samples/{line}")).await {
                    Ok(blob) => blob,
                    Err(error) => return link.send_message(Msg::SamplesFailed(error)),
                };
                match by_class.iter_mut().find(|(name, _)| name == class) {
                    Some((_, photos)) => photos.push((file.to_string(), blob)),
                    None => by_class.push((class.to_string(), vec![(file.to_string(), blob)])),
                }
            }
            for (class, photos) in by_class {
                link.send_message(Msg::SampleClass(class, photos));
            }
        });
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link().clone();
        let checking = query_param("check").as_deref() == Some("backends");
        // The comparison needs the page's own model on the CPU side.
        let choice = match checking {
            true => ComputeChoice::Cpu,
            false => ComputeChoice::from_query(query_param("compute").as_deref()),
        };
        wasm_bindgen_futures::spawn_local(async move {
            let progress_link = link.clone();
            let started = Engine::start(choice, move |received, total| {
                progress_link.send_message(Msg::ModelProgress(received, total))
            })
            .await;
            link.send_message(match started {
                Ok(engine) => Msg::ModelReady(Rc::new(engine)),
                Err(error) => Msg::ModelFailed(error),
            });
        });
        Self {
            state: AppState::new(),
            model: ModelStatus::Loading {
                received: 0,
                total: None,
            },
            head: None,
            pending_photos: 0,
            backend_check: checking.then_some(None),
            backend_check_stage: "waiting for the model".into(),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        let link = ctx.link();
        match msg {
            Msg::ModelProgress(received, total) => {
                self.model = ModelStatus::Loading { received, total }
            }
            Msg::ModelReady(engine) => {
                if self.backend_check.is_some() {
                    let (link, engine) = (link.clone(), engine.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let stage_link = link.clone();
                        let on_stage = move |stage: &str| {
                            web_sys::console::log_1(&format!("backend check: {stage}").into());
                            stage_link.send_message(Msg::BackendCheckStage(stage.to_string()));
                        };
                        link.send_message(Msg::BackendCheck(
                            compare_backends(&engine, on_stage).await,
                        ));
                    });
                }
                self.model = ModelStatus::Ready(engine);
            }
            Msg::BackendCheckStage(stage) => self.backend_check_stage = stage,
            Msg::BackendCheck(outcome) => self.backend_check = Some(Some(outcome)),
            Msg::ModelFailed(error) => self.model = ModelStatus::Failed(error),
            Msg::AddClass => {
                self.state.add_class();
            }
            Msg::RenameClass(id, name) => self.state.rename_class(id, &name),
            Msg::DeleteClass(id) => self
                .state
                .delete_class(id)
                .iter()
                .for_each(|url| revoke_object_url(url)),
            Msg::DeletePhoto(id) => self
                .state
                .delete_photo(id)
                .iter()
                .for_each(|url| revoke_object_url(url)),
            Msg::AddPhotos(class, photos) => self.embed_photos(link, class, photos),
            Msg::LoadSamples => Self::load_samples(link),
            Msg::SampleClass(name, photos) => {
                let class = self.state.claim_class(&name);
                self.embed_photos(link, class, photos);
            }
            Msg::SamplesFailed(error) => self
                .state
                .notify(format!("The sample photos could not be loaded: {error}.")),
            Msg::PhotoEmbedded {
                class,
                file_name,
                thumbnail,
                embedding,
            } => {
                self.pending_photos = self.pending_photos.saturating_sub(1);
                if !self
                    .state
                    .add_photo(class, file_name, thumbnail.clone(), embedding)
                {
                    revoke_object_url(&thumbnail);
                }
            }
            Msg::PhotoFailed(message) => {
                self.pending_photos = self.pending_photos.saturating_sub(1);
                self.state.notify(message);
            }
            Msg::Train => self.start_training(link),
            Msg::Epoch(report) => self.state.record_epoch(report),
            Msg::Trained(trained, names) => {
                self.head = Some(Rc::new(trained.head.clone()));
                self.state
                    .finish_training(trained.last, trained.split, names);
            }
            Msg::TrainingFailed(error) => self.state.fail_training(error),
            Msg::Predict(photos) => self.classify_photos(link, photos),
            Msg::Predicted {
                file_name,
                thumbnail,
                probabilities,
            } => {
                self.pending_photos = self.pending_photos.saturating_sub(1);
                self.state
                    .add_prediction(file_name, thumbnail, &probabilities);
            }
            Msg::ClearPredictions => self
                .state
                .clear_predictions()
                .iter()
                .for_each(|url| revoke_object_url(url)),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        html! {
            <div class="page">
                <header>
                    <h1>{ "Headstart" }</h1>
                    <p class="tagline">{ "Teach a pretrained network new classes from a few photos. Everything runs on this device; no photo leaves it." }</p>
                    { self.view_model_status() }
                </header>
                { self.view_notices() }
                { self.view_backend_check() }
                <main>
                    <section class="step classes">
                        <h2>{ "1. Classes and photos" }</h2>
                        <div class="class-list">
                            { for self.state.classes.iter().map(|class| self.view_class(ctx, class)) }
                        </div>
                        <div class="row">
                            <button data-testid="add-class" onclick={ctx.link().callback(|_| Msg::AddClass)}>{ "+ Add a class" }</button>
                            <button data-testid="load-samples" disabled={self.engine().is_none()}
                                onclick={ctx.link().callback(|_| Msg::LoadSamples)}>{ "Try sample photos" }</button>
                            if self.pending_photos > 0 {
                                <span class="working" data-testid="pending-photos">{ format!("Reading {} photo(s)…", self.pending_photos) }</span>
                            }
                        </div>
                    </section>
                    { self.view_training(ctx) }
                    { self.view_predictions(ctx) }
                </main>
                <footer>
                    { "The backbone is EfficientNet-Lite0 pretrained on ImageNet; only a new head is trained on your photos (feature extraction)." }
                </footer>
            </div>
        }
    }
}

impl App {
    fn view_backend_check(&self) -> Html {
        let Some(outcome) = &self.backend_check else {
            return html! {};
        };
        let (state, text, attributes) = match outcome {
            None => (
                "running",
                "Comparing WebGPU with the CPU…".to_string(),
                None,
            ),
            Some(CheckOutcome::Skipped(reason)) => ("skipped", format!("Skipped: {reason}."), None),
            Some(CheckOutcome::Failed(error)) => {
                ("error", format!("WebGPU failed: {error}."), None)
            }
            Some(CheckOutcome::Compared {
                adapter,
                embedding_difference,
                probability_difference,
                same_predictions,
            }) => (
                "done",
                format!(
                    "On {adapter}: the photo's embedding differs by at most {embedding_difference:e}, \
                     class probabilities by at most {probability_difference:e}; \
                     same predicted classes: {same_predictions}."
                ),
                Some((
                    *embedding_difference,
                    *probability_difference,
                    *same_predictions,
                )),
            ),
        };
        html! {
            <section class="step" data-testid="backend-check" data-state={state}
                data-embedding-difference={attributes.map(|a| a.0.to_string())}
                data-probability-difference={attributes.map(|a| a.1.to_string())}
                data-same-predictions={attributes.map(|a| a.2.to_string())}>
                <h2>{ "WebGPU versus CPU" }</h2>
                <p>{ text }</p>
            </section>
        }
    }

    fn view_model_status(&self) -> Html {
        match &self.model {
            ModelStatus::Loading { received, total } => {
                let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
                html! {
                    <div class="model-status" data-testid="model-loading">
                        { "Loading the pretrained model… " }
                        <progress data-testid="model-progress" value={received.to_string()}
                            max={total.unwrap_or(0).max(*received).max(1).to_string()}></progress>
                        { format!(" {} of {}", mb(*received), total.map_or("?".into(), mb)) }
                    </div>
                }
            }
            ModelStatus::Ready(engine) => html! {
                <div class="model-status">
                    <span class="badge" data-testid="backend" title={engine.compute.reason.clone()}>
                        { engine.compute.path.label() }
                    </span>
                    <span data-testid="ready" class="ready">{ "Model ready" }</span>
                    <span class="why">{ engine.compute.reason.clone() }</span>
                </div>
            },
            ModelStatus::Failed(error) => html! {
                <div class="model-status error" role="alert" data-testid="model-error">
                    { format!("The model could not start: {error}. Check the connection to the page's server and reload.") }
                </div>
            },
        }
    }

    fn view_notices(&self) -> Html {
        if self.state.notices.is_empty() {
            return html! {};
        }
        html! {
            <ul class="notices" data-testid="notices" role="status">
                { for self.state.notices.iter().map(|notice| html! { <li>{ notice.clone() }</li> }) }
            </ul>
        }
    }

    fn view_class(&self, ctx: &Context<Self>, class: &ClassEntry) -> Html {
        let id = class.id;
        let link = ctx.link();
        let count = class.photos.len();
        html! {
            <div class="class-card" data-testid="class-card" key={id}
                ondragover={Callback::from(allow_drop)}
                ondrop={link.callback(move |event: DragEvent| Msg::AddPhotos(id, dropped_files(&event)))}>
                <div class="class-head">
                    // Every keystroke goes to the state: yew rewrites the input from the state on
                    // each render, which would wipe a half-typed name when a photo finishes.
                    <input data-testid="class-name" aria-label="Class name" value={class.name.clone()}
                        oninput={link.callback(move |event: InputEvent| {
                            let input: HtmlInputElement = event.target_unchecked_into();
                            Msg::RenameClass(id, input.value())
                        })} />
                    <span class="count" data-testid="class-count">{ format!("{count} photo{}", if count == 1 { "" } else { "s" }) }</span>
                    <button class="delete" data-testid="delete-class" title="Delete this class and its photos"
                        onclick={link.callback(move |_| Msg::DeleteClass(id))}>{ "✕" }</button>
                </div>
                <div class="thumbs">
                    { for class.photos.iter().map(|photo| {
                        let photo_id = photo.id;
                        html! {
                            <figure class="thumb" key={photo_id}>
                                <img src={photo.thumbnail.clone()} alt={photo.file_name.clone()} title={photo.file_name.clone()} />
                                <button class="remove" title="Remove this photo" onclick={link.callback(move |_| Msg::DeletePhoto(photo_id))}>{ "✕" }</button>
                            </figure>
                        }
                    }) }
                </div>
                <label class="upload">
                    { "Add photos (or drop them here)" }
                    <input type="file" accept="image/*" multiple=true data-testid="class-upload"
                        onchange={link.callback(move |event: Event| Msg::AddPhotos(id, input_files(&event)))} />
                </label>
            </div>
        }
    }

    fn view_training(&self, ctx: &Context<Self>) -> Html {
        let blocker = self.state.training_blocker();
        let busy = self.pending_photos > 0 || self.engine().is_none();
        let percent = |value: f32| format!("{:.0}%", value * 100.0);
        let (detail, progress, attributes) = match &self.state.training {
            TrainingState::Idle => (
                html! { blocker.clone().unwrap_or_else(|| "Ready to train.".into()) },
                None,
                None,
            ),
            TrainingState::Running { epochs, last } => {
                let epoch = last.map_or(0, |r| r.epoch);
                let text = match last {
                    Some(report) => format!(
                        "Epoch {epoch} of {epochs}: loss {:.3}, training accuracy {}",
                        report.train.loss,
                        percent(report.train.accuracy)
                    ),
                    None => format!("Starting {epochs} epochs…"),
                };
                (html! { text }, Some((epoch, *epochs)), None)
            }
            TrainingState::Done { last, split } => {
                let validation = last.validation.map_or("no validation photos".into(), |v| {
                    format!(
                        "validation accuracy {} (loss {:.3})",
                        percent(v.accuracy),
                        v.loss
                    )
                });
                let text = format!(
                    "Done after {} epochs on {} photos ({} held back): training accuracy {}, {validation}.",
                    last.epoch,
                    split.0,
                    split.1,
                    percent(last.train.accuracy)
                );
                (html! { text }, Some((last.epoch, last.epoch)), Some(*last))
            }
            TrainingState::Failed(error) => (
                html! { format!("Training stopped: {error}. Your photos are kept; try again.") },
                None,
                None,
            ),
        };
        let validation_accuracy = attributes
            .and_then(|r| r.validation)
            .map(|v| v.accuracy.to_string());
        let train_accuracy = attributes.map(|r| r.train.accuracy.to_string());
        html! {
            <section class="step training">
                <h2>{ "2. Train" }</h2>
                <button data-testid="train" class="primary" disabled={busy || blocker.is_some()}
                    onclick={ctx.link().callback(|_| Msg::Train)}>{ "Train" }</button>
                <div class="train-status" data-testid="train-status" data-state={self.state.training.name()}
                    data-train-accuracy={train_accuracy} data-validation-accuracy={validation_accuracy}>
                    if let Some((done, total)) = progress {
                        <progress value={done.to_string()} max={total.max(1).to_string()}></progress>
                    }
                    <p>{ detail }</p>
                </div>
                if self.state.classes_changed_since_training() {
                    <p class="hint">{ "Your classes changed since training: train again to include the changes." }</p>
                }
            </section>
        }
    }

    fn view_predictions(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ready = self.head.is_some();
        html! {
            <section class="step predict" ondragover={Callback::from(allow_drop)}
                ondrop={link.callback(|event: DragEvent| Msg::Predict(dropped_files(&event)))}>
                <h2>{ "3. Classify new photos" }</h2>
                <label class={classes!("upload", (!ready).then_some("disabled"))}>
                    { if ready { "Pick or drop photos to classify" } else { "Train first, then pick or drop photos to classify" } }
                    <input type="file" accept="image/*" multiple=true data-testid="predict-upload" disabled={!ready}
                        onchange={link.callback(|event: Event| Msg::Predict(input_files(&event)))} />
                </label>
                if !self.state.predictions.is_empty() {
                    <button onclick={link.callback(|_| Msg::ClearPredictions)}>{ "Clear" }</button>
                }
                <div class="predictions">
                    { for self.state.predictions.iter().map(view_prediction) }
                </div>
            </section>
        }
    }
}

fn view_prediction(prediction: &Prediction) -> Html {
    let (label, confidence) = prediction.top();
    html! {
        <figure class="prediction" data-testid="prediction" data-file={prediction.file_name.clone()}
            data-label={label.to_string()} data-confidence={confidence.to_string()}>
            <img src={prediction.thumbnail.clone()} alt={prediction.file_name.clone()} />
            <figcaption>
                <strong>{ format!("{label} ({:.0}%)", confidence * 100.0) }</strong>
                <span class="file">{ prediction.file_name.clone() }</span>
                { for prediction.probabilities.iter().map(|(name, probability)| html! {
                    <div class="bar">
                        <span class="bar-name">{ name.clone() }</span>
                        <meter min="0" max="1" value={probability.to_string()}></meter>
                        <span class="bar-value">{ format!("{:.0}%", probability * 100.0) }</span>
                    </div>
                }) }
            </figcaption>
        </figure>
    }
}
