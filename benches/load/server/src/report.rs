//! `report`: the Markdown table and the SVG bar chart of one run of `run.sh`.
//!
//! The input is one line per scenario, tab-separated: name, requests per second, p50 ms,
//! p99 ms, peak RSS of the server in KiB, failed requests. Rows named `bare axum baseline…`
//! are baselines; every ratio is taken against the fastest of them (the script measures the
//! baseline first and last, so that drift during the run does not flatter the ratios).

use std::error::Error;
use std::fmt::Write as _;

/// `report` options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The measurements (TSV, see the module documentation).
    #[arg(long)]
    input: String,
    /// Where to write the SVG plot.
    #[arg(long)]
    svg: String,
}

/// One scenario's numbers.
struct Row {
    name: String,
    rps: f64,
    p50: f64,
    p99: f64,
    rss_kib: f64,
    failed: u64,
}

fn parse(text: &str) -> Result<Vec<Row>, Box<dyn Error>> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, rps, p50, p99, rss, failed] = fields.as_slice() else {
            return Err(format!("malformed line {line:?}").into());
        };
        rows.push(Row {
            name: (*name).to_owned(),
            rps: rps.parse()?,
            p50: p50.parse()?,
            p99: p99.parse()?,
            rss_kib: rss.parse()?,
            failed: failed.parse()?,
        });
    }
    Ok(rows)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(rows: &[Row], baseline: f64) -> String {
    let (left, bar_h, gap, width) = (420.0, 22.0, 8.0, 1040.0);
    let plot_w = width - left - 140.0;
    let max = rows.iter().map(|row| row.rps).fold(1.0, f64::max);
    let height = 50.0 + rows.len() as f64 * (bar_h + gap) + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"13\">"
    );
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"24\" \
         font-size=\"16\" font-weight=\"bold\">portcullis load benchmark: requests (or flows) \
         per second, wrk 2 threads / 32 connections</text>"
    );
    for (i, row) in rows.iter().enumerate() {
        let y = 44.0 + i as f64 * (bar_h + gap);
        let w = (row.rps / max * plot_w).max(1.0);
        let color = if row.name.starts_with("bare axum baseline") {
            "#888888"
        } else {
            "#3b6fb6"
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n\
             <rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{color}\"/>\n\
             <text x=\"{:.1}\" y=\"{}\">{:.0}/s ({:.0}%)</text>",
            left - 8.0,
            y + 16.0,
            escape(&row.name),
            left + w + 6.0,
            y + 16.0,
            row.rps,
            row.rps / baseline * 100.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Prints the table and writes the plot.
pub(crate) fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let rows = parse(&std::fs::read_to_string(&args.input)?)?;
    let baseline = rows
        .iter()
        .filter(|row| row.name.starts_with("bare axum baseline"))
        .map(|row| row.rps)
        .fold(None, |best: Option<f64>, rps| {
            Some(best.map_or(rps, |best| best.max(rps)))
        })
        .ok_or("no baseline row")?;
    println!("| scenario | req/s | p50 | p99 | server peak RSS | vs. baseline | failed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} MiB | {:.0} % | {} |",
            row.name,
            row.rps,
            row.p50,
            row.p99,
            row.rss_kib / 1024.0,
            row.rps / baseline * 100.0,
            row.failed
        );
    }
    std::fs::write(&args.svg, svg(&rows, baseline))?;
    Ok(())
}
