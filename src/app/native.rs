//! The native window: burn's wgpu device handed to eframe when the GPU is used.
use crate::compute::{self, BackendChoice};
use crate::experiment::RunConfig;

use super::RlhfApp;

/// Open the app window on `tab` and block until it closes (`autostart`: begin training at once).
pub fn run(backend: BackendChoice, autostart: bool, tab: &str) -> Result<(), String> {
    // An unknown tab is an error before any window opens.
    RlhfApp::new(RunConfig::default(), None).show_tab(tab)?;
    let tab = tab.to_string();
    let (compute, setup) = compute::init(backend).map_err(|e| e.to_string())?;
    if let Some(n) = &compute.notice {
        eprintln!("notice: {n}");
    }
    let mut options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1200.0, 820.0])
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
            let mut app = RlhfApp::new(RunConfig::default(), Some(compute));
            if let Some(storage) = cc.storage {
                for note in app.restore(|key| storage.get_string(key)) {
                    eprintln!("notice: {note}");
                    app.shell.notes.push(note);
                }
            }
            app.shell.run.backend = backend;
            app.shell.autostart = autostart;
            app.show_tab(&tab)?;
            app.shell.run_tab = app.shell.tab;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        format!("could not open the window: {e}. Headless? Use `rlhf-lab train-rm` instead")
    })
}
