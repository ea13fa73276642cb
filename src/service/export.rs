//! CSV export of opt-outs: the csv crate quotes, and every cell that a spreadsheet would run as
//! a formula is neutralised.

use chrono::{Datelike, NaiveDateTime, Timelike};
use std::borrow::Cow;
use std::fmt::Write;

use crate::db::activity::ActivityRow;
use crate::domain::consent::{Shown, WrittenConsent};

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

/// The lifted opt-outs (from the event log): the same columns, the evidence where the reason
/// was, when each was lifted, and support's written consent in columns of its own.
pub const LIFTED_HEADER: [&str; 13] = [
    "address",
    "level",
    "scope",
    "source",
    "campaign",
    "evidence",
    "lifted_at",
    "by",
    "given_by",
    "received_on",
    "reference",
    "consent_text",
    "asked_by",
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
        write_row(&mut writer, &mut created, row, row.reason.as_deref(), &[])?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// Lifted rows as CSV bytes, under [`LIFTED_HEADER`]: written consent in its own columns and
/// what a recipient was shown as lines (never as JSON), other evidence as it was kept.
pub fn lifted_csv_chunk(rows: &[ActivityRow], with_header: bool) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    if with_header {
        writer.write_record(LIFTED_HEADER)?;
    }
    let mut created = String::with_capacity(20);
    for row in rows {
        // A lifted row's `reason` holds the event's evidence.
        let evidence = row.reason.as_deref();
        match WrittenConsent::of_event(&row.source, evidence) {
            Some(consent) => {
                let received_on = consent.received_on.to_string();
                let asked_by = consent.asked_by_line().unwrap_or_default();
                let cells = [
                    consent.given_by.as_str(),
                    received_on.as_str(),
                    consent.reference.as_str(),
                    consent.text.as_str(),
                    asked_by.as_str(),
                ];
                write_row(&mut writer, &mut created, row, None, &cells)?;
            }
            None => {
                // What a recipient was shown, one line per opt-out, never its JSON.
                let shown = evidence
                    .and_then(Shown::from_evidence)
                    .map(|shown| shown.shown.join("\n"));
                let note = shown.as_deref().or(evidence);
                write_row(&mut writer, &mut created, row, note, &[""; 5])?
            }
        }
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// One record: the row's columns with `note` in the reason's place, then `extra` cells.
/// Field by field, so a cell is copied only when it needs neutralising.
fn write_row(
    writer: &mut csv::Writer<Vec<u8>>,
    created: &mut String,
    row: &ActivityRow,
    note: Option<&str>,
    extra: &[&str],
) -> anyhow::Result<()> {
    created.clear();
    write_timestamp(created, row.created_at);
    let cells = [
        row.email.as_str(),
        row.level.as_str(),
        row.scope_name.as_str(),
        row.source.as_str(),
        row.campaign_name.as_deref().unwrap_or(""),
        note.unwrap_or(""),
        created.as_str(),
        row.actor_name.as_deref().unwrap_or("recipient"),
    ];
    for cell in cells.iter().chain(extra) {
        writer.write_field(neutralise(cell).as_bytes())?;
    }
    writer.write_record(None::<&[u8]>)?;
    Ok(())
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
