//! The native window: burn's wgpu device handed to eframe when the GPU is used.
use std::path::PathBuf;

use crate::compute::{self, BackendChoice};
use crate::experiment::RunConfig;

use super::RlhfApp;

/// What the window opens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opening {
    /// A tab, on its own lesson (`gui --tab`).
    Tab(String),
    /// A lesson preset (`gui --preset`).
    Preset(String),
    /// A run config file (`gui --config`).
    Config(PathBuf),
}

impl Opening {
    /// The app it opens, or an error naming the tab, preset or file and the fix.
    pub fn app(&self, compute: Option<compute::Compute>) -> Result<RlhfApp, String> {
        match self {
            Self::Tab(tab) => {
                let mut app = RlhfApp::new(RunConfig::default(), compute);
                app.show_tab(tab)?;
                app.load_preset(tab)?;
                Ok(app)
            }
            Self::Preset(name) => RlhfApp::with_preset(name, compute),
            Self::Config(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--config {}: {e}", path.display()))?;
                let mut app = RlhfApp::new(RunConfig::default(), compute);
                app.load_config_text(&text)
                    .map_err(|e| format!("--config {}: {e}", path.display()))?;
                Ok(app)
            }
        }
    }
}

/// Open the app window on `opening` and block until it closes (`autostart`: begin training at
/// once).
pub fn run(backend: BackendChoice, autostart: bool, opening: Opening) -> Result<(), String> {
    // A bad tab, preset or file is an error before any window opens.
    opening.app(None)?;
    let (compute, setup) = compute::init(backend).map_err(|e| e.to_string())?;
    if let Some(n) = &compute.notice {
        eprintln!("notice: {n}");
    }
    let mut options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0])
            .with_maximized(true)
            .with_title("rlhf-lab — reward modeling"),
        ..Default::default()
    };
    if let Some(setup) = setup {
        options.renderer = eframe::Renderer::Wgpu;
        options.wgpu_options.wgpu_setup = compute::eframe_setup(setup);
    }
    eframe::run_native(
        "rlhf-lab",
        options,
        Box::new(move |cc| {
            let mut app = opening.app(Some(compute))?;
            // Saved settings come back only when the window opens on a plain tab.
            if let (Some(storage), Opening::Tab(tab)) = (cc.storage, &opening) {
                for note in app.restore(|key| storage.get_string(key)) {
                    eprintln!("notice: {note}");
                    app.shell.notes.push(note);
                }
                app.show_tab(tab)?;
            }
            app.shell.run.backend = backend;
            app.shell.autostart = autostart;
            app.shell.run_tab = app.shell.tab;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        format!("could not open the window: {e}. Headless? Use `rlhf-lab train-rm` instead")
    })
}
