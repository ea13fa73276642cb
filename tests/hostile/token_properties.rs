//! Properties of the token verifier: no string that was not signed verifies, no mutation of a
//! signed token verifies (except leaving it as it was), and nothing makes it panic. Over HTTP:
//! arbitrary strings as link tokens never answer 5xx and never change anything.

use crate::flows::{footprint, queued_messages};
use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use optouts::domain::MessageId;
use optouts::tokens::{Purpose, SigningKeys};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Whether any verifier accepts the token, for any purpose.
fn verifies_anywhere(keys: &SigningKeys, token: &str) -> bool {
    keys.verify_unsubscribe_token(token).is_ok()
        || keys.verify_opt_in_token(token).is_ok()
        || keys
            .verify::<serde_json::Value>(Purpose::Session, token)
            .is_ok()
}

/// One edit to a token's text.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
    Truncate(usize),
    /// Flips one bit of one byte (may leave the base64 alphabet).
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let any_char = prop_oneof![
        // Mostly characters a token is made of, so mutations reach the decoder and the MAC.
        4 => proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"
                .chars()
                .collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), any_char.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        (any::<usize>(), any_char).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::FlipBit(i, bit)),
    ]
}

fn apply(token: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let len = chars.len();
    match *mutation {
        Mutation::Replace(i, c) => chars[i % len] = c,
        Mutation::Insert(i, c) => chars.insert(i % (len + 1), c),
        Mutation::Delete(i) => {
            chars.remove(i % len);
        }
        Mutation::Truncate(i) => chars.truncate(i % len),
        Mutation::FlipBit(i, bit) => {
            let flipped = (chars[i % len] as u32) ^ (1 << bit);
            chars[i % len] = char::from_u32(flipped).unwrap_or('\u{fffd}');
        }
    }
    chars.into_iter().collect()
}

fn signed_tokens(keys: &SigningKeys) -> [String; 3] {
    [
        keys.unsubscribe_token(MessageId(42)),
        keys.opt_in_token(MessageId(42), optouts::domain::OptOutId(42)),
        keys.opt_in_request_token(MessageId(42)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_verify(text in any::<String>()) {
        let keys = SigningKeys::generate().unwrap();
        prop_assert!(!verifies_anywhere(&keys, &text));
    }

    #[test]
    fn token_shaped_strings_never_verify(
        text in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,60}"
    ) {
        let keys = SigningKeys::generate().unwrap();
        prop_assert!(!verifies_anywhere(&keys, &text));
    }

    #[test]
    fn mutated_tokens_never_verify(
        which in 0usize..3,
        edits in proptest::collection::vec(mutation(), 1..4),
    ) {
        let keys = SigningKeys::generate().unwrap();
        let original = signed_tokens(&keys)[which].clone();
        let mutated = edits.iter().fold(original.clone(), |token, edit| {
            if token.is_empty() { token } else { apply(&token, edit) }
        });
        if mutated == original {
            // The identity: the one "mutation" that must still verify.
            prop_assert!(verifies_anywhere(&keys, &mutated));
        } else {
            prop_assert!(!verifies_anywhere(&keys, &mutated), "{mutated}");
        }
    }
}

on_both_backends!(arbitrary_link_tokens_never_fail_the_server);

/// Arbitrary strings (percent-encoded into the path) on every link endpoint: always a 4xx
/// answer, never a 5xx, and nothing recorded.
async fn arbitrary_link_tokens_never_fail_the_server(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let sent = queued_messages(&app).await;
    let genuine = app.config.signing_keys.unsubscribe_token(sent[0]);
    let to_mutate = genuine.clone();
    let mut runner = TestRunner::deterministic();
    let strategy = prop_oneof![
        any::<String>().boxed(),
        mutation()
            .prop_map(move |edit| apply(&to_mutate, &edit))
            .boxed(),
    ];
    let bare = reqwest::Client::new();
    let before = footprint(&app);
    for _ in 0..40 {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if text.is_empty() || text == genuine {
            continue;
        }
        let segment: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        for (method, path, body) in [
            ("GET", format!("/u/{segment}"), ""),
            ("POST", format!("/u/{segment}"), "level=group"),
            (
                "POST",
                format!("/u/{segment}"),
                "List-Unsubscribe=One-Click",
            ),
            ("POST", format!("/u/{segment}/undo"), "level=group"),
            ("GET", format!("/opt-in/{segment}"), ""),
            ("POST", format!("/opt-in/{segment}"), ""),
        ] {
            let request = if method == "GET" {
                bare.get(app.url(&path))
            } else {
                bare.post(app.url(&path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
            };
            let status = request.send().await.unwrap().status();
            assert!(
                status.is_client_error(),
                "{method} {path} answered {status}"
            );
        }
    }
    assert_eq!(
        footprint(&app),
        before,
        "no link made of noise changed anything"
    );
}
