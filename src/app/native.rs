//! The native window: burn's wgpu device handed to eframe when the GPU is used.
use crate::compute::{self, BackendChoice};
use crate::experiment::RmTrainConfig;

use super::RlhfApp;

/// Open the app window and block until it closes (`autostart`: begin training at once).
pub fn run(backend: BackendChoice, autostart: bool, tab: super::Tab) -> Result<(), String> {
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
            let mut config: RmTrainConfig = cc
                .storage
                .and_then(|s| eframe::get_value(s, "rm_config"))
                .unwrap_or_default();
            config.backend = backend;
            let mut app = RlhfApp::new(config, Some(compute));
            if let Some(s) = cc.storage {
                if let Some(c) = eframe::get_value(s, "strength_config") {
                    app.strength = c;
                }
                if let Some(c) = eframe::get_value(s, "denoise_config") {
                    app.denoise = c;
                }
            }
            app.autostart = autostart;
            app.tab = tab;
            app.run_tab = tab;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        format!("could not open the window: {e}. Headless? Use `rlhf-lab train-rm` instead")
    })
}
