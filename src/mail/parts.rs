//! What every email we send shares: a plain-text part and an HTML part, as alternatives.

use lettre::message::header::ContentType;
use lettre::message::{MultiPart, SinglePart};

pub fn text_and_html(text: String, html: String) -> MultiPart {
    MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        )
}
