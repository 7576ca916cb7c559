//! Exports from the app: a chart's data as CSV, a chart or the whole tab as PNG, the run's report
//! and config. Charts ask through the egui context (they hold no handle on the app); the app
//! takes the requests after drawing, grabs the screen for pictures and saves the files.
use egui::{ColorImage, Context, Id, Rect};

/// What a chart or a button asks to save.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    /// A file as it is.
    File {
        /// Its name (the dialog's or the download's).
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// A picture of the screen, cut to `rect` (points) when given.
    Png {
        /// Its name.
        name: String,
        /// What to keep of the screen.
        rect: Option<Rect>,
    },
}

fn outbox() -> Id {
    Id::unique("rlhf_lab_exports")
}

/// Ask the app to save something once the frame is drawn.
pub fn request(ctx: &Context, export: Export) {
    ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<Vec<Export>>(outbox())
            .push(export)
    });
}

/// The requests made since the last call.
pub fn take(ctx: &Context) -> Vec<Export> {
    ctx.data_mut(|d| std::mem::take(d.get_temp_mut_or_default::<Vec<Export>>(outbox())))
}

/// Curves as CSV in long form: `series,<x>,<y>`, one row per point, series in the order given.
pub fn series_csv(x: &str, y: &str, series: &[(&str, &[[f64; 2]])]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = format!("series,{},{}\n", field(x), field(y));
    for (name, points) in series {
        for [a, b] in points.iter() {
            out.push_str(&format!("{},{a},{b}\n", field(name)));
        }
    }
    out
}

/// A file name from a title: lower case, words joined by '-', at most 60 characters.
pub fn file_stem(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut stem = words.join("-");
    stem.truncate(60);
    if stem.is_empty() {
        "chart".into()
    } else {
        stem
    }
}

/// The screen grab `image` cut to `rect` (in points, at `pixels_per_point`) as PNG bytes.
pub fn png(
    image: &ColorImage,
    rect: Option<Rect>,
    pixels_per_point: f32,
) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let (x0, y0, x1, y1) = match rect {
        Some(r) => {
            let px =
                |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
            (
                px(r.min.x, w),
                px(r.min.y, h),
                px(r.max.x, w),
                px(r.max.y, h),
            )
        }
        None => (0, 0, w, h),
    };
    if x1 <= x0 || y1 <= y0 {
        return Err("the chart is not on the screen: scroll it into view and try again".into());
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for p in &image.pixels[y * w + x0..y * w + x1] {
            rgba.extend_from_slice(&p.to_srgba_unmultiplied());
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, (x1 - x0) as u32, (y1 - y0) as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_become_long_form_csv() {
        let a = [[1.0, 0.5], [2.0, 0.25]];
        let b = [[1.0, 0.75]];
        assert_eq!(
            series_csv("step", "loss", &[("train, raw", &a), ("val", &b)]),
            "series,step,loss\n\"train, raw\",1,0.5\n\"train, raw\",2,0.25\nval,1,0.75\n"
        );
        assert_eq!(
            file_stem("μ: the preference strength (Fig 1)"),
            "the-preference-strength-fig-1"
        );
        assert_eq!(file_stem("μ"), "chart");
    }

    #[test]
    fn a_cut_of_the_screen_is_a_png_of_that_size() {
        let mut image = ColorImage::filled([4, 3], egui::Color32::BLACK);
        image.pixels[4 + 1] = egui::Color32::from_rgb(10, 20, 30);
        // Points at 2 pixels per point: (0.5, 0.5)–(1, 1.5) is pixels (1, 1)–(2, 3).
        let rect = Rect::from_min_max(egui::pos2(0.5, 0.5), egui::pos2(1.0, 1.5));
        let bytes = png(&image, Some(rect), 2.0).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1, 2));
        assert_eq!(&buf[..4], &[10, 20, 30, 255]);
        let off = Rect::from_min_max(egui::pos2(10.0, 10.0), egui::pos2(20.0, 20.0));
        assert!(png(&image, Some(off), 1.0).is_err());
        assert!(png(&image, None, 1.0).is_ok());
    }
}
