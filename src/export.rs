//! CSV export of opt-outs: the csv crate quotes, and every cell that a spreadsheet would run as
//! a formula is neutralised.

use std::borrow::Cow;

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
    for row in rows {
        let created = row.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
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
}
