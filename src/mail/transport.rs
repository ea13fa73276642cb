//! Where email goes: a real SMTP server (the production path) or `.eml` files (the
//! zero-configuration default). Built once from the mail URL.

use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::MailUrl;

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// How a failed send should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth retrying later: the server is away, busy or said 4xx.
    Transient(String),
    /// The server refused for good (5xx): retrying would not help.
    Permanent(String),
}

impl Mailer {
    pub fn from_url(url: &MailUrl) -> anyhow::Result<Self> {
        Ok(match url {
            MailUrl::File { dir } => {
                std::fs::create_dir_all(dir)?;
                Mailer::File(AsyncFileTransport::new(dir))
            }
            MailUrl::Smtp { url } => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("mail URL {}: {e}", url_for_logs(url)))?
                    .build(),
            ),
        })
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
            Mailer::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(classify),
            Mailer::File(file) => file
                .send(message)
                .await
                .map(drop)
                // A full disk or a missing folder may be fixed by an operator: retry.
                .map_err(|e| SendFailure::Transient(e.to_string())),
        }
    }
}

fn url_for_logs(url: &secrecy::SecretString) -> String {
    crate::telemetry::redact::url_password(url.expose_secret())
}

/// 5xx replies are permanent; 4xx replies, timeouts and connection trouble are transient.
fn classify(error: SmtpError) -> SendFailure {
    let text = error.to_string();
    if error.is_permanent() {
        SendFailure::Permanent(text)
    } else {
        SendFailure::Transient(text)
    }
}
