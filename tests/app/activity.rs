//! Admin › Activity › Opt outs: scoping, filters, keyset pages, CSV export and import.

use crate::helpers::{Backend, TestApp, csrf_token_in, demo_app, signed_in, texts};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::activity::{self, ActivityFilter, ActivityScope};
use optouts::db::schema::{consent_events, opt_outs};
use optouts::domain::GroupId;

const GRACE: &str = "grace.hopper@acme.example";
const CARL: &str = "carl.jensen@acme.example";
const SASHA: &str = "sasha.support@optouts.example";

on_both_backends!(
    each_admin_sees_exactly_their_scope,
    every_filter_narrows_the_list,
    pages_with_equal_timestamps_lose_nothing,
    export_chunks_hold_every_row_once_in_page_order,
    csv_export_quotes_and_neutralises_formulas,
    import_previews_then_commits_once_and_only_in_scope,
);

/// (address, level) of every row on every page, following the "Older" links.
async fn all_rows(app: &TestApp, client: &reqwest::Client, first: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut path = first.to_owned();
    for _ in 0..100 {
        let response = app.get_with(client, &path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        let document = scraper::Html::parse_document(&html);
        let row = scraper::Selector::parse("tr.opt-out").unwrap();
        let cell = |tr: scraper::ElementRef, css: &str| {
            tr.select(&scraper::Selector::parse(css).unwrap())
                .next()
                .unwrap()
                .text()
                .collect::<String>()
        };
        rows.extend(
            document
                .select(&row)
                .map(|tr| (cell(tr, ".address"), cell(tr, ".level"))),
        );
        match document
            .select(&scraper::Selector::parse(r#"a[rel="next"]"#).unwrap())
            .next()
        {
            Some(next) => path = next.value().attr("href").unwrap().to_owned(),
            None => return rows,
        }
    }
    panic!("too many pages");
}

async fn import_csv(
    app: &TestApp,
    client: &reqwest::Client,
    csv: &str,
    mode: &str,
) -> reqwest::Response {
    let page = app
        .get_with(client, "/admin/activity/opt-outs/import")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&page);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("mode", mode.to_owned());
    let form = if mode == "commit" {
        form.text("csv_text", csv.to_owned())
            .text("file_name", "list.csv")
    } else {
        form.part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
        )
    };
    client
        .post(app.url("/admin/activity/opt-outs/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn count_opt_outs(app: &TestApp) -> i64 {
    opt_outs::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn each_admin_sees_exactly_their_scope(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let all = all_rows(&app, &grace, "/admin/activity/opt-outs").await;
    assert_eq!(
        all.len() as i64,
        count_opt_outs(&app),
        "a group admin sees the whole group"
    );
    let page = app
        .get_with(&grace, "/admin/activity/opt-outs")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&page, "#match-count"),
        [format!("{} opt-outs match.", all.len())]
    );

    // Carl (client admin, Newsletters): group-level rows, Newsletters' client level and its
    // users' user level; nothing of Events or Tax.
    let carl = signed_in(&app, CARL).await;
    let seen = all_rows(&app, &carl, "/admin/activity/opt-outs").await;
    let levels: Vec<&str> = seen.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(levels.iter().filter(|l| **l == "Group").count(), 2);
    assert_eq!(
        levels.iter().filter(|l| **l == "Client").count(),
        1,
        "zoe at Newsletters, not yamada at Events"
    );
    // User level: one per Newsletters sender (Carl, Nina, Omar) plus Nina's renee.
    assert_eq!(
        levels.iter().filter(|l| **l == "User").count(),
        4,
        "{seen:?}"
    );
    assert!(!seen.iter().any(|(a, _)| a == "yamada@example.jp"));

    // Users do not reach the page; support chooses a group.
    let nina = signed_in(&app, "nina.patel@acme.example").await;
    assert_eq!(
        app.get_with(&nina, "/admin/activity/opt-outs")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_with(&nina, "/admin/activity/opt-outs.csv")
            .await
            .status(),
        404
    );
    let sasha = signed_in(&app, SASHA).await;
    let html = app
        .get_with(&sasha, "/admin/activity/opt-outs")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, "tr.opt-out").len(), all.len());
    assert_eq!(
        app.get_with(&sasha, "/admin/activity/opt-outs?group=999999")
            .await
            .status(),
        404
    );
}

async fn every_filter_narrows_the_list(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let rows = |path: &'static str| {
        let grace = grace.clone();
        let app = &app;
        async move { all_rows(app, &grace, path).await }
    };
    let group = rows("/admin/activity/opt-outs?level=group").await;
    let mut addresses: Vec<&str> = group.iter().map(|(a, _)| a.as_str()).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        ["script@example.com", "siobhan.obrien@example.ie"]
    );
    assert_eq!(
        rows("/admin/activity/opt-outs?source=one_click").await,
        [("script@example.com".to_owned(), "Group".to_owned())]
    );
    assert_eq!(
        rows("/admin/activity/opt-outs?q=SIOB").await.len(),
        1,
        "address prefix, case-insensitive"
    );
    assert_eq!(
        rows("/admin/activity/opt-outs?q=%25").await.len(),
        0,
        "wildcards are literal"
    );
    let tax: i64 = optouts::db::schema::clients::table
        .filter(optouts::db::schema::clients::name.eq("Tax"))
        .select(optouts::db::schema::clients::id)
        .first(&mut *app.conn())
        .unwrap();
    let tax_rows = all_rows(
        &app,
        &grace,
        &format!("/admin/activity/opt-outs?client={tax}"),
    )
    .await;
    assert_eq!(
        tax_rows.len(),
        2,
        "the two Tax users' user-level opt-outs: {tax_rows:?}"
    );
    // A browser submits every field of the filter form, the ones left on "Any" empty.
    assert_eq!(
        all_rows(
            &app,
            &grace,
            "/admin/activity/opt-outs?level=group&client=&user=&source=&from=&to=&q="
        )
        .await,
        group,
        "empty fields are no filter"
    );
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let everything = all_rows(&app, &grace, "/admin/activity/opt-outs")
        .await
        .len();
    assert_eq!(
        all_rows(
            &app,
            &grace,
            &format!("/admin/activity/opt-outs?from={today}&to={today}")
        )
        .await
        .len(),
        everything
    );
    assert!(
        all_rows(
            &app,
            &grace,
            &format!("/admin/activity/opt-outs?from={tomorrow}")
        )
        .await
        .is_empty()
    );
    assert_eq!(
        app.get_with(&grace, "/admin/activity/opt-outs?from=yesterday")
            .await
            .status(),
        400
    );
    let nina: i64 = optouts::db::schema::users::table
        .filter(optouts::db::schema::users::email.eq("nina.patel@acme.example"))
        .select(optouts::db::schema::users::id)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(
        all_rows(
            &app,
            &grace,
            &format!("/admin/activity/opt-outs?user={nina}")
        )
        .await
        .len(),
        2
    );
}

async fn pages_with_equal_timestamps_lose_nothing(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    // 130 group-level opt-outs all given on the same day: equal timestamps across page edges.
    let mut csv = String::from("address,level,date\n");
    for n in 0..130 {
        csv.push_str(&format!("same{n:03}@example.com,group,2026-01-15\n"));
    }
    let response = import_csv(&app, &grace, &csv, "commit").await;
    assert_eq!(response.status(), 200);
    let rows = all_rows(&app, &grace, "/admin/activity/opt-outs?q=same").await;
    assert_eq!(rows.len(), 130);
    let unique: std::collections::HashSet<_> = rows.iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(
        unique.len(),
        130,
        "no row repeated or lost at page boundaries"
    );
}

/// The export reads differently per backend (PostgreSQL: one statement streamed row by row;
/// SQLite: keyset pages): with chunks of 7 over 130+ rows both must hand over exactly the rows,
/// in the order, that the pages show.
async fn export_chunks_hold_every_row_once_in_page_order(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let mut csv = String::from("address,level,date\n");
    for n in 0..130 {
        csv.push_str(&format!("chunk{n:03}@example.com,group,2026-01-15\n"));
    }
    assert_eq!(import_csv(&app, &grace, &csv, "commit").await.status(), 200);
    let mut conn = app.conn();
    let group: i64 = opt_outs::table
        .select(opt_outs::group_id)
        .first(&mut *conn)
        .unwrap();
    let scope = ActivityScope::Group(GroupId(group));
    let filter = ActivityFilter::default();
    let every_row = activity::page(&mut conn, scope, &filter, None, 100_000).unwrap();
    assert!(every_row.len() > 130, "{}", every_row.len());

    let mut chunks = Vec::new();
    let total = activity::for_each_chunk(&mut conn, scope, &filter, 7, |rows| {
        chunks.push(rows.iter().map(|r| r.id).collect::<Vec<_>>());
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    assert_eq!(total, every_row.len());
    assert!(chunks.iter().all(|c| c.len() <= 7));
    let exported: Vec<_> = chunks.concat();
    let paged: Vec<_> = every_row.iter().map(|r| r.id).collect();
    assert_eq!(exported, paged);
}

async fn csv_export_quotes_and_neutralises_formulas(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    // `=` is allowed in an address's local part: such an address must come out neutralised.
    let csv = "address,level,reason\n=cmd@example.com,group,\"=HYPERLINK(\"\"http://evil\"\")\"\nquote@example.com,group,\"a \"\"quoted\"\", comma, and\nnew line\"\nplus@example.com,group,+1 555\nutf8@example.com,group,Zoë 名前\n";
    let preview = import_csv(&app, &grace, csv, "preview")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&preview, "#will-add"), ["4 will be added"]);
    assert_eq!(import_csv(&app, &grace, csv, "commit").await.status(), 200);

    let response = app
        .get_with(&grace, "/admin/activity/opt-outs.csv?level=group")
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        optouts::service::export::HEADER
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        records.len(),
        6,
        "the same filter as the page: 2 demo + 4 imported group-level rows"
    );
    let reason_of =
        |address: &str| records.iter().find(|r| &r[0] == address).unwrap()[5].to_owned();
    assert_eq!(
        reason_of("'=cmd@example.com"),
        "'=HYPERLINK(\"http://evil\")"
    );
    assert_eq!(
        reason_of("quote@example.com"),
        "a \"quoted\", comma, and\nnew line"
    );
    assert_eq!(reason_of("plus@example.com"), "'+1 555");
    assert_eq!(reason_of("utf8@example.com"), "Zoë 名前", "UTF-8 intact");
}

async fn import_previews_then_commits_once_and_only_in_scope(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let carl = signed_in(&app, CARL).await;
    let csv = "address,level,client,user,reason,date\n\
               new1@example.com,client,Newsletters,,asked by letter,2026-03-01\n\
               new2@example.com,user,,nina.patel@acme.example,,\n\
               zoe@müller.example,client,Newsletters,,,\n\
               bad-address,client,Newsletters,,,\n\
               new3@example.com,group,,,,\n\
               new4@example.com,client,Events,,,\n\
               new5@example.com,planet,,,,\n\
               new6@example.com,user,,nobody@acme.example,,\n\
               new7@example.com,client,Newsletters,,,2999-01-01\n";
    let before = (
        count_opt_outs(&app),
        consent_events::table
            .count()
            .get_result::<i64>(&mut *app.conn())
            .unwrap(),
    );
    let response = import_csv(&app, &carl, csv, "preview").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "#will-add"), ["2 will be added"]);
    assert_eq!(texts(&html, "#already-present"), ["1 are already present"]);
    let invalid: Vec<String> = texts(&html, "tr.invalid-row td:first-child");
    assert_eq!(invalid, ["5", "6", "7", "8", "9", "10"]);
    let reasons = texts(&html, "tr.invalid-row td:last-child");
    assert!(
        reasons[1].contains("Outside your scope"),
        "group level is not Carl's: {reasons:?}"
    );
    assert!(
        reasons[2].contains("Outside your scope"),
        "Events is not Carl's: {reasons:?}"
    );
    assert_eq!(
        (
            count_opt_outs(&app),
            consent_events::table
                .count()
                .get_result::<i64>(&mut *app.conn())
                .unwrap()
        ),
        before,
        "a dry run changes nothing"
    );

    let committed = import_csv(&app, &carl, csv, "commit")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&committed, "#import-done"),
        ["Imported: 2 opt-outs added."]
    );
    assert_eq!(count_opt_outs(&app), before.0 + 2);
    let (source, evidence, created): (String, Option<String>, chrono::NaiveDateTime) =
        opt_outs::table
            .inner_join(consent_events::table.on(consent_events::email.eq(opt_outs::email)))
            .filter(opt_outs::email.eq("new1@example.com"))
            .select((
                opt_outs::source,
                consent_events::evidence,
                opt_outs::created_at,
            ))
            .first(&mut *app.conn())
            .unwrap();
    assert_eq!(source, "import");
    assert!(evidence.unwrap().contains("list.csv"));
    assert_eq!(created.date().to_string(), "2026-03-01");
    // Importing the same file again adds nothing.
    let again = import_csv(&app, &carl, csv, "commit")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&again, "#import-done"),
        ["Imported: 0 opt-outs added."]
    );
    assert_eq!(count_opt_outs(&app), before.0 + 2);

    // A broken header, and a file over the size limit, get clear messages.
    let response = import_csv(&app, &carl, "email;kind\nx;y\n", "preview").await;
    assert_eq!(response.status(), 422);
    assert!(texts(&response.text().await.unwrap(), "#import-error")[0].contains("address"));
    let huge = format!("address,level\n{}", "x@example.com,group\n".repeat(300_000));
    let response = import_csv(&app, &carl, &huge, "preview").await;
    assert_eq!(response.status(), 422);
    assert!(
        texts(&response.text().await.unwrap(), "#import-error")[0].contains("larger than 5 MB")
    );
    // Users cannot import.
    let nina = signed_in(&app, "nina.patel@acme.example").await;
    assert_eq!(
        app.get_with(&nina, "/admin/activity/opt-outs/import")
            .await
            .status(),
        404
    );
}

/// The "lifted" view lists opt-outs that were lifted, from the event log, within the same
/// scope rules; the export follows it.
#[actix_web::test]
async fn lifted_opt_outs_are_listed_from_the_event_log() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = demo_app(backend).await else {
            continue;
        };
        let group = optouts::db::accounts::find_group_by_name(&mut app.conn(), "Acme Holdings")
            .unwrap()
            .unwrap();
        let email = optouts::domain::EmailAddress::parse("siobhan.obrien@example.ie").unwrap();
        let group_level: Vec<optouts::domain::OptOutId> =
            optouts::db::opt_outs::everywhere(&mut app.conn(), email.as_str())
                .unwrap()
                .iter()
                .filter(|o| o.opt_out.scope == optouts::domain::Scope::Group(group.id))
                .map(|o| o.opt_out.id)
                .collect();
        let support = optouts::db::accounts::find_user_by_email(
            &mut app.conn(),
            &optouts::domain::EmailAddress::parse("sasha.support@optouts.example").unwrap(),
        )
        .unwrap()
        .unwrap();
        let lifted = optouts::db::opt_outs::lift_on_written_consent(
            &mut app.conn(),
            &email,
            &group_level,
            support.id,
            "{\"written_consent\":{\"reference\":\"T-1\"}}",
        )
        .unwrap();
        assert_eq!(lifted.len(), 1);
        let grace = signed_in(&app, GRACE).await;
        let active = all_rows(&app, &grace, "/admin/activity/opt-outs").await;
        assert!(!active.iter().any(|(a, _)| a == "siobhan.obrien@example.ie"));
        let lifted_rows = all_rows(&app, &grace, "/admin/activity/opt-outs?lifted=1").await;
        assert_eq!(
            lifted_rows,
            [("siobhan.obrien@example.ie".to_owned(), "Group".to_owned())]
        );
        let csv = app
            .get_with(&grace, "/admin/activity/opt-outs.csv?lifted=1")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("siobhan.obrien@example.ie,group,Acme Holdings,support,"),
            "{csv}"
        );
        // A client admin sees group-level lifted rows too (read-only), a user nothing.
        let carl = signed_in(&app, CARL).await;
        assert_eq!(
            all_rows(&app, &carl, "/admin/activity/opt-outs?lifted=1")
                .await
                .len(),
            1
        );
    }
}
