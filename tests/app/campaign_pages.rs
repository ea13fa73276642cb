//! The sender's campaign pages: adding recipients answers with a redirect to a page that
//! exists (the dialog about the batch is in its address), and sending asks first, counting
//! who will be sent and who is skipped.

use diesel::prelude::*;
use optouts::db::schema::{campaign_recipients, campaigns as campaigns_table, messages};

use crate::campaigns::{add_matching, create_campaign};
use crate::helpers::{Backend, TestApp, csrf_on, demo_app, location, signed_in, texts};
use crate::on_both_backends;

on_both_backends!(
    adding_recipients_redirects_to_the_page_with_the_dialog,
    the_send_button_counts_who_is_sent_and_who_is_skipped,
    a_send_without_the_confirmation_sends_nothing,
);

const NINA: &str = "nina.patel@acme.example";
const CARL: &str = "carl.jensen@acme.example";
/// Opted out at user level for Nina, at group level, of Newsletters, and of nothing.
const RENEE: &str = "renee.darc@example.fr";
const SIOBHAN: &str = "siobhan.obrien@example.ie";
const ZOE: &str = "zoe@xn--mller-kva.example";
/// Zoë's address as staff pages show it.
const ZOE_SHOWN: &str = "zoe@müller.example";
const PAT: &str = "o'brien@example.ie";

fn contact_of(app: &TestApp, owner: &str, email: &str) -> String {
    use optouts::db::schema::{contacts, users};
    contacts::table
        .inner_join(users::table)
        .filter(users::email.eq(owner))
        .filter(contacts::email.eq(email))
        .select(contacts::id)
        .first::<i64>(&mut *app.conn())
        .unwrap()
        .to_string()
}

fn recipients_of(app: &TestApp, campaign: i64) -> i64 {
    campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign))
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

fn queued(app: &TestApp) -> i64 {
    messages::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn add_ticked(
    app: &TestApp,
    client: &reqwest::Client,
    campaign: i64,
    contacts: &[&str],
) -> reqwest::Response {
    let token = csrf_on(app, client, "/campaigns").await;
    let mut form = vec![("csrf_token", token.as_str()), ("add", "ticked")];
    form.extend(contacts.iter().map(|c| ("contact", *c)));
    app.post_form_with(client, &format!("/campaigns/{campaign}/recipients"), &form)
        .await
}

async fn adding_recipients_redirects_to_the_page_with_the_dialog(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Autumn").await;
    let ticked: Vec<String> = [PAT, RENEE, SIOBHAN, ZOE]
        .iter()
        .map(|e| contact_of(&app, NINA, e))
        .collect();
    let ticked: Vec<&str> = ticked.iter().map(String::as_str).collect();

    let response = add_ticked(&app, &nina, campaign, &ticked).await;
    assert_eq!(response.status(), 303);
    let page = location(&response);
    assert!(
        page.starts_with(&format!("/campaigns/{campaign}?added=")),
        "{page}"
    );
    // The page exists and shows the dialog; opening it again (a reload) shows the same and
    // adds nothing.
    for _ in 0..2 {
        let response = app.get_with(&nina, &page).await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert_eq!(
            texts(&html, "#dialog-title"),
            ["Some contacts have opted out"]
        );
        assert!(texts(&html, "dialog p").contains(&"4 contacts added.".to_owned()));
        assert_eq!(
            texts(&html, "dialog .blocked li"),
            [
                format!("{RENEE} Opted out · User"),
                format!("{SIOBHAN} Opted out · Group"),
                format!("{ZOE_SHOWN} Opted out · Client"),
            ]
        );
        assert_eq!(recipients_of(&app, campaign), 4);
    }

    // The same contacts again: nothing new, and the page says so.
    let response = add_ticked(&app, &nina, campaign, &ticked).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("/campaigns/{campaign}?added=none")
    );
    let html = app
        .get_with(&nina, &location(&response))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, "#dialog-title"), ["Contacts added"]);
    assert!(
        texts(&html, "dialog p")
            .contains(&"No new contacts: every one you chose is already on the list.".to_owned())
    );

    // A damaged address is refused; an admin who looks sees no dialog meant for the sender.
    let damaged = app
        .get_with(&nina, &format!("/campaigns/{campaign}?added=yesterday"))
        .await;
    assert_eq!(damaged.status(), 400);
    let carl = signed_in(&app, CARL).await;
    let html = app.get_with(&carl, &page).await.text().await.unwrap();
    assert!(texts(&html, "dialog").is_empty());
}

async fn the_send_button_counts_who_is_sent_and_who_is_skipped(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Everyone").await;
    // All 45 of Nina's contacts; 5 are opted out for her (2 group, 1 client, 2 user level).
    add_matching(&app, &nina, campaign, "").await;
    let path = format!("/campaigns/{campaign}");
    let html = app.get_with(&nina, &path).await.text().await.unwrap();
    let label = "Send to 40 contacts (5 opted out will be skipped)";
    assert_eq!(texts(&html, ".send-button"), [label]);
    assert!(
        texts(&html, "form[action$='/send']").is_empty(),
        "the campaign page itself does not send"
    );

    let before = queued(&app);
    let response = app.get_with(&nina, &format!("{path}/send")).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "#send-question"), [label]);
    assert_eq!(texts(&html, "#confirm-recipients"), ["45"]);
    assert_eq!(texts(&html, "#confirm-sendable"), ["40"]);
    assert_eq!(texts(&html, "#confirm-suppressed"), ["5"]);
    assert_eq!(
        texts(&html, "form.send-form input[name=confirm]").len(),
        1,
        "the form carries the confirmation"
    );
    assert_eq!(queued(&app), before, "asking sends nothing");
}

async fn a_send_without_the_confirmation_sends_nothing(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Everyone").await;
    add_matching(&app, &nina, campaign, "").await;
    let path = format!("/campaigns/{campaign}/send");
    let token = csrf_on(&app, &nina, "/campaigns").await;
    for unconfirmed in [vec![], vec![("confirm", "")], vec![("confirm", "yes")]] {
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend(unconfirmed.iter().copied());
        let response = app.post_form_with(&nina, &path, &form).await;
        assert_eq!(response.status(), 422, "{unconfirmed:?}");
        let html = response.text().await.unwrap();
        assert!(texts(&html, "#send-error")[0].starts_with("Nothing was sent"));
        assert_eq!(
            texts(&html, "#send-question"),
            ["Send to 40 contacts (5 opted out will be skipped)"]
        );
        assert_eq!(queued(&app), 0, "nothing queued");
        let status: String = campaigns_table::table
            .filter(campaigns_table::id.eq(campaign))
            .select(campaigns_table::status)
            .first(&mut *app.conn())
            .unwrap();
        assert_eq!(status, "draft");
    }
    let response = app
        .post_form_with(&nina, &path, &[("csrf_token", &token), ("confirm", "1")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/campaigns/{campaign}?sent=1"));
    assert_eq!(queued(&app), 40);
    // Sent: the question is gone, its address leads to the campaign.
    let response = app.get_with(&nina, &path).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/campaigns/{campaign}"));
}
