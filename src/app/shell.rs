//! What every tab shares: the data, seed and backend, the compute device, the run in progress
//! with its history, the picked file, what one tab hands another, and the requests panels make
//! (Train, Pause, Step, Reset, show a tab) that the app carries out after drawing.
use super::controller::RunController;
use super::history::RunHistory;
use super::{EventHook, Picked, RunState, Slot, StartHook, put_slot, spawn_work, take_slot};
use crate::compute::Compute;
use crate::experiment::prepare::Upload;
use crate::experiment::{Artifacts, Run};

/// What a panel asks the app to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Start or continue the run of the tab shown.
    Train,
    /// Pause after the current step.
    Pause,
    /// Take one step (starting a paused run if there is none).
    Step,
    /// Drop the run and clear the charts.
    Reset,
    /// Show the tab with this name.
    ShowTab(&'static str),
    /// Load the lesson preset with this name (its tab, data and knobs).
    Preset(String),
    /// Open a config file (native).
    OpenConfig,
    /// Save the shown tab's config to a file (native) or download it (browser).
    SaveConfig,
    /// Write the finished run as a TRL or OpenRLHF recipe: a folder (native) or a zip (browser).
    Recipe(crate::recipe::Target),
}

/// Takes a file the app saves (name, bytes) instead of the file dialog or the download (tests).
pub type SaveHook = Box<dyn FnMut(&str, &[u8])>;

/// Called with the page's link (`preset=…&key=value`) and its preset's name whenever it changes.
pub type LinkHook = Box<dyn FnMut(&str, &str)>;

/// The state every tab shares.
pub struct Shell {
    /// Data, seed and backend of every run, whatever the tab (each panel holds its own knobs).
    pub run: Run<()>,
    /// The tab shown (its panel's name).
    pub tab: &'static str,
    /// The tab whose experiment the current run is.
    pub run_tab: &'static str,
    /// The title of that tab.
    pub run_title: &'static str,
    /// The config the current (or last) run started with.
    pub run_started: Option<crate::experiment::RunConfig>,
    /// The compute device, once ready (the browser initialises it asynchronously).
    pub compute: Slot<Compute>,
    compute_ready: Option<Compute>,
    pub(super) controller: Option<RunController>,
    /// Curves and distributions of the current run.
    pub history: RunHistory,
    /// Run state for the controls.
    pub state: RunState,
    picked: Slot<Picked>,
    /// The picked data file's bytes (browser).
    pub upload: Option<Upload>,
    /// What one tab handed another (the strength tab's μ for the denoising tab).
    pub handoff: Artifacts,
    requests: Vec<Request>,
    /// Notes for the user that outlive runs (a converted or unreadable saved config).
    pub notes: Vec<String>,
    /// Called for every event (the web build uses it for page markers).
    pub on_event: Option<EventHook>,
    /// Called when a run starts with its config (the web build writes it to the URL).
    pub on_start: Option<StartHook>,
    /// Start training as soon as the compute device is ready (`?autostart=1` on the web).
    pub autostart: bool,
    /// Speed limit of running runs, in steps per second (0: as fast as the machine goes).
    pub speed: u32,
    /// What one press of Step takes.
    pub step_size: super::controller::StepSize,
    /// Fold the lesson's paragraph on the next frame (a run started).
    pub(super) fold_lesson: bool,
    /// Whether the link keeps `autostart=1` (it came with one).
    pub link_autostart: bool,
    /// The lesson preset each tab was loaded from (its own when none was chosen).
    pub presets: std::collections::BTreeMap<&'static str, String>,
    /// Errors that stay until dismissed (a bad link, a config file that would not load).
    pub errors: Vec<String>,
    /// Controls and panels hidden for a lesson (`hide=`; see [`super::HIDEABLE`]).
    pub hidden: Vec<String>,
    /// Called when the link changes (the web build writes it to the address bar).
    pub on_link: Option<LinkHook>,
    /// The page's address without its fragment (the browser), for Copy link.
    pub page: Option<String>,
    /// The link last handed to `on_link`.
    pub(super) last_link: String,
    /// A config file the picker chose, when it lands.
    pub(super) picked_config: Slot<Result<String, String>>,
    /// Where a saved file went, or why it did not.
    pub(super) saved: Slot<Result<String, String>>,
    /// A screen grab cut and encoded for a PNG export: its file name and bytes.
    pub(super) shot: Slot<(String, Result<Vec<u8>, String>)>,
    /// The last run's report (its kind's closing event as JSON), for Save report.
    pub report: Option<String>,
    /// Where saved files go instead of the dialog or the download, when set (tests).
    pub on_save: Option<SaveHook>,
    /// A few pairs of the data, for "Look at the data".
    pub data_view: super::data_view::DataView,
    /// What "Step = a job" means on the tab shown (its [`super::Panel::job_stride`]).
    pub job_stride: Option<(&'static str, &'static str)>,
    /// What "Step = an epoch" means on the tab shown (its [`super::Panel::epoch_stride`]).
    pub epoch_stride: Option<(&'static str, &'static str)>,
}

impl Shell {
    /// A shell for `run`'s data, seed and backend, showing `tab`.
    pub fn new(run: Run<()>, compute: Option<Compute>, tab: &'static str) -> Self {
        Self {
            run,
            tab,
            run_tab: tab,
            run_title: "",
            run_started: None,
            compute: Default::default(),
            compute_ready: compute,
            controller: None,
            history: RunHistory::default(),
            state: RunState::Idle,
            picked: Default::default(),
            upload: None,
            handoff: Artifacts::default(),
            requests: Vec::new(),
            notes: Vec::new(),
            on_event: None,
            on_start: None,
            autostart: false,
            speed: 0,
            step_size: super::controller::StepSize::Steps(1),
            fold_lesson: false,
            link_autostart: false,
            presets: Default::default(),
            errors: Vec::new(),
            hidden: Vec::new(),
            on_link: None,
            page: None,
            last_link: String::new(),
            picked_config: Default::default(),
            saved: Default::default(),
            shot: Default::default(),
            report: None,
            on_save: None,
            data_view: Default::default(),
            job_stride: None,
            epoch_stride: None,
        }
    }

    /// The compute device, if ready.
    pub fn compute(&mut self) -> Option<&Compute> {
        if self.compute_ready.is_none() {
            self.compute_ready = take_slot(&self.compute);
        }
        self.compute_ready.as_ref()
    }

    /// Set the speed limit (steps per second, 0: none), also for the run in progress.
    pub fn set_speed(&mut self, speed: u32) {
        self.speed = speed;
        if let Some(run) = &self.controller {
            run.send(super::controller::Command::Rate(speed));
        }
    }

    /// Ask the app to do something once this frame is drawn.
    pub fn request(&mut self, request: Request) {
        self.requests.push(request);
    }

    /// The requests made since the last call.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Whether settings may be edited (no run in progress).
    pub fn settings_editable(&self) -> bool {
        matches!(
            self.state,
            RunState::Idle | RunState::Done | RunState::Failed
        )
    }

    /// True when the current run is the tab `name`'s.
    pub fn runs(&self, name: &str) -> bool {
        self.run_tab == name
    }

    /// Open the file picker (native and web); the choice becomes the data source when it lands.
    pub fn pick_file(&self) {
        let slot = self.picked.clone();
        let dialog = rfd::AsyncFileDialog::new()
            .add_filter(
                "Preference data",
                &["jsonl", "json", "csv", "parquet", "gz", "zst"],
            )
            .set_title("Open preference pairs (JSONL, JSON, CSV or Parquet; .gz or .zst)");
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

    /// Save a file: to the hook when one is set, else through the dialog (native) or as a
    /// download (browser); where it went, or why not, comes back as a note or an error.
    pub fn save(&mut self, name: &str, bytes: Vec<u8>) {
        match self.on_save.as_mut() {
            Some(hook) => {
                hook(name, &bytes);
                self.notes.push(format!("saved {name}"));
            }
            None => super::files::save_bytes(name, bytes, self.saved.clone()),
        }
    }

    /// Whether the control or panel `name` is hidden for a lesson.
    pub fn hides(&self, name: &str) -> bool {
        self.hidden.iter().any(|h| h == name)
    }

    /// Take a file the picker chose, if one landed.
    pub fn poll_picked(&mut self) {
        use crate::experiment::DataSource;
        match take_slot(&self.picked) {
            Some(Picked::Path(path)) => {
                self.run.data.source = DataSource::Jsonl { path };
                self.upload = None;
            }
            Some(Picked::Bytes(up)) => {
                self.run.data.source = DataSource::Jsonl {
                    path: up.name.clone(),
                };
                self.upload = Some(up);
            }
            None => {}
        }
    }
}
