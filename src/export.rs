//! CSV export of opt-outs: the csv crate quotes, and every cell that a spreadsheet would run as
//! a formula is neutralised.

use chrono::{Datelike, NaiveDateTime, Timelike};
use std::borrow::Cow;
use std::fmt::Write;

use crate::db::activity::ActivityRow;

pub const HEADER: [&str; 8] = [
    "address",
    "level",
    "scope",
    "source",
    "campaign",
    "reason",
    "created_at",
    "by",
];

/// Cells starting with `=`, `+`, `-`, `@` (or a tab or carriage return, which some programs
/// skip) are prefixed with `'` so a spreadsheet shows them as text instead of running them.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The rows as CSV bytes (UTF-8), with the header first when asked.
pub fn csv_chunk(rows: &[ActivityRow], with_header: bool) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 96));
    if with_header {
        writer.write_record(HEADER)?;
    }
    let mut created = String::with_capacity(20);
    for row in rows {
        created.clear();
        write_timestamp(&mut created, row.created_at);
        let cells = [
            row.email.as_str(),
            row.level.as_str(),
            row.scope_name.as_str(),
            row.source.as_str(),
            row.campaign_name.as_deref().unwrap_or(""),
            row.reason.as_deref().unwrap_or(""),
            created.as_str(),
            row.actor_name.as_deref().unwrap_or("recipient"),
        ];
        // Field by field, so a cell is copied only when it needs neutralising.
        for cell in cells {
            writer.write_field(neutralise(cell).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// `2026-11-26T09:30:00Z` (UTC, whole seconds). Written by hand: chrono's `format` parses its
/// pattern again for every row, a sixth of an export's CPU.
fn write_timestamp(out: &mut String, at: NaiveDateTime) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_not() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            assert_eq!(neutralise(formula), format!("'{formula}"));
        }
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn timestamps_read_as_chrono_formats_them() {
        for at in [
            "2026-11-26T09:05:03.999999",
            "0999-01-02T00:00:00",
            "2024-02-29T23:59:59",
        ] {
            let at: NaiveDateTime = at.parse().unwrap();
            let mut written = String::new();
            write_timestamp(&mut written, at);
            assert_eq!(written, at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
}
