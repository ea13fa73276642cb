//! `List-Id` through a real SMTP server: a mailbox provider treats one `List-Id` as one list,
//! so after a recipient's one-click unsubscribe no more mail with that `List-Id` may reach
//! them. The list is therefore exactly the scope the one-click POST stops: the sender at user
//! level (the default), the client at client level, the group at group level.

use crate::campaigns::{CampaignText, add_matching, app_sending_to, create_campaign_with, send};
use crate::helpers::{Backend, TestApp, csrf_on, one_click, signed_in};
use crate::on_both_backends;
use crate::seed;
use crate::smtp::{Received, SmtpServer};
use diesel::prelude::*;
use optouts::db::schema::messages;
use optouts::db::{accounts, preference_settings};
use optouts::domain::preferences::Overrides;
use optouts::domain::{EmailAddress, Level, Role, Sender};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

on_both_backends!(
    any_name_makes_a_list_id_that_reads_back_as_it_is,
    after_a_user_level_one_click_no_mail_of_that_list_reaches_the_address,
    after_a_client_level_one_click_no_mail_of_that_list_reaches_the_address,
    after_a_group_level_one_click_no_mail_of_that_list_reaches_the_address,
);

const NINA: &str = "nina.patel@acme.example";
/// Nina's colleague: the same client (Newsletters).
const OMAR: &str = "omar.haddad@acme.example";
/// Another client of the same group (Events).
const EVA: &str = "eva.lindqvist@acme.example";
const SENDERS: [&str; 3] = [NINA, OMAR, EVA];
/// A demo contact every sender has, and no demo opt-out touches.
const JANE: &str = "jane+news@example.com";

/// A group, client and sender whose names hold everything a header phrase cannot carry as it
/// is; one email at each one-click level. Python's RFC 5322 parser reads each `List-Id` back
/// with the name of exactly that level, and the label after it.
async fn any_name_makes_a_list_id_that_reads_back_as_it_is(backend: Backend) {
    const GROUP: &str = r#"Acme "Holdings" \ Ünited; a@b"#;
    const CLIENT: &str = r#"Tax, Legal (EU) "Müller""#;
    const USER: &str = "Zoë O'Hara <Sales>: Müller & Söhne, (Events)";
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let sender = awkwardly_named_sender(&app, GROUP, CLIENT, USER);
    let worker = app.start_worker();
    let (user, client, group) = (sender.user_id, sender.client_id, sender.group_id);
    let host = "127.0.0.1";
    let expected = [
        (
            Level::User,
            USER,
            format!("<user-{user}.client-{client}.group-{group}.{host}>"),
        ),
        (
            Level::Client,
            CLIENT,
            format!("<client-{client}.group-{group}.{host}>"),
        ),
        (Level::Group, GROUP, format!("<group-{group}.{host}>")),
    ];
    for (n, (level, phrase, label)) in expected.iter().enumerate() {
        let overrides = Overrides {
            one_click_level: Some(*level),
            ..Overrides::default()
        };
        // In the group's defaults: only they may make one-click group-wide.
        preference_settings::save(
            &mut app.conn(),
            sender.group_id,
            None,
            &overrides,
            sender.user_id,
        )
        .unwrap();
        let to = format!("pat@{level}-level.example");
        seed::queued_campaign(&mut app.conn(), &sender, std::slice::from_ref(&to));
        let received = smtp.wait_for(n + 1).await;
        let message = received
            .iter()
            .find(|m| m.header("to") == to)
            .expect("the email arrived");
        let list_id = message.list_id.as_ref().expect("a List-Id");
        assert_eq!(list_id.phrase, *phrase, "{level}: {list_id:?}");
        assert_eq!(list_id.rest, *label, "{level}: {list_id:?}");
        assert!(list_id.defects.is_empty(), "{level}: {list_id:?}");
        // The decoded header as a whole, too: the phrase and the label, nothing lost.
        assert!(message.header("list-id").ends_with(label.as_str()));
    }
    worker.stop().await;
}

/// A new group, client and sending user with these names.
fn awkwardly_named_sender(app: &TestApp, group: &str, client: &str, user: &str) -> Sender {
    let mut conn = app.conn();
    let group = accounts::create_group(&mut conn, group).unwrap();
    let client = accounts::create_client(&mut conn, group.id, client).unwrap();
    let email = EmailAddress::parse("zoe.ohara@tax.example").unwrap();
    let user = accounts::create_user(
        &mut conn,
        &accounts::NewStaffUser {
            email: &email,
            display_name: user,
            role: Role::User,
            group_id: Some(group.id),
            client_id: Some(client.id),
            password_hash: "not used: this sender never signs in",
        },
    )
    .unwrap();
    Sender {
        user_id: user,
        client_id: client.id,
        group_id: group.id,
    }
}

async fn after_a_user_level_one_click_no_mail_of_that_list_reaches_the_address(backend: Backend) {
    // The defaults: one-click stops the sender only. Nina's colleague and Eva still write to
    // Jane, each under a list of their own.
    one_click_stops_its_list(backend, None, [0, 1, 2], &[OMAR, EVA]).await;
}

async fn after_a_client_level_one_click_no_mail_of_that_list_reaches_the_address(backend: Backend) {
    // Carl, the Newsletters client admin, sets one-click to stop the whole client: Nina and
    // Omar share one list, Eva (Events) has another and still writes.
    let carl = "carl.jensen@acme.example";
    let form = [
        ("override_group", "1"),
        ("level_user", "1"),
        ("level_client", "1"),
        ("one_click_level", "client"),
    ];
    one_click_stops_its_list(backend, Some((carl, &form)), [0, 0, 1], &[EVA]).await;
}

async fn after_a_group_level_one_click_no_mail_of_that_list_reaches_the_address(backend: Backend) {
    // Grace, the group admin, sets one-click to stop the whole group: one list for everyone,
    // and after the click nobody in the group writes to Jane.
    let grace = "grace.hopper@acme.example";
    let form = [
        ("level_user", "1"),
        ("level_group", "1"),
        ("one_click_level", "group"),
    ];
    one_click_stops_its_list(backend, Some((grace, &form)), [0, 0, 0], &[]).await;
}

/// Each of SENDERS emails Jane; `lists` says which of their emails share a `List-Id` (equal
/// numbers: the same list). Jane one-clicks Nina's email; then every sender emails her again:
/// no email that arrives afterwards carries the clicked `List-Id`, and exactly `still_sending`
/// send her campaign email.
async fn one_click_stops_its_list(
    backend: Backend,
    settings: Option<(&str, &[(&str, &str)])>,
    lists: [usize; 3],
    still_sending: &[&str],
) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    if let Some((admin, form)) = settings {
        save_preference_settings(&app, admin, form).await;
    }
    let worker = app.start_worker();

    let before = campaign_round(&app, &smtp, "Before", &HashSet::new()).await;
    let ids: Vec<&str> = SENDERS.iter().map(|s| list_label(&before[*s])).collect();
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert_eq!(
            ids[i] == ids[j],
            lists[i] == lists[j],
            "{} and {}: List-Ids {ids:?}",
            SENDERS[i],
            SENDERS[j]
        );
    }
    let clicked = &before[NINA];
    let response = one_click(&reqwest::Client::new(), &unsubscribe_url(clicked)).await;
    assert_eq!(response.status(), 200);

    let seen: HashSet<String> = smtp
        .messages()
        .iter()
        .map(|m| m.header("message-id").to_owned())
        .collect();
    let after = campaign_round(&app, &smtp, "After", &seen).await;
    worker.stop().await;
    for (sender, message) in &after {
        assert_ne!(
            list_label(message),
            list_label(clicked),
            "{sender}'s email after the one-click is on the list Jane left"
        );
    }
    let mut senders: Vec<&str> = after.keys().copied().collect();
    senders.sort_unstable();
    let mut expected = still_sending.to_vec();
    expected.sort_unstable();
    assert_eq!(senders, expected, "who still emails Jane");
}

/// The admin saves the Preference Center settings form (`form` besides the CSRF token).
async fn save_preference_settings(app: &TestApp, admin: &str, form: &[(&str, &str)]) {
    let admin = signed_in(app, admin).await;
    let path = "/admin/settings/preference-center";
    let token = csrf_on(app, &admin, path).await;
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    let response = app.post_form_with(&admin, path, &fields).await;
    assert_eq!(response.status(), 303, "settings saved");
}

/// Every sender sends Jane a campaign named `name`; waits until the outbox has settled and
/// returns the campaign emails Jane received that are not in `seen`, by sender.
async fn campaign_round(
    app: &TestApp,
    smtp: &SmtpServer,
    name: &str,
    seen: &HashSet<String>,
) -> HashMap<&'static str, Received> {
    for sender in SENDERS {
        let client = signed_in(app, sender).await;
        let text = CampaignText {
            name,
            subject: &format!("{name} from {sender}"),
            from_name: sender,
            body_text: "Hello!",
        };
        let campaign = create_campaign_with(app, &client, &text).await;
        add_matching(app, &client, campaign, JANE).await;
        send(app, &client, campaign).await;
    }
    settle(app, smtp).await;
    let mut by_sender = HashMap::new();
    for message in smtp.messages() {
        let new = !seen.contains(message.header("message-id"));
        if new && message.headers.contains_key("list-unsubscribe") {
            assert_eq!(message.header("to"), JANE);
            let sender = SENDERS
                .into_iter()
                .find(|s| message.header("subject").ends_with(s))
                .expect("a campaign of this round");
            assert!(by_sender.insert(sender, message).is_none(), "one each");
        }
    }
    by_sender
}

/// Waits until the worker has handled every queued email and the SMTP server holds all that
/// were sent.
async fn settle(app: &TestApp, smtp: &SmtpServer) {
    for _ in 0..300 {
        let (open, sent): (i64, i64) = {
            let mut conn = app.conn();
            let count = |statuses: &[&str], conn: &mut optouts::db::DbConnection| {
                messages::table
                    .filter(messages::status.eq_any(statuses.to_vec()))
                    .count()
                    .get_result::<i64>(conn)
                    .unwrap()
            };
            (
                count(&["queued", "sending"], &mut conn),
                count(&["sent"], &mut conn),
            )
        };
        if open == 0 && usize::try_from(sent).unwrap() == smtp.count() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the outbox did not settle");
}

/// The list's identity: the `<...>` part of `List-Id` (the phrase before it only describes it).
fn list_label(message: &Received) -> &str {
    let value = message.header("list-id");
    let start = value.rfind('<').expect("List-Id has a <label>");
    &value[start..]
}

fn unsubscribe_url(message: &Received) -> String {
    message
        .header("list-unsubscribe")
        .trim_matches(['<', '>'])
        .to_owned()
}
