//! Pieces every experiment tab shares: the compute/data banners and the run controls.
use super::{RlhfApp, RunState};

/// Compute device, data summary, notices and errors.
pub fn banners_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    match app.compute() {
        None => {
            ui.label("starting the compute device…");
        }
        Some(c) => {
            ui.label(format!("compute: {} ({})", c.backend_name(), c.adapter));
            if let Some(n) = &c.notice {
                ui.colored_label(egui::Color32::from_rgb(230, 190, 60), format!("⚠ {n}"));
            }
        }
    }
    if app.run_tab != app.tab {
        return;
    }
    if let Some(s) = app.history.summary() {
        ui.label(s);
    }
    if let Some(d) = &app.history.done {
        ui.label(d);
    }
    if let Some(e) = &app.history.error {
        ui.colored_label(egui::Color32::from_rgb(240, 90, 80), format!("error: {e}"));
    }
}

/// Train / Pause / Step / Reset, a status line and a progress bar.
pub fn controls_ui(app: &mut RlhfApp, ui: &mut egui::Ui, fraction: f32, status: &str) {
    let ctx = ui.ctx().clone();
    let ready = app.compute().is_some();
    let busy_elsewhere =
        app.run_tab != app.tab && matches!(app.state, RunState::Running | RunState::Paused);
    ui.horizontal(|ui| {
        let running = app.state == RunState::Running;
        let can_start = ready && !running && !busy_elsewhere;
        if ui
            .add_enabled(can_start, egui::Button::new("Train"))
            .clicked()
        {
            app.train(&ctx);
        }
        if ui
            .add_enabled(running && !busy_elsewhere, egui::Button::new("Pause"))
            .clicked()
        {
            app.pause();
        }
        if ui
            .add_enabled(can_start, egui::Button::new("Step"))
            .clicked()
        {
            app.step_once(&ctx);
        }
        if ui.button("Reset").clicked() {
            app.reset();
        }
        if busy_elsewhere {
            ui.label(format!(
                "a {} run is in progress: reset it to start this one",
                app.run_tab.title()
            ));
            return;
        }
        let state = match app.state {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Done => "done",
            RunState::Failed => "stopped on an error",
        };
        ui.label(format!("{state} · {status}"));
    });
    let fraction = if app.run_tab == app.tab {
        fraction
    } else {
        0.0
    };
    ui.add(egui::ProgressBar::new(fraction).show_percentage());
}
