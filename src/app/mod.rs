//! The egui app: one file per panel; consumes events only.
pub mod charts;
pub mod controller;
pub mod denoise_panel;
pub mod denoise_view;
pub mod history;
pub mod model_io;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod panel_common;
pub mod pca;
pub mod rm_panel;
pub mod settings;
pub mod strength_panel;
pub mod strength_view;

use std::sync::{Arc, Mutex};

use crate::compute::Compute;
use crate::experiment::Artifacts;
use crate::experiment::prepare::Upload;
use crate::experiment::strength::io::StrengthMu;
use crate::experiment::{
    DataSource, DenoiseConfig, Event, ExperimentConfig, RmTrainConfig, StrengthConfig,
};
use controller::{Command, RunController, RunInputs};
use denoise_view::DenoiseView;
use history::RunHistory;
use strength_view::StrengthView;

/// How a run is named in the feature comparison.
fn contrastive_label(c: &crate::rm::contrastive::ContrastiveConfig) -> String {
    use crate::rm::contrastive::ContrastiveMethod as M;
    if !c.active() {
        return "baseline".into();
    }
    let name = match c.method {
        M::None => "baseline",
        M::Simcse => "SimCSE",
        M::Swav => "SwAV",
        M::SwavDiff => "SwAV-diff",
    };
    format!("{name} (β {})", c.beta)
}

/// The experiment tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// Train one reward model.
    #[default]
    Rm,
    /// Preference strength.
    Strength,
    /// Denoising methods.
    Denoise,
}

/// One tab of the app: its names, its settings (below the shared dataset settings) and its
/// central panel. A new tab is one file with these two functions, a [`Tab`] variant and one
/// entry in [`TABS`] (plus its view and config fields here).
pub struct TabSpec {
    /// Which tab.
    pub tab: Tab,
    /// Its name on the command line (`gui --tab NAME`).
    pub name: &'static str,
    /// Its title in the tab bar.
    pub title: &'static str,
    /// Its own settings.
    pub settings_ui: fn(&mut RlhfApp, &mut egui::Ui),
    /// Its central panel.
    pub central_ui: fn(&mut RlhfApp, &mut egui::Ui),
}

/// Every tab, in tab-bar order.
pub const TABS: [TabSpec; 3] = [
    TabSpec {
        tab: Tab::Rm,
        name: "rm",
        title: "Reward model",
        settings_ui: settings::rm_settings_ui,
        central_ui: rm_panel::rm_panel_ui,
    },
    TabSpec {
        tab: Tab::Strength,
        name: "strength",
        title: "Preference strength",
        settings_ui: settings::strength_ui,
        central_ui: strength_panel::strength_panel_ui,
    },
    TabSpec {
        tab: Tab::Denoise,
        name: "denoise",
        title: "Denoising",
        settings_ui: settings::denoise_ui,
        central_ui: denoise_panel::denoise_panel_ui,
    },
];

impl Tab {
    /// Its entry in [`TABS`].
    pub fn spec(self) -> &'static TabSpec {
        TABS.iter().find(|s| s.tab == self).unwrap_or(&TABS[0])
    }

    /// Parse a CLI value.
    pub fn from_arg(arg: &str) -> Result<Self, String> {
        TABS.iter()
            .find(|s| s.name == arg)
            .map(|s| s.tab)
            .ok_or_else(|| {
                let names: Vec<&str> = TABS.iter().map(|s| s.name).collect();
                format!("unknown tab '{arg}': use {}", names.join(", "))
            })
    }

    /// The tab's title.
    pub fn title(self) -> &'static str {
        self.spec().title
    }
}

/// A file chosen in the picker (natively a path; in the browser its bytes).
pub enum Picked {
    /// Native: the file's path.
    Path(String),
    /// Browser: the file's contents.
    Bytes(Upload),
}

/// Shared slot filled by background work (device init on the web, the file picker).
pub type Slot<T> = Arc<Mutex<Option<T>>>;

/// Take what a slot holds, if anything (a poisoned lock still yields its value).
pub fn take_slot<T>(slot: &Slot<T>) -> Option<T> {
    match slot.lock() {
        Ok(mut g) => g.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    }
}

/// Fill a slot (a poisoned lock still takes the value).
pub fn put_slot<T>(slot: &Slot<T>, value: T) {
    match slot.lock() {
        Ok(mut g) => *g = Some(value),
        Err(poisoned) => *poisoned.into_inner() = Some(value),
    }
}

/// Run `work` off the UI: on a thread natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn spawn_work(work: impl std::future::Future<Output = ()> + 'static + Send) {
    std::thread::spawn(move || pollster::block_on(work));
}

/// Run `work` off the UI: as a task on the page in the browser.
#[cfg(target_arch = "wasm32")]
pub fn spawn_work(work: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(work);
}

/// A hook called with every event of the run.
pub type EventHook = Box<dyn FnMut(&Event)>;

/// A hook called with the config of every run that starts.
pub type StartHook = Box<dyn FnMut(&ExperimentConfig)>;

/// Where a run stands, as the controls show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// No run yet (or reset).
    Idle,
    /// Stepping freely.
    Running,
    /// Waiting for Train or Step.
    Paused,
    /// All steps done.
    Done,
    /// Stopped on an error.
    Failed,
}

/// The application state.
pub struct RlhfApp {
    /// The reward-model config; its data, seed and backend are shared by every tab.
    pub config: RmTrainConfig,
    /// The strength tab's config (its data, seed and backend come from `config`).
    pub strength: StrengthConfig,
    /// The denoising tab's config (its data, seed and backend come from `config`).
    pub denoise: DenoiseConfig,
    /// The tab shown.
    pub tab: Tab,
    /// The tab whose experiment the current run is.
    pub run_tab: Tab,
    /// The strength panel's state.
    pub strength_view: StrengthView,
    /// The denoising panel's state.
    pub denoise_view: DenoiseView,
    /// Held-out features of the run before the current one (the side-by-side comparison).
    pub previous_features: Option<history::FeatureView>,
    /// The compute device, once ready (the browser initialises it asynchronously).
    pub compute: Slot<Compute>,
    compute_ready: Option<Compute>,
    run: Option<RunController>,
    /// Curves and distributions of the current run.
    pub history: RunHistory,
    /// Run state for the controls.
    pub state: RunState,
    picked: Slot<Picked>,
    upload: Option<Upload>,
    /// Saving the trained model and scoring with a loaded one.
    pub model_io: model_io::ModelIo,
    /// μ handed from the strength tab to the denoising tab (which then trains no ensemble).
    pub denoise_strength: Option<StrengthMu>,
    /// Called for every event (the web build uses it for page markers).
    pub on_event: Option<EventHook>,
    /// Called when a run starts with its config (the web build writes it to the URL).
    pub on_start: Option<StartHook>,
    /// Start training as soon as the compute device is ready (`?autostart=1` on the web).
    pub autostart: bool,
}

impl RlhfApp {
    /// A new app with a config and (natively) a ready compute device.
    pub fn new(config: RmTrainConfig, compute: Option<Compute>) -> Self {
        Self {
            config,
            strength: StrengthConfig::default(),
            denoise: DenoiseConfig::default(),
            tab: Tab::Rm,
            run_tab: Tab::Rm,
            strength_view: StrengthView::default(),
            denoise_view: DenoiseView::default(),
            previous_features: None,
            compute: Arc::new(Mutex::new(None)),
            compute_ready: compute,
            run: None,
            history: RunHistory::default(),
            state: RunState::Idle,
            picked: Arc::new(Mutex::new(None)),
            upload: None,
            model_io: model_io::ModelIo::default(),
            denoise_strength: None,
            on_event: None,
            on_start: None,
            autostart: false,
        }
    }

    /// The compute device, if ready.
    pub fn compute(&mut self) -> Option<&Compute> {
        if self.compute_ready.is_none() {
            self.compute_ready = take_slot(&self.compute);
        }
        self.compute_ready.as_ref()
    }

    /// The experiment the current tab would start: its own knobs plus the shared data, seed
    /// and backend.
    pub fn experiment_config(&self) -> ExperimentConfig {
        let shared = |rm: &RmTrainConfig| RmTrainConfig {
            data: self.config.data.clone(),
            seed: self.config.seed,
            backend: self.config.backend,
            ..rm.clone()
        };
        match self.tab {
            Tab::Rm => ExperimentConfig::Rm(self.config.clone()),
            Tab::Strength => ExperimentConfig::Strength(StrengthConfig {
                rm: shared(&self.strength.rm),
                ..self.strength.clone()
            }),
            Tab::Denoise => {
                let mut c = self.denoise.clone();
                c.strength.rm = shared(&c.strength.rm);
                c.rm = shared(&c.rm);
                ExperimentConfig::Denoise(c)
            }
        }
    }

    /// Take an experiment config (from the URL or a saved run): its tab and knobs.
    pub fn load_experiment(&mut self, config: ExperimentConfig) {
        let (tab, rm) = match config {
            ExperimentConfig::Rm(c) => (Tab::Rm, c),
            ExperimentConfig::Strength(c) => {
                let rm = c.rm.clone();
                self.strength = c;
                (Tab::Strength, rm)
            }
            ExperimentConfig::Denoise(c) => {
                let rm = c.rm.clone();
                self.denoise = c;
                (Tab::Denoise, rm)
            }
        };
        self.config.data = rm.data.clone();
        self.config.seed = rm.seed;
        self.config.backend = rm.backend;
        if tab == Tab::Rm {
            self.config = rm;
        }
        self.tab = tab;
    }

    /// Start a fresh run with the current config (`first`: run freely or one step).
    pub fn start(&mut self, first: Command, ctx: &egui::Context) {
        let Some(compute) = self.compute().cloned() else {
            self.history.error =
                Some("the compute device is still starting; try again in a moment".into());
            return;
        };
        let experiment = self.experiment_config();
        self.run_tab = self.tab;
        if let Err(e) = experiment.validate() {
            self.history.error = Some(format!("invalid settings: {e}"));
            return;
        }
        if matches!(self.config.data.source, DataSource::Jsonl { .. })
            && cfg!(target_arch = "wasm32")
            && self.upload.is_none()
        {
            self.history.error = Some("pick a JSONL file first".into());
            return;
        }
        if let Some(f) = self.history.features.take() {
            self.previous_features = Some(f);
        }
        self.history = RunHistory {
            label: contrastive_label(&self.config.contrastive),
            ..RunHistory::default()
        };
        self.strength_view = StrengthView::default();
        self.denoise_view = DenoiseView::default();
        let ctx = ctx.clone();
        let waker = Box::new(move || ctx.request_repaint());
        if let Some(hook) = self.on_start.as_mut() {
            hook(&experiment);
        }
        let inputs = RunInputs {
            upload: self.upload.clone(),
            artifacts: Artifacts {
                strength: (self.tab == Tab::Denoise)
                    .then(|| self.denoise_strength.clone())
                    .flatten(),
            },
        };
        self.run = Some(RunController::start(
            experiment, compute, inputs, first, waker,
        ));
        self.state = if first == Command::Run {
            RunState::Running
        } else {
            RunState::Paused
        };
    }

    /// Train / continue.
    pub fn train(&mut self, ctx: &egui::Context) {
        match (&self.run, self.state) {
            (Some(run), RunState::Paused) => {
                run.send(Command::Run);
                self.state = RunState::Running;
            }
            (_, RunState::Running) => {}
            _ => self.start(Command::Run, ctx),
        }
    }

    /// Pause after the current step.
    pub fn pause(&mut self) {
        if let (Some(run), RunState::Running) = (&self.run, self.state) {
            run.send(Command::Pause);
            self.state = RunState::Paused;
        }
    }

    /// Take one step (starting a paused run if there is none).
    pub fn step_once(&mut self, ctx: &egui::Context) {
        match (&self.run, self.state) {
            (Some(run), RunState::Paused) => run.send(Command::Step),
            (_, RunState::Running) => {}
            _ => self.start(Command::Step, ctx),
        }
    }

    /// Drop the run and clear the charts.
    pub fn reset(&mut self) {
        self.run = None;
        self.history = RunHistory::default();
        self.strength_view = StrengthView::default();
        self.denoise_view = DenoiseView::default();
        self.state = RunState::Idle;
        self.run_tab = self.tab;
    }

    /// Whether settings may be edited (no run in progress).
    pub fn settings_editable(&self) -> bool {
        matches!(
            self.state,
            RunState::Idle | RunState::Done | RunState::Failed
        )
    }

    /// Fold in events from the run and results of background work.
    pub fn poll(&mut self) {
        if let Some(picked) = take_slot(&self.picked) {
            match picked {
                Picked::Path(path) => {
                    self.config.data.source = DataSource::Jsonl { path };
                    self.upload = None;
                }
                Picked::Bytes(up) => {
                    self.config.data.source = DataSource::Jsonl {
                        path: up.name.clone(),
                    };
                    self.upload = Some(up);
                }
            }
        }
        let Some(run) = &self.run else { return };
        for event in run.drain() {
            // A finished run's worker exits, and the controller reports the closed channel:
            // not an error once the run is done.
            if matches!(event, Event::Error { .. }) && self.state == RunState::Done {
                continue;
            }
            self.history.apply(&event);
            match self.run_tab {
                Tab::Rm => {}
                Tab::Strength => self.strength_view.apply(&event),
                Tab::Denoise => self.denoise_view.apply(&event),
            }
            match &event {
                Event::Finished { .. } => self.state = RunState::Done,
                Event::Error { .. } => self.state = RunState::Failed,
                _ => {}
            }
            if let Some(hook) = self.on_event.as_mut() {
                hook(&event);
            }
        }
    }

    /// Open the file picker (native and web); the result lands in `picked`.
    pub fn pick_file(&self) {
        let slot = self.picked.clone();
        let dialog = rfd::AsyncFileDialog::new()
            .add_filter("JSONL", &["jsonl", "gz", "json"])
            .set_title("Open preference pairs (JSONL or JSONL.gz)");
        spawn_work(async move {
            let Some(f) = dialog.pick_file().await else {
                return;
            };
            #[cfg(not(target_arch = "wasm32"))]
            let picked = Picked::Path(f.path().display().to_string());
            #[cfg(target_arch = "wasm32")]
            let picked = Picked::Bytes(Upload {
                name: f.file_name(),
                bytes: f.read().await,
            });
            put_slot(&slot, picked);
        });
    }

    /// The whole UI inside `ui`.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.autostart && self.compute().is_some() {
            self.autostart = false;
            let ctx = ui.ctx().clone();
            self.train(&ctx);
        }
        if self.autostart {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                for spec in &TABS {
                    ui.selectable_value(&mut self.tab, spec.tab, spec.title);
                }
            });
        });
        egui::Panel::left("settings")
            .resizable(true)
            .default_size(270.0)
            .show(ui, |ui| settings::settings_ui(self, ui));
        let central = self.tab.spec().central_ui;
        egui::CentralPanel::default().show(ui, |ui| central(self, ui));
        if self.state == RunState::Running {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

impl eframe::App for RlhfApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, "rm_config", &self.config);
        eframe::set_value(storage, "strength_config", &self.strength);
        eframe::set_value(storage, "denoise_config", &self.denoise);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_has_one_entry_and_its_cli_name_round_trips() {
        for (i, spec) in TABS.iter().enumerate() {
            assert_eq!(spec.tab.spec().name, spec.name);
            assert_eq!(Tab::from_arg(spec.name), Ok(spec.tab));
            assert!(
                TABS[i + 1..]
                    .iter()
                    .all(|o| o.tab != spec.tab && o.name != spec.name)
            );
        }
        let err = Tab::from_arg("ppo").unwrap_err();
        assert!(err.contains("rm, strength, denoise"), "{err}");
    }
}
