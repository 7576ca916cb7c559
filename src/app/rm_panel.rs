//! The reward-model panel: settings, run controls, progress and live charts.
use super::{RlhfApp, RunState, charts, settings};

fn controls_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    let ready = app.compute().is_some();
    ui.horizontal(|ui| {
        let running = app.state == RunState::Running;
        if ui
            .add_enabled(ready && !running, egui::Button::new("Train"))
            .clicked()
        {
            app.train(&ctx);
        }
        if ui
            .add_enabled(running, egui::Button::new("Pause"))
            .clicked()
        {
            app.pause();
        }
        if ui
            .add_enabled(ready && !running, egui::Button::new("Step"))
            .clicked()
        {
            app.step_once(&ctx);
        }
        if ui.button("Reset").clicked() {
            app.reset();
        }
        let state = match app.state {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Done => "done",
            RunState::Failed => "stopped on an error",
        };
        let total = match app.history.total_steps {
            0 if app.config.steps > 0 => app.config.steps.to_string(),
            0 => "…".to_string(),
            n => n.to_string(),
        };
        ui.label(format!("step {} / {total} · {state}", app.history.step));
        if let Some(acc) = app.history.latest_validation_accuracy() {
            ui.label(format!("· validation accuracy {acc:.3}"));
        }
    });
    ui.add(egui::ProgressBar::new(app.history.progress()).show_percentage());
}

fn banners_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
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
    if let Some(s) = &app.history.summary {
        ui.label(s);
    }
    if let Some(d) = &app.history.done {
        ui.label(d);
    }
    if let Some(e) = &app.history.error {
        ui.colored_label(egui::Color32::from_rgb(240, 90, 80), format!("error: {e}"));
    }
}

/// The whole panel.
pub fn rm_panel_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    egui::Panel::left("rm_settings")
        .resizable(true)
        .default_size(260.0)
        .show(ui, |ui| settings::settings_ui(app, ui));
    egui::CentralPanel::default().show(ui, |ui| {
        ui.heading("Reward model training");
        banners_ui(app, ui);
        controls_ui(app, ui);
        ui.separator();
        let h = ((ui.available_height() - 40.0) / 3.0).max(80.0);
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label("Training loss");
            charts::loss_chart_ui(&app.history, ui, h);
            ui.label("Accuracy");
            charts::accuracy_chart_ui(&app.history, ui, h);
            ui.label("Validation rewards: chosen vs rejected");
            charts::reward_histogram_ui(&app.history, ui, h);
        });
    });
}
