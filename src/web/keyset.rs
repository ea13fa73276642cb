//! Opaque keyset cursors for lists ordered by (time, id): base64url of "microseconds:id", so
//! the browser carries a position without the list's contents in the address.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;

use super::errors::AppError;

pub fn encode(at: &NaiveDateTime, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.and_utc().timestamp_micros()))
}

/// Pages are fetched with one row more than shown: if it came, there is a next page. Drops it
/// and returns the last shown row, from which the next page's cursor is made.
pub fn last_before_next_page<T>(rows: &mut Vec<T>, size: usize) -> Option<&T> {
    if rows.len() > size {
        rows.truncate(size);
        rows.last()
    } else {
        None
    }
}

/// A damaged cursor is the person's problem to retry, not a server error: 400 with a way out.
pub fn decode(raw: &str) -> Result<(NaiveDateTime, i64), AppError> {
    let bad = || {
        AppError::BadRequest("That page link is damaged. Start again from the first page.".into())
    };
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?)
        .ok_or_else(bad)?
        .naive_utc();
    Ok((at, id.parse().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_page_exists_only_when_the_extra_row_came() {
        let mut rows = vec![1, 2, 3];
        assert_eq!(last_before_next_page(&mut rows, 3), None);
        assert_eq!(last_before_next_page(&mut rows, 2), Some(&2));
        assert_eq!(rows, [1, 2]);
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let at = chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456)
            .unwrap()
            .naive_utc();
        assert_eq!(decode(&encode(&at, 42)).unwrap(), (at, 42));
        for raw in ["", "!!", "eA", "MTI6"] {
            assert!(matches!(decode(raw), Err(AppError::BadRequest(_))), "{raw}");
        }
    }
}
