//! A campaign set up the way a sender does it, through the web forms: created, recipients
//! added, sent. The emails then wait in the outbox for a delivery worker.

use crate::helpers::{Backend, TestApp, csrf_on, location, spawn_app_with};
use crate::smtp::SmtpServer;
use optouts::mail::MailUrl;

/// The demo app with emails going to a real SMTP server.
pub async fn app_sending_to(backend: Backend, smtp: &SmtpServer) -> Option<TestApp> {
    let url = smtp.url();
    let app = spawn_app_with(backend, move |config| {
        config.mail = MailUrl::parse(&url).unwrap();
    })
    .await?;
    app.load_demo();
    Some(app)
}

/// What a campaign is made of, as typed into its form.
pub struct CampaignText<'a> {
    pub name: &'a str,
    pub subject: &'a str,
    pub from_name: &'a str,
    pub body_text: &'a str,
}

/// Creates a plain text campaign called `name` (Nina's autumn news); returns its id.
pub async fn create_campaign(app: &TestApp, client: &reqwest::Client, name: &str) -> i64 {
    let text = CampaignText {
        name,
        subject: "Autumn news & offers",
        from_name: "Nina at Acme",
        body_text: "Hello!\n\nOur autumn news.",
    };
    create_campaign_with(app, client, &text).await
}

/// Creates a campaign with exactly these texts; returns its id.
pub async fn create_campaign_with(
    app: &TestApp,
    client: &reqwest::Client,
    text: &CampaignText<'_>,
) -> i64 {
    let token = csrf_on(app, client, "/campaigns").await;
    let response = app
        .post_form_with(
            client,
            "/campaigns",
            &[
                ("csrf_token", &token),
                ("name", text.name),
                ("subject", text.subject),
                ("from_name", text.from_name),
                ("body_text", text.body_text),
                ("body_html", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "campaign created");
    location(&response)
        .trim_start_matches("/campaigns/")
        .parse()
        .unwrap()
}

/// Adds every contact of the sender whose address or name matches `search`; returns the page
/// with the dialog, where the add redirects.
pub async fn add_matching(
    app: &TestApp,
    client: &reqwest::Client,
    campaign: i64,
    search: &str,
) -> String {
    let token = csrf_on(app, client, "/campaigns").await;
    let response = app
        .post_form_with(
            client,
            &format!("/campaigns/{campaign}/recipients"),
            &[("csrf_token", &token), ("q", search), ("all", "1")],
        )
        .await;
    assert_eq!(response.status(), 303, "recipients added");
    let page = location(&response);
    assert!(
        page.starts_with(&format!("/campaigns/{campaign}?added=")),
        "{page}"
    );
    let response = app.get_with(client, &page).await;
    assert_eq!(response.status(), 200, "{page}");
    response.text().await.unwrap()
}

/// Queues the campaign's emails, as the confirmation page's form does.
pub async fn send(app: &TestApp, client: &reqwest::Client, campaign: i64) {
    let token = csrf_on(app, client, "/campaigns").await;
    let response = app
        .post_form_with(
            client,
            &format!("/campaigns/{campaign}/send"),
            &[("csrf_token", &token), ("confirm", "1")],
        )
        .await;
    assert_eq!(response.status(), 303, "campaign sent");
}
