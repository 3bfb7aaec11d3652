//! The one place that prints: tables and lines (table mode), one JSON document (json mode),
//! errors, and progress (bars on a terminal, plain lines on stderr otherwise).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a binary's output module: printing is its job.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::errors::Rendered;

/// Prints results in the chosen format.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    format: OutputFormat,
    tty: bool,
}

impl Printer {
    pub(crate) fn new(format: OutputFormat) -> Self {
        Self {
            format,
            tty: std::io::stdout().is_terminal(),
        }
    }

    pub(crate) fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// A line of human output (table mode only).
    pub(crate) fn line(&self, s: impl AsRef<str>) {
        if !self.is_json() {
            println!("{}", s.as_ref());
        }
    }

    /// A block of human output (table mode only); no trailing newline is added beyond the text's.
    pub(crate) fn block(&self, s: impl AsRef<str>) {
        if !self.is_json() {
            print!("{}", s.as_ref());
        }
    }

    /// The JSON document (json mode only).
    pub(crate) fn json<T: Serialize>(&self, value: &T) {
        if self.is_json() {
            match serde_json::to_string_pretty(value) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: cannot serialise the output: {e}"),
            }
        }
    }

    /// A note for people on stderr (table mode only), e.g. what the sandbox is.
    pub(crate) fn note(&self, s: impl AsRef<str>) {
        if !self.is_json() {
            eprintln!("{}", s.as_ref());
        }
    }

    /// Something a person must act on (the sign-in URL): stdout in table mode, stderr in json
    /// mode so the JSON document stays alone on stdout.
    pub(crate) fn prompt(&self, s: impl AsRef<str>) {
        if self.is_json() {
            eprintln!("{}", s.as_ref());
        } else {
            println!("{}", s.as_ref());
        }
    }

    /// A warning on stderr (both modes).
    pub(crate) fn warn(&self, s: impl AsRef<str>) {
        eprintln!("warning: {}", s.as_ref());
    }

    /// An error: JSON `{"error": …}` on stdout in json mode, text on stderr otherwise.
    pub(crate) fn error(&self, r: &Rendered, exit_code: u8) {
        if self.is_json() {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Doc<'a> {
                error: &'a Rendered,
                exit_code: u8,
            }
            self.json(&Doc {
                error: r,
                exit_code,
            });
        } else {
            eprint!("{}", r.to_text());
        }
    }

    /// Progress over `len` items: a bar when stdout is a terminal and the output is a table,
    /// else plain lines on stderr (table mode) or nothing (json mode).
    pub(crate) fn progress(&self, what: &str, len: u64) -> Progress {
        if self.tty && !self.is_json() {
            let bar = ProgressBar::new(len);
            let style = ProgressStyle::with_template(
                "{spinner} {msg:<12} [{bar:30}] {pos}/{len} {elapsed}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::Bar(bar)
        } else if self.is_json() {
            Progress::Quiet
        } else {
            Progress::Lines {
                what: what.to_owned(),
                len,
                done: 0,
            }
        }
    }
}

/// Progress of a batch.
#[derive(Debug)]
pub(crate) enum Progress {
    /// An indicatif bar.
    Bar(ProgressBar),
    /// `[3/25] onboard Contoso: done` on stderr.
    Lines { what: String, len: u64, done: u64 },
    /// Nothing.
    Quiet,
}

impl Progress {
    /// One item finished.
    pub(crate) fn item(&mut self, label: &str, outcome: &str) {
        match self {
            Progress::Bar(b) => {
                b.inc(1);
                b.set_message(format!("{label}: {outcome}"));
            }
            Progress::Lines { what, len, done } => {
                *done += 1;
                eprintln!("[{done}/{len}] {what} {label}: {outcome}");
            }
            Progress::Quiet => {}
        }
    }

    /// The total is known (and some items were already done in an earlier run).
    pub(crate) fn set_total(&mut self, total: u64, already_done: u64) {
        match self {
            Progress::Bar(b) => {
                b.set_length(total);
                b.set_position(already_done);
            }
            Progress::Lines { len, done, .. } => {
                *len = total;
                *done = already_done;
            }
            Progress::Quiet => {}
        }
    }

    /// A message (the bar's, or a line on stderr).
    pub(crate) fn message(&mut self, m: &str) {
        match self {
            Progress::Bar(b) => b.set_message(m.to_owned()),
            Progress::Lines { what, .. } => eprintln!("{what}: {m}"),
            Progress::Quiet => {}
        }
    }

    /// The batch finished.
    pub(crate) fn finish(self) {
        if let Progress::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

/// A plain-text table with left-aligned columns.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(crate) fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, w) in widths.iter().enumerate() {
                let c = cells.get(i).map_or("", String::as_str);
                if i + 1 == n {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(w - c.chars().count() + 2));
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = line(&self.headers);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// Cuts `s` to `max` characters, with an ellipsis.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
