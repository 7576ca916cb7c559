//! The egui app: a shell (the shared data, seed and backend, the run and its controls) and one
//! [`Panel`] per tab, each in its own file; consumes events only.
pub mod charts;
pub mod compare;
pub mod controller;
pub mod data_view;
pub mod denoise_charts;
pub mod denoise_panel;
pub mod denoise_view;
pub mod export;
pub mod files;
pub mod history;
pub mod lesson;
pub mod lesson_state;
pub mod model_io;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod panel_common;
pub mod plot_style;
pub mod ppo_panel;
pub mod ppo_view;
pub mod rlhf_charts;
pub mod rlhf_panel;
pub mod rlhf_view;
pub mod rm_panel;
pub mod settings;
pub mod shell;
pub mod strength_charts;
pub mod strength_panel;
pub mod strength_view;

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::compute::Compute;
use crate::experiment::prepare::Upload;
use crate::experiment::strength::io::StrengthRow;
use crate::experiment::{Artifacts, DataSource, Event, ExperimentConfig, Run, RunConfig, presets};
use crate::recipe::Target;
use controller::{Command, RunController, RunInputs};
use history::RunHistory;
pub use lesson_state::HIDEABLE;
pub use shell::{Request, Shell};

/// One tab of the app: a file holding its config, its view of the run and its UI, plus one
/// line in [`RlhfApp::new`]. The shell owns what every tab shares (data, seed, backend, the run,
/// its history and controls); a panel asks for runs through [`Shell::request`].
pub trait Panel: AsAny {
    /// Its name on the command line (`gui --tab NAME`) and in saved settings.
    fn name(&self) -> &'static str;
    /// Its title in the tab bar.
    fn title(&self) -> &'static str;
    /// The experiment it starts: its own knobs (the shell adds data, seed and backend).
    fn experiment(&self) -> ExperimentConfig;
    /// Take the knobs of a config of its kind (from the URL, a saved run); false for any other.
    fn load(&mut self, experiment: &ExperimentConfig) -> bool;
    /// Its settings, below the shared dataset settings.
    fn settings_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui);
    /// Its central panel.
    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui);
    /// Forget the run's view (Reset).
    fn clear(&mut self);
    /// A run of its experiment starts (the shell's history is about to be cleared): forget the
    /// last run's view, keep what comparisons need; returns the new run's label.
    fn starting(&mut self, shell: &mut Shell) -> String {
        let _ = shell;
        self.clear();
        String::new()
    }
    /// Fold in an event of its own run.
    fn apply(&mut self, event: &Event);
    /// What "Step = a job" means on this tab, and its hover text (`None`: the tab's runs have
    /// no jobs, and Step goes by epochs).
    fn job_stride(&self) -> Option<(&'static str, &'static str)> {
        None
    }
    /// What "Step = an epoch" means on this tab, and its hover text (`None`: a pass over the
    /// training pairs).
    fn epoch_stride(&self) -> Option<(&'static str, &'static str)> {
        None
    }
    /// What a run of it reads besides the config (what another tab handed over).
    fn artifacts(&self, shell: &Shell) -> Artifacts {
        let _ = shell;
        Artifacts::default()
    }
    /// μ of every pair its finished run measured or used (strength, denoise), for a recipe's
    /// flips and margins.
    fn strength_rows(&self, shell: &Shell) -> Option<Vec<StrengthRow>> {
        let _ = shell;
        None
    }
}

/// The run config inside a report event (its `config`: an object with an `experiment`).
fn find_run_config(value: &serde_json::Value) -> Option<serde_json::Value> {
    let fields = value.as_object()?;
    if let Some(config) = fields.get("config")
        && config.get("experiment").is_some()
    {
        return Some(config.clone());
    }
    fields.values().find_map(find_run_config)
}

/// A panel as `Any`, for tests and hand-overs that need the concrete panel (every panel has it).
pub trait AsAny: Any {
    /// Itself.
    fn as_any(&self) -> &dyn Any;
    /// Itself, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
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
pub type StartHook = Box<dyn FnMut(&RunConfig)>;

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

/// The application: the shell and the panels, one per tab.
pub struct RlhfApp {
    /// What every tab shares.
    pub shell: Shell,
    panels: Vec<Box<dyn Panel>>,
}

impl RlhfApp {
    /// A new app showing the tab of `config`'s experiment with its knobs, every other tab at its
    /// own lesson preset, and (natively) a ready compute device.
    pub fn new(config: RunConfig, compute: Option<Compute>) -> Self {
        // The tabs, in tab-bar order: a new tab is one line here.
        let panels: Vec<Box<dyn Panel>> = vec![
            Box::new(rm_panel::RmPanel::default()),
            Box::new(strength_panel::StrengthPanel::default()),
            Box::new(denoise_panel::DenoisePanel::default()),
            Box::new(ppo_panel::PpoPanel::default()),
            Box::new(rlhf_panel::RlhfPanel::default()),
        ];
        let mut app = Self {
            shell: Shell::new(Run::default(), compute, panels[0].name()),
            panels,
        };
        for name in app.tab_names() {
            if let Ok(c) = presets::find(name).and_then(|p| p.run_config()) {
                app.load_config(c);
            }
            app.shell.presets.insert(name, name.to_string());
        }
        app.load_config(config);
        app
    }

    /// The tabs' names (`gui --tab NAME`), in tab-bar order.
    pub fn tab_names(&self) -> Vec<&'static str> {
        self.panels.iter().map(|p| p.name()).collect()
    }

    /// Show the tab called `name`.
    pub fn show_tab(&mut self, name: &str) -> Result<(), String> {
        let panel = self
            .panels
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| format!("unknown tab '{name}': use {}", self.tab_names().join(", ")))?;
        self.shell.tab = panel.name();
        if self.shell.state == RunState::Idle {
            self.shell.run_tab = self.shell.tab;
        }
        Ok(())
    }

    fn index_of(&self, name: &str) -> usize {
        self.panels
            .iter()
            .position(|p| p.name() == name)
            .unwrap_or(0)
    }

    /// The panel of type `P` (through the box: the box itself is `Any` too, and would answer
    /// for itself).
    pub fn panel<P: Panel>(&self) -> Option<&P> {
        self.panels
            .iter()
            .find_map(|p| (**p).as_any().downcast_ref::<P>())
    }

    /// The panel of type `P`, mutably.
    pub fn panel_mut<P: Panel>(&mut self) -> Option<&mut P> {
        self.panels
            .iter_mut()
            .find_map(|p| (**p).as_any_mut().downcast_mut::<P>())
    }

    /// The run the tab shown would start: its knobs plus the shared data, seed and backend.
    pub fn run_config(&self) -> RunConfig {
        self.shell
            .run
            .with(self.panels[self.index_of(self.shell.tab)].experiment())
    }

    /// Take a run config (from the URL, a saved run): data, seed and backend for every tab; the
    /// knobs to the tab of its kind, which is shown.
    pub fn load_config(&mut self, config: RunConfig) {
        self.shell.run = config.with(());
        for panel in &mut self.panels {
            if panel.load(&config.experiment) {
                self.shell.tab = panel.name();
                self.shell.run_tab = panel.name();
                return;
            }
        }
    }

    /// Every tab's knobs (for saving the settings).
    pub fn experiments(&self) -> Vec<ExperimentConfig> {
        self.panels.iter().map(|p| p.experiment()).collect()
    }

    /// Start a fresh run of the tab shown (`first`: run freely or one step).
    pub fn start(&mut self, first: Command, ctx: &egui::Context) {
        let Some(compute) = self.shell.compute().cloned() else {
            self.shell.history.error =
                Some("the compute device is still starting; try again in a moment".into());
            return;
        };
        let config = self.run_config();
        let index = self.index_of(self.shell.tab);
        self.shell.run_tab = self.shell.tab;
        self.shell.run_title = self.panels[index].title();
        if let Err(e) = config.validate() {
            self.shell.history.error = Some(format!("invalid settings: {e}"));
            return;
        }
        if matches!(config.data.source, DataSource::Jsonl { .. })
            && cfg!(target_arch = "wasm32")
            && self.shell.upload.is_none()
        {
            self.shell.history.error = Some("pick a data file first".into());
            return;
        }
        let label = self.panels[index].starting(&mut self.shell);
        self.shell.report = None;
        self.shell.run_started = Some(config.clone());
        self.shell.history = RunHistory {
            label,
            ..RunHistory::default()
        };
        let ctx = ctx.clone();
        let waker = Box::new(move || ctx.request_repaint());
        if let Some(hook) = self.shell.on_start.as_mut() {
            hook(&config);
        }
        let inputs = RunInputs {
            upload: self.shell.upload.clone(),
            artifacts: self.panels[index].artifacts(&self.shell),
        };
        let run = RunController::start(config, compute, inputs, first, waker);
        run.send(Command::Rate(self.shell.speed));
        self.shell.controller = Some(run);
        self.shell.fold_lesson = true;
        self.shell.state = if first == Command::Run {
            RunState::Running
        } else {
            RunState::Paused
        };
    }

    /// Train / continue.
    pub fn train(&mut self, ctx: &egui::Context) {
        match (&self.shell.controller, self.shell.state) {
            (Some(run), RunState::Paused) => {
                run.send(Command::Run);
                self.shell.state = RunState::Running;
            }
            (_, RunState::Running) => {}
            _ => self.start(Command::Run, ctx),
        }
    }

    /// Pause after the current step.
    pub fn pause(&mut self) {
        if let (Some(run), RunState::Running) = (&self.shell.controller, self.shell.state) {
            run.send(Command::Pause);
            self.shell.state = RunState::Paused;
        }
    }

    /// Take one step (starting a paused run if there is none).
    pub fn step_once(&mut self, ctx: &egui::Context) {
        match (&self.shell.controller, self.shell.state) {
            (Some(run), RunState::Paused) => run.send(self.shell.step_size.command()),
            (_, RunState::Running) => {}
            _ => self.start(self.shell.step_size.command(), ctx),
        }
    }

    /// Drop the run and clear the charts.
    pub fn reset(&mut self) {
        self.shell.controller = None;
        let index = self.index_of(self.shell.run_tab);
        self.panels[index].clear();
        self.shell.history = RunHistory::default();
        self.shell.state = RunState::Idle;
        self.shell.run_tab = self.shell.tab;
    }

    /// Carry out what the panels asked for while drawing.
    fn handle_requests(&mut self, ctx: &egui::Context) {
        for request in self.shell.take_requests() {
            match request {
                Request::Train => self.train(ctx),
                Request::Pause => self.pause(),
                Request::Step => self.step_once(ctx),
                Request::Reset => self.reset(),
                Request::ShowTab(name) => {
                    // Names come from the panels themselves.
                    let _ = self.show_tab(name);
                }
                Request::Preset(name) => {
                    if let Err(e) = self.load_preset(&name) {
                        self.shell.errors.push(e);
                    }
                }
                Request::OpenConfig => files::open_text(
                    "Open a run config (JSON)",
                    &["json"],
                    self.shell.picked_config.clone(),
                ),
                Request::Recipe(target) => self.take_further(target),
                Request::SaveConfig => match serde_json::to_string_pretty(&self.run_config()) {
                    Ok(json) => {
                        let name = format!("{}.json", self.preset());
                        self.shell.save(&name, json.into_bytes());
                    }
                    Err(e) => self
                        .shell
                        .errors
                        .push(format!("could not write the config: {e}")),
                },
            }
        }
    }

    /// The finished run as a recipe for `target` (`rlhf-lab recipe`): a folder natively, a zip
    /// in the browser (and for a save hook).
    fn take_further(&mut self, target: Target) {
        let files = match self.recipe_files(target) {
            Ok(files) => files,
            Err(e) => {
                self.shell
                    .errors
                    .push(format!("Take this run further: {e}"));
                return;
            }
        };
        let folder = format!("rlhf-lab-{}-{}", self.shell.run_tab, target.name());
        #[cfg(not(target_arch = "wasm32"))]
        if self.shell.on_save.is_none() {
            files::save_folder(&folder, files, self.shell.saved.clone());
            return;
        }
        match crate::recipe::zip(&files, &folder) {
            Ok(bytes) => self.shell.save(&format!("{folder}.zip"), bytes),
            Err(e) => self.shell.errors.push(e),
        }
    }

    /// The files of the finished run's recipe.
    fn recipe_files(&self, target: Target) -> Result<Vec<crate::recipe::RecipeFile>, String> {
        let report = self
            .shell
            .report
            .as_ref()
            .ok_or("no finished run yet: train first")?;
        let report: serde_json::Value =
            serde_json::from_str(report).map_err(|e| format!("the run's report: {e}"))?;
        // Most reports carry their config; the reward model's `Done` does not.
        let config = match find_run_config(&report) {
            Some(config) => config,
            None => serde_json::to_value(self.shell.run_started.as_ref().ok_or("no run started")?)
                .map_err(|e| format!("the run's config: {e}"))?,
        };
        let data: crate::experiment::DataConfig = serde_json::from_value(config["data"].clone())
            .map_err(|e| format!("the run's data config: {e}"))?;
        let (pairs, _) = crate::experiment::prepare::load_pairs(&data, self.shell.upload.as_ref())
            .map_err(|e| e.to_string())?;
        let (margins, _) =
            crate::experiment::prepare::numeric_fields(&data, &pairs).map_err(|e| e.to_string())?;
        let panel = &self.panels[self.index_of(self.shell.run_tab)];
        let strength = panel.strength_rows(&self.shell);
        let input = crate::recipe::RecipeInput::from_parts(
            config,
            &pairs,
            margins.as_deref(),
            strength.as_deref(),
        )
        .map_err(|e| {
            if e.contains("strength.csv") {
                "this run's per-pair μ is not kept in the app: run `rlhf-lab denoise --out DIR`, then `rlhf-lab recipe --run DIR`, or hand the strength tab's μ over first".to_string()
            } else {
                e
            }
        })?;
        crate::recipe::build(&input, target, crate::recipe::DEFAULT_BASE_MODEL)
    }

    /// Fold in events from the run and results of background work.
    pub fn poll(&mut self) {
        self.shell.poll_picked();
        self.poll_files();
        let Some(run) = &self.shell.controller else {
            return;
        };
        let index = self.index_of(self.shell.run_tab);
        for event in run.drain() {
            // A finished run's worker exits, and the controller reports the closed channel:
            // not an error once the run is done.
            if matches!(event, Event::Error { .. }) && self.shell.state == RunState::Done {
                continue;
            }
            self.shell.history.apply(&event);
            self.panels[index].apply(&event);
            if lesson_state::is_report(&event) {
                self.shell.report = serde_json::to_string_pretty(&event).ok();
            }
            match &event {
                Event::Finished { .. } => self.shell.state = RunState::Done,
                Event::Error { .. } => self.shell.state = RunState::Failed,
                _ => {}
            }
            if let Some(hook) = self.shell.on_event.as_mut() {
                hook(&event);
            }
        }
    }

    /// The whole UI inside `ui`.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let ctx = ui.ctx().clone();
        if self.shell.autostart && self.shell.compute().is_some() {
            self.shell.autostart = false;
            self.train(&ctx);
        }
        if self.shell.autostart {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if !self.shell.hides("tabs") {
            egui::Panel::top("tabs").show(ui, |ui| {
                ui.horizontal(|ui| {
                    for panel in &self.panels {
                        let shown = self.shell.tab == panel.name();
                        if ui.selectable_label(shown, panel.title()).clicked() {
                            self.shell.tab = panel.name();
                        }
                    }
                });
            });
        }
        let index = self.index_of(self.shell.tab);
        let (shell, panel) = (&mut self.shell, &mut self.panels[index]);
        shell.job_stride = panel.job_stride();
        shell.epoch_stride = panel.epoch_stride();
        if !shell.hides("settings") {
            egui::Panel::left("settings")
                .resizable(false)
                .exact_size(290.0)
                .show(ui, |ui| settings::settings_ui(shell, panel.as_mut(), ui));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            lesson::lesson_ui(shell, panel.name(), ui);
            panel.central_ui(shell, ui)
        });
        self.handle_requests(&ctx);
        self.handle_exports(&ctx);
        // The link is only worked out where something shows it (the page's address bar).
        if self.shell.on_link.is_some() {
            let link = self.link();
            if link != self.shell.last_link {
                let preset = self.preset().to_string();
                if let Some(hook) = self.shell.on_link.as_mut() {
                    hook(&link, &preset);
                }
                self.shell.last_link = link;
            }
        }
        if self.shell.state == RunState::Running {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

/// Keys of the saved settings.
const SAVED_RUN: &str = "run_config";
const SAVED_TABS: &str = "tab_configs";

impl RlhfApp {
    /// Restore the settings saved by [`eframe::App::save`]: the run config of the tab shown
    /// and every tab's knobs. A saved value that no longer parses is reported, not dropped
    /// silently.
    pub fn restore(&mut self, get: impl Fn(&str) -> Option<String>) -> Vec<String> {
        let mut notes = Vec::new();
        let tabs: Vec<String> = match get(SAVED_TABS).map(|j| serde_json::from_str(&j)) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                notes.push(format!("saved tab settings not restored ({e})"));
                Vec::new()
            }
            None => Vec::new(),
        };
        let mut parse = |json: &str| match RunConfig::parse(json) {
            Ok(p) => {
                notes.extend(p.note);
                Some(p.config)
            }
            Err(e) => {
                notes.push(format!("saved settings not restored ({e})"));
                None
            }
        };
        let run = get(SAVED_RUN).and_then(|j| parse(&j));
        for json in tabs {
            if let Some(c) = parse(&json) {
                self.load_config(c);
            }
        }
        if let Some(c) = run {
            self.load_config(c);
        }
        notes
    }
}

impl eframe::App for RlhfApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let tabs: Vec<String> = self
            .experiments()
            .into_iter()
            .filter_map(|e| serde_json::to_string(&self.shell.run.with(e)).ok())
            .collect();
        if let (Ok(run), Ok(tabs)) = (
            serde_json::to_string(&self.run_config()),
            serde_json::to_string(&tabs),
        ) {
            storage.set_string(SAVED_RUN, run);
            storage.set_string(SAVED_TABS, tabs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.into(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn every_tab_is_one_panel_that_takes_back_its_own_config() {
        let mut app = RlhfApp::new(RunConfig::default(), None);
        let names = app.tab_names();
        assert_eq!(names, ["rm", "strength", "denoise", "ppo", "rlhf"]);
        for (i, experiment) in app.experiments().into_iter().enumerate() {
            let takers: Vec<&str> = app
                .panels
                .iter_mut()
                .filter_map(|p| p.load(&experiment).then(|| p.name()))
                .collect();
            assert_eq!(takers, [names[i]], "each kind has exactly one tab");
        }
        assert!(app.panel::<ppo_panel::PpoPanel>().is_some());
        assert!(app.panel_mut::<rm_panel::RmPanel>().is_some());
        let err = app.show_tab("sft").unwrap_err();
        assert!(err.contains("rm, strength, denoise, ppo, rlhf"), "{err}");
        app.show_tab("denoise").unwrap();
        assert!(matches!(
            app.run_config().experiment,
            ExperimentConfig::Denoise(_)
        ));
    }

    #[test]
    fn settings_are_saved_and_restored_and_a_bad_save_is_reported() {
        use crate::experiment::StrengthConfig;
        let mut app = RlhfApp::new(
            RunConfig {
                seed: 7,
                experiment: ExperimentConfig::Strength(StrengthConfig {
                    models: 5,
                    ..Default::default()
                }),
                ..Default::default()
            },
            None,
        );
        let mut memory = Memory::default();
        eframe::App::save(&mut app, &mut memory);
        let mut back = RlhfApp::new(RunConfig::default(), None);
        let notes = back.restore(|k| eframe::Storage::get_string(&memory, k));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back.shell.tab, "strength");
        assert_eq!(back.run_config(), app.run_config());
        memory.0.insert(
            SAVED_RUN.into(),
            r#"{"experiment":{"kind":"rm","x":1}}"#.into(),
        );
        let notes = RlhfApp::new(RunConfig::default(), None)
            .restore(|k| eframe::Storage::get_string(&memory, k));
        assert!(
            notes.iter().any(|n| n.contains("experiment.x")),
            "{notes:?}"
        );
    }
}
