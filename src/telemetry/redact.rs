//! Keeping secrets out of logs and `Debug` output.

/// `scheme://user:***@host/...`: the URL with its password (if any) replaced.
pub fn url_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            // set_password only fails for URLs that cannot have one, which we just ruled out.
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_only_the_password() {
        assert_eq!(
            super::url_password("postgres://app:s3cret@db.internal:5432/optouts"),
            "postgres://app:***@db.internal:5432/optouts"
        );
        assert_eq!(
            super::url_password("smtp://127.0.0.1:25"),
            "smtp://127.0.0.1:25"
        );
    }
}
